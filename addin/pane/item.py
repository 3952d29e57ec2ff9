"""The open Outlook item as pane.js reads it from Office.js, validated before anything uses it.

pane.js sends the same shape whatever the host (Outlook or the dev harness): who is in the item
and the ids that name it. The body travels only with the requests that read the signature.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from jsonschema import Draft202012Validator

from ..api.schemas import ADDRESS_MAX, RECIPIENTS_MAX, SCHEMAS
from ..errors import ApiError
from ..services.resolve import Recipient, Role

BODY_MAX = 50_000  # characters; the newest message and its signature come first
SUBJECT_MAX = 1_000

_PERSON = SCHEMAS["Recipient"]  # the JSON API's own, so both accept the same people
_PEOPLE = {"type": "array", "items": _PERSON, "maxItems": RECIPIENTS_MAX}

ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "mode"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["message", "appointment"]},
        "mode": {"enum": ["read", "compose"]},
        "subject": {"type": "string", "maxLength": SUBJECT_MAX},
        "mailbox": {"type": "string", "maxLength": ADDRESS_MAX},
        "from": {"oneOf": [_PERSON, {"type": "null"}]},
        "organizer": {"oneOf": [_PERSON, {"type": "null"}]},
        "to": _PEOPLE,
        "cc": _PEOPLE,
        "bcc": _PEOPLE,
        "attendees": _PEOPLE,
        "internet_message_id": {"type": "string", "maxLength": 1_000},
        "conversation_id": {"type": "string", "maxLength": 1_000},
        # Graph's REST ids are about 150 characters; the job's key adds a prefix to it.
        "item_id": {"type": "string", "maxLength": 900},
        "shared": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["owner"],
                    "additionalProperties": False,
                    "properties": {
                        "owner": {"type": "string", "maxLength": ADDRESS_MAX},
                        "permissions": {"type": "integer", "minimum": 0},
                    },
                },
            ]
        },
    },
}
_VALIDATOR = Draft202012Validator(ITEM_SCHEMA)


@dataclass(frozen=True, slots=True)
class Person:
    address: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An email or meeting open in Outlook."""

    type: Literal["message", "appointment"]
    mode: Literal["read", "compose"]
    subject: str = ""
    mailbox: str = ""
    sender: Person | None = None
    organizer: Person | None = None
    to: tuple[Person, ...] = ()
    cc: tuple[Person, ...] = ()
    bcc: tuple[Person, ...] = ()
    attendees: tuple[Person, ...] = ()
    internet_message_id: str = ""
    conversation_id: str = ""
    item_id: str = ""
    shared_owner: str = ""
    people: tuple[Recipient, ...] = field(default=(), repr=False)

    def recipients(self) -> Iterator[Recipient]:
        """Every address of the item with its role, the sender or organizer first."""
        yield from self.people


def parse_item(data: Any) -> OpenItem:
    """Validate pane.js's item and turn it into an `OpenItem`; 400 naming the first problem."""
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "item"
        raise ApiError(
            400,
            "invalid_item",
            f"The item from Outlook is not valid at {where}: "
            f"{error.message}. Reopen the item; if it persists, report it.",
        )

    def person(value: Any) -> Person | None:
        return Person(value["address"], value.get("name", "")) if value else None

    def people(key: str) -> tuple[Person, ...]:
        return tuple(Person(p["address"], p.get("name", "")) for p in data.get(key, []))

    sender, organizer = person(data.get("from")), person(data.get("organizer"))
    lists: dict[str, tuple[Person, ...]] = {k: people(k) for k in ("to", "cc", "bcc", "attendees")}
    roles: list[Recipient] = []
    for single, role in ((sender, "from"), (organizer, "organizer")):
        if single is not None:
            roles.append(Recipient(single.address, single.name, role))  # type: ignore[arg-type]
    list_roles: tuple[tuple[str, Role], ...] = (
        ("to", "to"),
        ("cc", "cc"),
        ("bcc", "bcc"),
        ("attendees", "attendee"),
    )
    for key, list_role in list_roles:
        roles.extend(Recipient(p.address, p.name, list_role) for p in lists[key])
    shared = data.get("shared") or {}
    return OpenItem(
        type=data["type"],
        mode=data["mode"],
        subject=data.get("subject", ""),
        mailbox=data.get("mailbox", ""),
        sender=sender,
        organizer=organizer,
        to=lists["to"],
        cc=lists["cc"],
        bcc=lists["bcc"],
        attendees=lists["attendees"],
        internet_message_id=data.get("internet_message_id", ""),
        conversation_id=data.get("conversation_id", ""),
        item_id=data.get("item_id", ""),
        shared_owner=shared.get("owner", ""),
        people=tuple(roles),
    )
