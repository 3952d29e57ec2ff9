"""Saving emails and meetings on Dataverse: contract requests 7, 8 and 9.

Features
--------
* A save is two round trips: one ``$batch`` read (`read_requests`: is the message saved already,
  by ``messageid`` / ``globalobjectid``; which contacts and which users hold the parties'
  addresses), then, unless it was, one deep-insert POST (`email_body`, `meeting_body`) with the
  parties, the regarding bind and the attachments. Saving the same message again costs the read.
* A party binds to the contact the caller named, else to the one contact holding its address in
  any email column, else to the enabled user whose primary address it is; an address held by
  several contacts, or by nobody, is saved as the address alone (``addressused``).
* Participation: sender 1, to 2, cc 3, bcc 4; meetings: organizer 7, attendees 5 (required).
* The regarding record binds through ``regardingobjectid_<table>_<email|appointment>``; a type
  that cannot be regarded is `Rejected`, an id that is not a GUID `NotFound` (no request), and
  one Dataverse does not hold answers 404 (`NotFound`) to the POST.
* Attachments go in as ``activitymimeattachment`` rows; a file larger than Dataverse's default
  5 MB attachment limit is left out and named in ``skipped_attachments``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import NotFound, Rejected
from ..models import EmailActivity, MeetingActivity, Party, RecordRef
from .contacts import match_request
from .odata import guid, is_guid, json_values, literal, resource, timestamp
from .records import EMAIL_COLUMNS, ENTITY, RecordUrl, Row, text

#: Dataverse's default largest attachment (``MaxUploadFileSize``, 5,120 KB).
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
#: Our record types an activity can be saved against → Dataverse logical names.
REGARDING_TABLES = {
    "account": "account",
    "contact": "contact",
    "opportunity": "opportunity",
    "case": "incident",
}

Kind = Literal["email", "meeting"]
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Parties:
    """Who the parties' addresses belong to: address → contact ids, address → user id."""

    contacts: dict[str, list[str]]
    users: dict[str, str]

    def bind(self, party: Party) -> dict[str, str]:
        """Return the party's bind, if it resolves to exactly one record."""
        address = party.address.strip().lower()
        if party.contact_id and is_guid(party.contact_id):
            return {"partyid_contact@odata.bind": f"/contacts({guid(party.contact_id)})"}
        holders = self.contacts.get(address, [])
        if len(holders) == 1:
            return {"partyid_contact@odata.bind": f"/contacts({holders[0]})"}
        if not holders and address in self.users:
            return {"partyid_systemuser@odata.bind": f"/systemusers({self.users[address]})"}
        return {}


#: Nobody resolved: every party is saved by its address alone.
NO_PARTIES = Parties({}, {})


def saved_request(kind: Kind, message_id: str) -> str:
    """Return the idempotency GET: the activity already saved for ``message_id``, if any."""
    column = "messageid" if kind == "email" else "globalobjectid"
    return resource(
        ENTITY[kind].entity_set,
        {
            "$select": "activityid,subject",
            "$filter": f"{column} eq {literal(message_id)}",
            "$top": "1",
        },
    )


def party_addresses(parties: Sequence[Party]) -> list[str]:
    """Return the parties' distinct addresses, lower-cased, that need resolving."""
    return list(
        dict.fromkeys(
            party.address.strip().lower()
            for party in parties
            if party.address.strip() and not (party.contact_id and is_guid(party.contact_id))
        )
    )


def read_requests(kind: Kind, message_id: str, addresses: Sequence[str]) -> list[str]:
    """Return the GETs of a save's read batch: idempotency, then contacts and users if needed."""
    if not addresses:
        return [saved_request(kind, message_id)]
    users = resource(
        "systemusers",
        {
            "$select": "systemuserid,internalemailaddress",
            "$filter": "Microsoft.Dynamics.CRM.In(PropertyName='internalemailaddress',"
            f"PropertyValues={json_values(addresses)})",
        },
    )
    return [
        saved_request(kind, message_id),
        match_request(addresses, list(EMAIL_COLUMNS.values())),
        users,
    ]


