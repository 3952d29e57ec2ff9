"""Read a sandbox CRM file into Salesforce records, so every backend serves the same data.

Mapping
-------
contacts          → Contact: ``email1..3`` → ``Email``, ``Email2__c``, ``Email3__c``; ``Name``
                    "First Last"; ``account_id`` → ``AccountId``; ``job_title`` → ``Title``;
                    ``business_phone`` → ``Phone``; ``mobile_phone`` → ``MobilePhone``
                    (``company`` and ``website`` are dropped)
                    and one AccountContactRelation with ``IsDirect = true`` per ``account_id``
contact_accounts  → AccountContactRelation with ``IsDirect = false``
accounts          → Account: ``website``/``phone``/``city``/``country`` → ``Website``,
                    ``Phone``, ``BillingCity``, ``BillingCountry``
opportunities     → Opportunity: ``stage`` → ``StageName``, ``IsClosed = not is_open``,
                    ``IsWon`` when the stage is "Won"
cases             → Case: ``title`` → ``Subject``, ``ticket_number`` → ``CaseNumber``,
                    ``IsClosed`` for Resolved/Cancelled
emails            → EmailMessage: ``message_id`` → ``MessageIdentifier``, ``at`` →
                    ``MessageDate``, ``direction`` → ``Incoming``, ``Status`` '3',
                    ``regarding_id`` → ``RelatedToId``; the parties' addresses fill
                    ``FromAddress``/``FromName``/``ToAddress``/``CcAddress``/``BccAddress``
                    (``; ``-separated), and each party is an EmailMessageRelation (``RelationId``
                    its contact, else the org user with that address, else null)
meetings          → Event: ``at``/``ends_at`` → ``StartDateTime``/``EndDateTime``,
                    ``message_id`` → ``Sidepane_UID__c``, ``regarding_id`` → ``WhatId``,
                    ``WhoId`` the first attendee contact; an EventRelation (``IsInvitee``) per
                    attendee or organizer contact, ``IsParent`` for the ``WhoId`` one
activity_attachments → ContentVersion with ``FirstPublishLocationId`` the email

Records keep the sandbox's ids (uuid text, not Salesforce's 18 characters), so the facts of
``tests.known.sandbox_known`` hold here as in every other backend; records the sandbox does not
have (relations, files) get Salesforce-style ids from the emulator's `IdMaker`. Empty text
becomes null, as Salesforce returns an unset field.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from .salesforce_objects import CATALOG, IdMaker

Row = dict[str, Any]
CLOSED_CASE_STATUSES = frozenset({"Resolved", "Cancelled"})
WHAT_TYPES = frozenset({"account", "opportunity", "case"})
RELATION_TYPES = {"from": "FromAddress", "to": "ToAddress", "cc": "CcAddress", "bcc": "BccAddress"}


def sandbox_rows(
    path: str | os.PathLike[str], ids: IdMaker, users: Mapping[str, str]
) -> dict[str, list[Row]]:
    """Return the records of every object, by object name, read from the sandbox file.

    ``users`` maps a lower-case address to the org user holding it (for email parties that are
    no contact); ``ids`` gives the records the sandbox has no id for.
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        db.row_factory = sqlite3.Row
        reader = _Reader(db, ids, users)
        return {
            "Account": [
                _account(row) for row in db.execute("SELECT * FROM accounts ORDER BY rowid")
            ],
            "Contact": [
                _contact(row) for row in db.execute("SELECT * FROM contacts ORDER BY rowid")
            ],
            "AccountContactRelation": list(reader.account_relations()),
            "Opportunity": [
                _opportunity(row)
                for row in db.execute("SELECT * FROM opportunities ORDER BY rowid")
            ],
            "Case": [_case(row) for row in db.execute("SELECT * FROM cases ORDER BY rowid")],
            **reader.activities(),
            "ContentVersion": list(reader.files()),
        }


def sf_time(value: str | None) -> str | None:
    """Return a sandbox time (``YYYY-MM-DD HH:MM:SS``) as Salesforce writes date-times."""
    return f"{value.replace(' ', 'T')}.000+0000" if value else None


