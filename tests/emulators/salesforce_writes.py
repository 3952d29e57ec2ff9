"""Creating, updating and deleting records as the Salesforce REST API does, with its refusals.

Features
--------
- `Writer.create` checks a body as Salesforce does and stores the record: unknown field →
  INVALID_FIELD ("No such column 'Foo' on sobject of type Contact"); a read-only field →
  INVALID_FIELD_FOR_INSERT_UPDATE; a value of the wrong JSON type → JSON_PARSER_ERROR; a bad
  address in an email field → INVALID_EMAIL_ADDRESS; a required field missing →
  REQUIRED_FIELD_MISSING (``fields`` named); a reference to nothing → INVALID_CROSS_REFERENCE_KEY,
  to the wrong object → FIELD_INTEGRITY_EXCEPTION; a second Event with the same
  ``Sidepane_UID__c`` (the org's unique external id), a second EventRelation for the same event
  and relation, or a taken ``Username`` → DUPLICATE_VALUE.
- Derived fields are kept as Salesforce keeps them: ``Name`` of a Contact or User,
  ``IsClosed``/``IsWon`` of an Opportunity (from ``StageName``), ``IsClosed``, ``CaseNumber`` of
  a Case, ``ContentSize``/``Title`` of a ContentVersion, ``CreatedDate``.
- An EmailMessage's ``ToIds``/``CcIds``/``BccIds`` (Contact or User ids) each become an
  EmailMessageRelation (its ``RelationAddress`` the record's email); each address of
  ``ToAddress``/``CcAddress``/``BccAddress`` not already covered becomes one with no
  ``RelationId``; ``FromAddress`` becomes one whose ``RelationId`` is the org user with that
  address, else the one contact whose ``Email`` it is, else null.
- An Event's ``WhoId`` becomes an EventRelation with ``IsParent`` (not ``IsInvitee``).
- Deleting an EmailMessage or an Event deletes its relations.

Every refusal is an `ApiError`: HTTP status, ``errorCode``, message and ``fields``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .salesforce_objects import NUMBER_TYPES, TEXT_TYPES, Catalog, Field, IdMaker, SObject
from .salesforce_store import Records, Row

CLOSED_STAGES = frozenset({"closed won", "closed lost", "won", "lost"})
WON_STAGES = frozenset({"closed won", "won"})
CLOSED_CASE_STATUSES = frozenset({"closed", "resolved", "cancelled"})
_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")
_ADDRESS_SEPARATOR = re.compile(r"[;,]")
_JUNCTIONS = {"ToIds": "ToAddress", "CcIds": "CcAddress", "BccIds": "BccAddress"}


class ApiError(Exception):
    """A request Salesforce refuses: HTTP status, ``errorCode``, message and fields."""

    def __init__(
        self, status: int, code: str, message: str, fields: tuple[str, ...] | list[str] = ()
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, list(fields)

    def body(self) -> list[dict[str, Any]]:
        """Return the REST API's error body: a JSON array of one error."""
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def now_text() -> str:
    """Return the current time as Salesforce writes date-times."""
    return format_datetime(dt.datetime.now(dt.UTC))