def parties_from(contact_rows: Sequence[Row], user_rows: Sequence[Row]) -> Parties:
    """Return who holds which address, from the read batch's contacts and users."""
    contacts: dict[str, list[str]] = {}
    for row in contact_rows:
        contact_id = text(row, "contactid")
        for column in EMAIL_COLUMNS.values():
            address = text(row, column).lower()
            if address and contact_id not in contacts.setdefault(address, []):
                contacts[address].append(contact_id)
    users = {
        text(row, "internalemailaddress").lower(): text(row, "systemuserid")
        for row in user_rows
        if text(row, "internalemailaddress") and not row.get("isdisabled")
    }
    return Parties(contacts, users)


def saved_ref(kind: Kind, row: Row, url: RecordUrl) -> RecordRef:
    record_id = text(row, "activityid")
    return RecordRef(kind, record_id, text(row, "subject"), url(kind, record_id))


def create_request(kind: Kind) -> str:
    return resource(ENTITY[kind].entity_set, {"$select": "activityid,subject"})


def regarding_bind(kind: Kind, ref: RecordRef | None) -> Json:
    """Return the regarding bind of an email or appointment, checked before any request."""
    if ref is None:
        return {}
    table = REGARDING_TABLES.get(str(ref.type))
    if table is None:
        allowed = ", ".join(REGARDING_TABLES)
        raise Rejected(f"regarding: cannot save against a {ref.type!r} record (only {allowed}).")
    if not is_guid(ref.id):
        raise NotFound(f"No {ref.type} with id {ref.id!r} to save the activity against.")
    entity_set = next(e.entity_set for e in ENTITY.values() if e.logical_name == table)
    suffix = "email" if kind == "email" else "appointment"
    return {f"regardingobjectid_{table}_{suffix}@odata.bind": f"/{entity_set}({guid(ref.id)})"}


def email_body(email: EmailActivity, parties: Parties) -> tuple[Json, tuple[str, ...]]:
    """Return the deep-insert body of an email and the names of the attachments left out."""
    roles = [
        (1, email.sender),
        *((2, party) for party in email.to),
        *((3, party) for party in email.cc),
        *((4, party) for party in email.bcc),
    ]
    attachments = [file for file in email.attachments if len(file.content) <= MAX_ATTACHMENT_BYTES]
    skipped = tuple(file.name for file in email.attachments if file not in attachments)
    body: Json = {
        "subject": email.subject,
        "description": email.body_html,
        "directioncode": email.direction == "outgoing",
        "messageid": email.message_id,
        "actualend": timestamp(email.sent_at),
        **regarding_bind("email", email.regarding),
        "email_activity_parties": _parties(roles, parties),
        "email_activity_mime_attachment": [
            {
                "filename": file.name,
                "mimetype": file.content_type or "application/octet-stream",
                "body": base64.b64encode(file.content).decode("ascii"),
                "objecttypecode": "email",
            }
            for file in attachments
        ],
    }
    return body, skipped


def meeting_body(meeting: MeetingActivity, parties: Parties) -> Json:
    """Return the deep-insert body of an appointment."""
    roles = [(7, meeting.organizer), *((5, party) for party in meeting.attendees)]
    return {
        "subject": meeting.subject,
        "description": meeting.body_html,
        "location": meeting.location,
        "scheduledstart": timestamp(meeting.start),
        "scheduledend": timestamp(meeting.end),
        "globalobjectid": meeting.message_id,
        **regarding_bind("meeting", meeting.regarding),
        "appointment_activity_parties": _parties(roles, parties),
    }


def _parties(roles: Sequence[tuple[int, Party]], parties: Parties) -> list[Json]:
    rows: list[Json] = []
    for mask, party in roles:
        row: Json = {"participationtypemask": mask, **parties.bind(party)}
        if party.address.strip():
            row["addressused"] = party.address.strip()
        if len(row) > 1:  # neither a record nor an address: nothing to save
            rows.append(row)
    return rows