def _text(value: Any) -> Any:
    return value if value not in ("", None) else None


def _contact(row: sqlite3.Row) -> Row:
    first, last = _text(row["first_name"]), row["last_name"]
    return {
        "Id": row["id"],
        "FirstName": first,
        "LastName": last,
        "Name": f"{first or ''} {last}".strip(),
        "Email": row["email1"],
        "Email2__c": row["email2"],
        "Email3__c": row["email3"],
        "Title": _text(row["job_title"]),
        "Phone": _text(row["business_phone"]),
        "MobilePhone": _text(row["mobile_phone"]),
        "AccountId": row["account_id"],
        "CreatedDate": sf_time(row["created_at"]),
    }


def _account(row: sqlite3.Row) -> Row:
    return {
        "Id": row["id"],
        "Name": row["name"],
        "Website": _text(row["website"]),
        "Phone": _text(row["phone"]),
        "BillingCity": _text(row["city"]),
        "BillingCountry": _text(row["country"]),
        "CreatedDate": sf_time(row["created_at"]),
    }


def _opportunity(row: sqlite3.Row) -> Row:
    return {
        "Id": row["id"],
        "Name": row["name"],
        "StageName": row["stage"],
        "Amount": row["amount"],
        "CloseDate": row["close_date"],
        "IsClosed": not row["is_open"],
        "IsWon": row["stage"] == "Won",
        "AccountId": row["account_id"],
        "ContactId": row["contact_id"],
        "CreatedDate": sf_time(row["created_at"]),
    }


def _case(row: sqlite3.Row) -> Row:
    return {
        "Id": row["id"],
        "Subject": row["title"],
        "CaseNumber": row["ticket_number"],
        "Status": row["status"],
        "Priority": _text(row["priority"]),
        "IsClosed": row["status"] in CLOSED_CASE_STATUSES,
        "AccountId": row["account_id"],
        "ContactId": row["contact_id"],
        "CreatedDate": sf_time(row["created_at"]),
    }


class _Reader:
    """The records that need more than one sandbox row, or ids of the emulator's making."""

    def __init__(self, db: sqlite3.Connection, ids: IdMaker, users: Mapping[str, str]) -> None:
        self.db, self.ids, self.users = db, ids, users

    def new_id(self, sobject: str) -> str:
        return self.ids.new(CATALOG[sobject].key_prefix)

    def account_relations(self) -> Iterator[Row]:
        direct = "SELECT id, account_id, created_at FROM contacts WHERE account_id IS NOT NULL"
        for contact_id, account_id, created in self.db.execute(direct + " ORDER BY rowid"):
            yield self._account_relation(contact_id, account_id, True, created)
        further = (
            "SELECT l.contact_id, l.account_id, c.created_at FROM contact_accounts l"
            " JOIN contacts c ON c.id = l.contact_id ORDER BY 1, 2"
        )
        for contact_id, account_id, created in self.db.execute(further):
            yield self._account_relation(contact_id, account_id, False, created)

    def _account_relation(self, contact: str, account: str, direct: bool, created: str) -> Row:
        return {
            "Id": self.new_id("AccountContactRelation"),
            "AccountId": account,
            "ContactId": contact,
            "IsDirect": direct,
            "CreatedDate": sf_time(created),
        }

    def activities(self) -> dict[str, list[Row]]:
        parties: dict[str, list[sqlite3.Row]] = defaultdict(list)
        for party in self.db.execute("SELECT * FROM activity_parties ORDER BY rowid"):
            parties[party["activity_id"]].append(party)
        records: dict[str, list[Row]] = {
            "EmailMessage": [],
            "EmailMessageRelation": [],
            "Event": [],
            "EventRelation": [],
        }
        for row in self.db.execute("SELECT * FROM activities ORDER BY rowid"):
            own = parties.get(row["id"], [])
            if row["kind"] == "email":
                records["EmailMessage"].append(_email(row, own))
                records["EmailMessageRelation"].extend(self._email_relations(row, own))
            else:
                event = _event(row, own)
                records["Event"].append(event)
                records["EventRelation"].extend(self._event_relations(event, own))
        return records

    def _email_relations(self, email: sqlite3.Row, parties: list[sqlite3.Row]) -> Iterator[Row]:
        for party in parties:
            if party["role"] not in RELATION_TYPES:
                continue
            relation_id = party["contact_id"] or self.users.get(party["address"].lower())
            kind = None if relation_id is None else "Contact" if party["contact_id"] else "User"
            yield {
                "Id": self.new_id("EmailMessageRelation"),
                "EmailMessageId": email["id"],
                "RelationId": relation_id,
                "RelationAddress": party["address"],
                "RelationType": RELATION_TYPES[party["role"]],
                "RelationObjectType": kind,
                "CreatedDate": sf_time(email["created_at"]),
            }

    def _event_relations(self, event: Row, parties: list[sqlite3.Row]) -> Iterator[Row]:
        seen: set[str] = set()
        for party in parties:
            contact_id = party["contact_id"]
            if party["role"] not in ("attendee", "organizer") or not contact_id:
                continue
            if contact_id in seen:
                continue
            seen.add(contact_id)
            yield {
                "Id": self.new_id("EventRelation"),
                "EventId": event["Id"],
                "RelationId": contact_id,
                "IsInvitee": True,
                "IsParent": contact_id == event["WhoId"],
                "IsWhat": False,
                "Status": "New",
                "CreatedDate": event["CreatedDate"],
            }

    def files(self) -> Iterator[Row]:
        query = (
            "SELECT f.name, f.content, f.size, f.activity_id, a.created_at"
            " FROM activity_attachments f JOIN activities a ON a.id = f.activity_id"
            " ORDER BY f.rowid"
        )
        for name, content, size, activity_id, created in self.db.execute(query):
            yield {
                "Id": self.new_id("ContentVersion"),
                "Title": name,
                "PathOnClient": name,
                "VersionData": base64.b64encode(content).decode("ascii"),
                "ContentSize": size,
                "FirstPublishLocationId": activity_id,
                "CreatedDate": sf_time(created),
            }