def format_datetime(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


class Writer:
    """Check and apply writes to the records of one org."""

    def __init__(self, catalog: Catalog, records: Records, ids: IdMaker) -> None:
        self.catalog, self.records, self.ids = catalog, records, ids
        self.case_numbers = 1000

    # -- the operations -----------------------------------------------------------------------

    def create(self, sobject: SObject, body: Any) -> Row:
        """Check a create body and store the record; return the new row."""
        if not sobject.createable:
            raise ApiError(
                400,
                "INVALID_TYPE_FOR_OPERATION",
                f"entity type cannot be inserted: {sobject.name}",
            )
        values = self._values(sobject, body, creating=True)
        junctions = {name: values.pop(name) for name in list(values) if name in _JUNCTIONS}
        missing = [name for name in sobject.required if values.get(name) in (None, "")]
        if missing:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        row: Row = {field.name: None for field in sobject.fields if field.selectable}
        row |= values
        row["Id"] = self.ids.new(sobject.key_prefix)
        row["CreatedDate"] = now_text()
        self._derive(sobject, row, creating=True)
        self._check_unique(sobject, row)
        with self.records.transaction():
            stored = self.records.insert(sobject.name, row)
            if sobject.name == "EmailMessage":
                for relation in self._email_relations(stored, junctions):
                    self.records.insert("EmailMessageRelation", relation)
            if sobject.name == "Event" and stored.get("WhoId"):
                self.records.insert(
                    "EventRelation", self._event_relation(stored, stored["WhoId"], parent=True)
                )
        return stored

    def update(self, sobject: SObject, record_id: str, body: Any) -> Row:
        """Check an update body and change the record; return the new row."""
        existing = self.records.get(sobject.name, record_id)
        if existing is None:
            raise not_found()
        values = self._values(sobject, body, creating=False)
        cleared = [
            name for name in sobject.required if name in values and values[name] in ("", None)
        ]
        if cleared:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(cleared)}]",
                cleared,
            )
        row = existing | values
        self._derive(sobject, row, creating=False)
        self._check_unique(sobject, row)
        changes = {name: value for name, value in row.items() if existing.get(name) != value}
        return self.records.update(sobject.name, existing["Id"], changes)

    def delete(self, sobject: SObject, record_id: str) -> None:
        existing = self.records.get(sobject.name, record_id)
        if existing is None:
            raise not_found()
        children = {
            "EmailMessage": ("EmailMessageRelation", "EmailMessageId"),
            "Event": ("EventRelation", "EventId"),
        }.get(sobject.name)
        with self.records.transaction():
            if children is not None:
                child, field = children
                for row in (
                    self.records.lookup(child, field, [str(existing["Id"]).casefold()]) or []
                ):
                    self.records.delete(child, row["Id"])
            self.records.delete(sobject.name, existing["Id"])

    # -- checks -------------------------------------------------------------------------------

    def _values(self, sobject: SObject, body: Any, *, creating: bool) -> Row:
        """Return the body's fields by canonical name, each checked and converted."""
        if not isinstance(body, Mapping):
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from a value that is not a JSON object",
            )
        values: Row = {}
        read_only: list[str] = []
        for name, value in body.items():
            if name == "attributes":
                continue
            field = sobject.field(str(name))
            if field is None:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {sobject.name}",
                )
            if not (field.createable if creating else field.updateable):
                read_only.append(field.name)
                continue
            values[field.name] = self._convert(field, value)
        if read_only:
            raise ApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. Please check the"
                " security settings of this field and verify that it is read/write for your"
                " profile or permission set.",
                read_only,
            )
        return values

    def _convert(self, field: Field, value: Any) -> Any:
        """Return a body value as the record stores it, or raise as Salesforce would."""
        if value is None:
            return [] if field.type == "junction" else None
        kind = field.type
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _parse_error("boolean", value)
            return value
        if kind in NUMBER_TYPES:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _parse_error("double", value)
            return int(value) if kind == "int" else float(value)
        if kind == "junction":
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise _parse_error("JunctionIdList", value)
            return value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _parse_error("String", value)
        text = str(value)
        if kind == "datetime":
            return _datetime(text)
        if kind == "date":
            try:
                return dt.date.fromisoformat(text).isoformat()
            except ValueError:
                raise _parse_error("Date", value) from None
        if kind == "base64":
            try:
                base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise _parse_error("base64", value) from None
            return text
        if kind == "email" and text and not _EMAIL.fullmatch(text):
            raise ApiError(
                400,
                "INVALID_EMAIL_ADDRESS",
                f"{field.name}: invalid email address: {text}",
                [field.name],
            )
        if kind == "reference" and text:
            self._check_reference(field, text)
        return text if kind in TEXT_TYPES else value

    def _check_reference(self, field: Field, record_id: str) -> None:
        found = self.records.find(record_id)
        if found is None:
            raise ApiError(
                400,
                "INVALID_CROSS_REFERENCE_KEY",
                f"invalid cross reference id: {record_id}",
                [field.name],
            )
        if found[0] not in field.references:
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                f"{field.name}: id value of incorrect type: {record_id}",
                [field.name],
            )

    def _check_unique(self, sobject: SObject, row: Row) -> None:
        unique = {"Event": ("Sidepane_UID__c",), "User": ("Username",)}.get(sobject.name, ())
        for name in unique:
            value = row.get(name)
            if value in (None, ""):
                continue
            for other in self.records.lookup(sobject.name, name, [str(value).casefold()]) or []:
                if other["Id"] != row["Id"]:
                    raise _duplicate(name, other["Id"])
        if sobject.name == "EventRelation":
            event_key = str(row["EventId"]).casefold()
            for other in self.records.lookup("EventRelation", "EventId", [event_key]) or []:
                same = str(other["RelationId"]).casefold() == str(row["RelationId"]).casefold()
                if same and other["Id"] != row["Id"]:
                    raise _duplicate("RelationId", other["Id"])

    # -- derived fields and records -----------------------------------------------------------

    def _derive(self, sobject: SObject, row: Row, *, creating: bool) -> None:
        if sobject.name in ("Contact", "User"):
            row["Name"] = f"{row.get('FirstName') or ''} {row.get('LastName') or ''}".strip()
        elif sobject.name == "Opportunity":
            stage = str(row.get("StageName") or "").casefold()
            row["IsClosed"], row["IsWon"] = stage in CLOSED_STAGES, stage in WON_STAGES
        elif sobject.name == "Case":
            if creating:
                self.case_numbers += 1
                row["CaseNumber"] = f"{self.case_numbers:08d}"
                row["Status"] = row.get("Status") or "New"
                row["Priority"] = row.get("Priority") or "Medium"
            row["IsClosed"] = str(row.get("Status") or "").casefold() in CLOSED_CASE_STATUSES
        elif sobject.name == "ContentVersion" and creating:
            row["Title"] = row.get("Title") or row.get("PathOnClient")
            row["ContentSize"] = len(base64.b64decode(row["VersionData"]))
        elif sobject.name == "EventRelation" and creating:
            row["IsWhat"] = False
            row["IsInvitee"] = True if row.get("IsInvitee") is None else row["IsInvitee"]
            row["IsParent"] = bool(row.get("IsParent"))
            row["Status"] = row.get("Status") or "New"
        elif sobject.name == "EmailMessageRelation" and creating:
            found = self.records.find(row["RelationId"]) if row.get("RelationId") else None
            row["RelationObjectType"] = None if found is None else found[0]
        elif sobject.name == "User" and creating:
            row["IsActive"] = True if row.get("IsActive") is None else row["IsActive"]

    def _email_relations(self, email: Row, junctions: Mapping[str, list[str]]) -> Iterator[Row]:
        covered: set[tuple[str, str]] = set()
        for name, ids in junctions.items():
            relation_type = _JUNCTIONS[name]
            for record_id in ids:
                found = self.records.find(record_id)
                if found is None or found[0] not in ("Contact", "User"):
                    raise ApiError(
                        400,
                        "INVALID_ID_FIELD",
                        f"{name}: id value of incorrect type: {record_id}",
                        [name],
                    )
                sobject, target = found
                address = target.get("Email")
                if address:
                    covered.add((relation_type, address.casefold()))
                yield self._email_relation(email, relation_type, address, target["Id"], sobject)
        for relation_type in ("ToAddress", "CcAddress", "BccAddress"):
            for address in split_addresses(email.get(relation_type)):
                if (relation_type, address.casefold()) not in covered:
                    covered.add((relation_type, address.casefold()))
                    yield self._email_relation(email, relation_type, address, None, None)
        sender = email.get("FromAddress")
        if sender:
            found = self._sender(sender)
            yield self._email_relation(
                email,
                "FromAddress",
                sender,
                None if found is None else found[1]["Id"],
                None if found is None else found[0],
            )

    def _sender(self, address: str) -> tuple[str, Row] | None:
        """Return the org user, else the one contact, whose email ``address`` is."""
        key = address.casefold()
        users = self.records.lookup("User", "Email", [key]) or []
        if users:
            return "User", users[0]
        contacts = self.records.lookup("Contact", "Email", [key]) or []
        return ("Contact", contacts[0]) if len(contacts) == 1 else None

    def _email_relation(
        self,
        email: Row,
        relation_type: str,
        address: str | None,
        relation_id: str | None,
        sobject: str | None,
    ) -> Row:
        return {
            "Id": self.ids.new(self.catalog["EmailMessageRelation"].key_prefix),
            "EmailMessageId": email["Id"],
            "RelationId": relation_id,
            "RelationAddress": address,
            "RelationType": relation_type,
            "RelationObjectType": sobject,
            "CreatedDate": email["CreatedDate"],
        }

    def _event_relation(self, event: Row, relation_id: str, *, parent: bool) -> Row:
        return {
            "Id": self.ids.new(self.catalog["EventRelation"].key_prefix),
            "EventId": event["Id"],
            "RelationId": relation_id,
            "IsInvitee": not parent,
            "IsParent": parent,
            "IsWhat": False,
            "Status": "New",
            "CreatedDate": event["CreatedDate"],
        }


def split_addresses(text: str | None) -> list[str]:
    """Return the addresses of a ``; ``-separated address field."""
    if not text:
        return []
    return [part.strip() for part in _ADDRESS_SEPARATOR.split(text) if part.strip()]


def _datetime(text: str) -> str:
    """Return a date-time body value as Salesforce stores it (UTC, milliseconds, ``+0000``)."""
    candidate = text.strip()
    if candidate.endswith("Z"):
        candidate = candidate[:-1] + "+00:00"
    if re.fullmatch(r".*[+-]\d{4}", candidate):
        candidate = candidate[:-2] + ":" + candidate[-2:]
    try:
        value = dt.datetime.fromisoformat(candidate)
    except ValueError:
        raise _parse_error("Calendar", text) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return format_datetime(value)


def _parse_error(kind: str, value: Any) -> ApiError:
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from value {value!r} or request may be"
        " missing a required field",
    )


def _duplicate(field: str, other_id: str) -> ApiError:
    return ApiError(
        400,
        "DUPLICATE_VALUE",
        f"duplicate value found: {field} duplicates value on record with id: {other_id}",
        [field],
    )
