"""The Salesforce objects the emulator holds: fields, types, relationships, key prefixes, ids.

Features
--------
- `CATALOG` lists the objects and fields of ``docs/salesforce-requests.md`` (plus ``Organization``
  for ``Salesforce.is_sandbox()``), each `Field` with its SOAP type and what the API lets a client
  do with it: select, filter, sort, create, update. Names are case-insensitive everywhere, as in
  Salesforce; `SObject.field` returns the field under its canonical spelling.
- Parent relationships (``Contact.Account``, ``EmailMessageRelation.EmailMessage``...) name the
  reference field and the object they lead to; polymorphic references (``WhatId``, ``WhoId``,
  ``RelatedToId``, ``RelationId``) have no relationship name here, so ``What.Name`` is refused.
- Ids: `IdMaker` makes Salesforce-style 18-character ids: the object's key prefix (``003``
  Contact...), 12 more characters, and the case-safe checksum of the 15-character id
  (`with_checksum`), so ``sobjects/Contact/<15 chars>`` finds the record as Salesforce does.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

#: SOAP types of fields holding text (compared case-insensitively, allowed in LIKE).
TEXT_TYPES = frozenset(
    {"string", "email", "phone", "url", "picklist", "textarea", "id", "reference"}
)
NUMBER_TYPES = frozenset({"double", "currency", "int"})
#: How an INVALID_FIELD message names a type ("must be of type dateTime").
TYPE_NAMES = {
    "datetime": "dateTime",
    "email": "string",
    "phone": "string",
    "url": "string",
    "picklist": "string",
    "textarea": "string",
    "reference": "id",
}


@dataclass(frozen=True, slots=True)
class Field:
    """One field: its name, SOAP type and what the API allows with it."""

    name: str
    type: str  # id reference string email phone url picklist textarea boolean datetime date ...
    createable: bool = True
    updateable: bool = True
    filterable: bool = True
    sortable: bool = True
    selectable: bool = True  # false for create-only junction lists (ToIds)
    references: tuple[str, ...] = ()  # the objects a reference (or junction list) points to

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES


@dataclass(frozen=True, slots=True)
class Relationship:
    """A parent relationship: ``Account`` on Contact is the record ``AccountId`` points to."""

    name: str
    field: str
    target: str


@dataclass(frozen=True)
class SObject:
    """An object type: its fields, parent relationships and what a create must carry."""

    name: str
    key_prefix: str
    fields: tuple[Field, ...]
    relationships: tuple[Relationship, ...] = ()
    required: tuple[str, ...] = ()  # fields a create must set (REQUIRED_FIELD_MISSING)
    searchable: str | None = None  # the name field parameterizedSearch matches
    createable: bool = True  # False: the API cannot insert records of this object
    _fields: Mapping[str, Field] = field(init=False, repr=False, compare=False)
    _relationships: Mapping[str, Relationship] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fields", {f.name.lower(): f for f in self.fields})
        object.__setattr__(self, "_relationships", {r.name.lower(): r for r in self.relationships})

    def field(self, name: str) -> Field | None:
        """Return the field called ``name`` (any case), if the object has one."""
        return self._fields.get(name.lower())

    def relationship(self, name: str) -> Relationship | None:
        """Return the parent relationship called ``name`` (any case), if there is one."""
        return self._relationships.get(name.lower())


class Catalog:
    """Every object of the org, by name (any case) and by key prefix."""

    def __init__(self, sobjects: tuple[SObject, ...]) -> None:
        self._by_name = {sobject.name.lower(): sobject for sobject in sobjects}
        self._by_prefix = {sobject.key_prefix: sobject for sobject in sobjects}

    def __iter__(self) -> Iterator[SObject]:
        return iter(self._by_name.values())

    def get(self, name: str) -> SObject | None:
        """Return the object called ``name`` (any case), if the org has it."""
        return self._by_name.get(name.lower())

    def __getitem__(self, name: str) -> SObject:
        sobject = self.get(name)
        if sobject is None:
            raise KeyError(name)
        return sobject

    def by_prefix(self, record_id: str) -> SObject | None:
        """Return the object whose key prefix starts ``record_id``."""
        return self._by_prefix.get(record_id[:3])


def _id() -> Field:
    return Field("Id", "id", createable=False, updateable=False)


def _created() -> Field:
    return Field("CreatedDate", "datetime", createable=False, updateable=False)


def _reference(name: str, *targets: str, updateable: bool = True) -> Field:
    return Field(name, "reference", updateable=updateable, references=targets)


def _read_only(name: str, kind: str) -> Field:
    return Field(name, kind, createable=False, updateable=False)


def _long_text(name: str) -> Field:
    return Field(name, "textarea", filterable=False, sortable=False)


_WHAT = ("Account", "Opportunity", "Case")
_WHO = ("Contact", "User")

CATALOG = Catalog(
    (
        SObject(
            "Contact",
            "003",
            (
                _id(),
                Field("FirstName", "string"),
                Field("LastName", "string"),
                _read_only("Name", "string"),
                Field("Email", "email"),
                Field("Email2__c", "email"),
                Field("Email3__c", "email"),
                Field("Title", "string"),
                Field("Phone", "phone"),
                Field("MobilePhone", "phone"),
                _reference("AccountId", "Account"),
                _created(),
            ),
            (Relationship("Account", "AccountId", "Account"),),
            required=("LastName",),
            searchable="Name",
        ),
        SObject(
            "Account",
            "001",
            (
                _id(),
                Field("Name", "string"),
                Field("Website", "url"),
                Field("Phone", "phone"),
                Field("BillingCity", "string"),
                Field("BillingCountry", "string"),
                _created(),
            ),
            required=("Name",),
            searchable="Name",
        ),
        SObject(
            "AccountContactRelation",
            "07k",
            (
                _id(),
                _reference("AccountId", "Account", updateable=False),
                _reference("ContactId", "Contact", updateable=False),
                _read_only("IsDirect", "boolean"),
                _created(),
            ),
            (
                Relationship("Account", "AccountId", "Account"),
                Relationship("Contact", "ContactId", "Contact"),
            ),
            required=("AccountId", "ContactId"),
        ),
        SObject(
            "Opportunity",
            "006",
            (
                _id(),
                Field("Name", "string"),
                Field("StageName", "picklist"),
                Field("Amount", "currency"),
                Field("CloseDate", "date"),
                _read_only("IsClosed", "boolean"),
                _read_only("IsWon", "boolean"),
                _reference("AccountId", "Account"),
                _reference("ContactId", "Contact"),
                _created(),
            ),
            (
                Relationship("Account", "AccountId", "Account"),
                Relationship("Contact", "ContactId", "Contact"),
            ),
            required=("Name", "StageName", "CloseDate"),
            searchable="Name",
        ),
        SObject(
            "Case",
            "500",
            (
                _id(),
                Field("Subject", "string"),
                _read_only("CaseNumber", "string"),
                Field("Status", "picklist"),
                Field("Priority", "picklist"),
                _read_only("IsClosed", "boolean"),
                _reference("AccountId", "Account"),
                _reference("ContactId", "Contact"),
                _created(),
            ),
            (
                Relationship("Account", "AccountId", "Account"),
                Relationship("Contact", "ContactId", "Contact"),
            ),
            searchable="Subject",
        ),
        SObject(
            "EmailMessage",
            "02s",
            (
                _id(),
                Field("Subject", "string"),
                _long_text("HtmlBody"),
                _long_text("TextBody"),
                Field("FromAddress", "email"),
                Field("FromName", "string"),
                Field("ToAddress", "string"),
                Field("CcAddress", "string"),
                Field("BccAddress", "string"),
                *(
                    Field(
                        name,
                        "junction",
                        updateable=False,
                        filterable=False,
                        sortable=False,
                        selectable=False,
                        references=_WHO,
                    )
                    for name in ("ToIds", "CcIds", "BccIds")
                ),
                Field("MessageDate", "datetime"),
                Field("Incoming", "boolean"),
                Field("Status", "picklist"),
                Field("MessageIdentifier", "string"),
                Field("ThreadIdentifier", "string"),
                _reference("RelatedToId", *_WHAT),
                _created(),
            ),
            required=("Status",),
        ),
        SObject(
            "EmailMessageRelation",
            "0AE",
            (
                _id(),
                _reference("EmailMessageId", "EmailMessage", updateable=False),
                _reference("RelationId", *_WHO, updateable=False),
                Field("RelationAddress", "email", updateable=False),
                Field("RelationType", "picklist", updateable=False),
                _read_only("RelationObjectType", "string"),
                _created(),
            ),
            (Relationship("EmailMessage", "EmailMessageId", "EmailMessage"),),
            required=("EmailMessageId", "RelationType"),
        ),
        SObject(
            "Event",
            "00U",
            (
                _id(),
                Field("Subject", "string"),
                Field("StartDateTime", "datetime"),
                Field("EndDateTime", "datetime"),
                Field("IsAllDayEvent", "boolean"),
                Field("Location", "string"),
                _long_text("Description"),
                _reference("WhoId", *_WHO),
                _reference("WhatId", *_WHAT),
                Field("Sidepane_UID__c", "string"),
                _created(),
            ),
            required=("StartDateTime", "EndDateTime"),
        ),
        SObject(
            "EventRelation",
            "0RE",
            (
                _id(),
                _reference("EventId", "Event", updateable=False),
                _reference("RelationId", *_WHO, updateable=False),
                Field("IsInvitee", "boolean"),
                Field("IsParent", "boolean"),
                _read_only("IsWhat", "boolean"),
                Field("Status", "picklist"),
                _created(),
            ),
            (Relationship("Event", "EventId", "Event"),),
            required=("EventId", "RelationId"),
        ),
        SObject(
            "ContentVersion",
            "068",
            (
                _id(),
                Field("Title", "string"),
                Field("PathOnClient", "string", updateable=False),
                Field("VersionData", "base64", filterable=False, sortable=False),
                Field(
                    "FirstPublishLocationId",
                    "reference",
                    updateable=False,
                    references=("EmailMessage", *_WHAT, "Contact"),
                ),
                _read_only("ContentSize", "int"),
                _created(),
            ),
            required=("PathOnClient", "VersionData"),
        ),
        SObject(
            "User",
            "005",
            (
                _id(),
                Field("Username", "string"),
                Field("FirstName", "string"),
                Field("LastName", "string"),
                _read_only("Name", "string"),
                Field("Email", "email"),
                Field("IsActive", "boolean"),
                _created(),
            ),
            required=("Username", "LastName", "Email"),
            searchable="Name",
        ),
        SObject(
            "Organization",
            "00D",
            (
                _id(),
                _read_only("Name", "string"),
                _read_only("IsSandbox", "boolean"),
                _read_only("OrganizationType", "string"),
                _read_only("InstanceName", "string"),
                _created(),
            ),
            createable=False,
        ),
    )
)

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM = string.ascii_uppercase + "012345"


def with_checksum(record_id: str) -> str:
    """Return the 18-character form of a 15-character Salesforce id (unchanged otherwise)."""
    if len(record_id) != 15 or not record_id.isalnum():
        return record_id
    suffix = ""
    for chunk in (record_id[0:5], record_id[5:10], record_id[10:15]):
        bits = sum(1 << i for i, char in enumerate(chunk) if char.isupper())
        suffix += _CHECKSUM[bits]
    return record_id + suffix


class IdMaker:
    """Make new record ids: key prefix, a per-org marker, a counter; 18 characters in all."""

    def __init__(self, marker: str) -> None:
        if len(marker) != 2 or not marker.isalnum():
            raise ValueError("marker must be two letters or digits")
        self.marker = marker
        self.next_number = 1

    def new(self, key_prefix: str) -> str:
        """Return a new 18-character id for an object with ``key_prefix``."""
        number, self.next_number = self.next_number, self.next_number + 1
        digits = ""
        while number:
            number, digit = divmod(number, 62)
            digits = _BASE62[digit] + digits
        return with_checksum(f"{key_prefix}{self.marker}{digits.rjust(10, '0')}")