def _email(row: sqlite3.Row, parties: list[sqlite3.Row]) -> Row:
    addresses: dict[str, list[str]] = defaultdict(list)
    sender = None
    for party in parties:
        addresses[party["role"]].append(party["address"])
        if party["role"] == "from" and sender is None:
            sender = party
    return {
        "Id": row["id"],
        "Subject": row["subject"],
        "HtmlBody": _text(row["body"]),
        "TextBody": None,
        "FromAddress": None if sender is None else sender["address"],
        "FromName": None if sender is None else _text(sender["name"]),
        "ToAddress": "; ".join(addresses["to"]) or None,
        "CcAddress": "; ".join(addresses["cc"]) or None,
        "BccAddress": "; ".join(addresses["bcc"]) or None,
        "MessageDate": sf_time(row["at"]),
        "Incoming": row["direction"] == "incoming",
        "Status": "3",
        "MessageIdentifier": row["message_id"],
        "ThreadIdentifier": _text(row["conversation_id"]),
        "RelatedToId": row["regarding_id"] if row["regarding_type"] in WHAT_TYPES else None,
        "CreatedDate": sf_time(row["created_at"]),
    }


def _event(row: sqlite3.Row, parties: list[sqlite3.Row]) -> Row:
    attendees = [p["contact_id"] for p in parties if p["role"] == "attendee" and p["contact_id"]]
    regarding = row["regarding_id"] if row["regarding_type"] in WHAT_TYPES else None
    who = row["regarding_id"] if row["regarding_type"] == "contact" else None
    return {
        "Id": row["id"],
        "Subject": row["subject"],
        "StartDateTime": sf_time(row["at"]),
        "EndDateTime": sf_time(row["ends_at"] or row["at"]),
        "IsAllDayEvent": False,
        "Location": _text(row["location"]),
        "Description": _text(row["body"]),
        "WhoId": who or (attendees[0] if attendees else None),
        "WhatId": regarding,
        "Sidepane_UID__c": row["message_id"],
        "CreatedDate": sf_time(row["created_at"]),
    }
