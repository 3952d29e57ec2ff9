"""Saving emails and meetings on Salesforce: contract requests 5, 6 and 7.

Features
--------
* A save is one composite batch read (`saved_query`: is the message saved already, by
  ``MessageIdentifier`` / ``Sidepane_UID__c``; `contacts.match_queries` and `users_queries`:
  which contacts and which users hold the parties' addresses), then, unless it was, the create
  (`email_body`, `event_body`), and one more request for the email's files
  (`attachment_records`) or the meeting's invitees (`invitee_records`) when there are any.
  Saving the same message again costs the read alone.
* A party resolves to the contact the caller named, else to the one contact holding its address
  in any email field, else to the user whose address it is; an address held by several contacts,
  or by nobody, is saved as the address alone.
* An email: ``ToIds``/``CcIds``/``BccIds`` name the resolved recipients (Salesforce makes an
  ``EmailMessageRelation`` of each), ``ToAddress``/``CcAddress``/``BccAddress`` the unresolved
  ones; ``RelatedToId`` the regarding account, opportunity or case; each attachment a
  ``ContentVersion`` published to the email, all in one more request (``composite/sobjects``)
  unless they are too big for one. A file over `MAX_ATTACHMENT_BYTES`, or one Salesforce
  refuses, is left out and named in ``skipped_attachments``.
* A meeting: an ``Event`` keyed by ``Sidepane_UID__c`` (the iCalendar uid; Event has no
  message id), ``WhatId`` the regarding record, ``WhoId`` the regarding contact or the first
  attendee that is a contact; every other resolved attendee an ``EventRelation`` invitee.
* Salesforce takes no contact as an email's ``RelatedToId``: an email saved against a contact is
  linked to it through its parties, so that contact must be one of them (`Rejected` otherwise).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from simple_salesforce.format import format_soql

from ..errors import Rejected
from ..models import EmailActivity, MeetingActivity, Party, RecordRef
from .contacts import address_chunks
from .records import SOBJECT, RecordUrl, Row, text, timestamp

Kind = Literal["email", "meeting"]
PartyKind = Literal["contact", "user"]
Json = dict[str, Any]

#: A JSON request carries at most 37.5 MB of base64 (about 28 MB of files): the largest file we
#: send, and how much base64 one ``composite/sobjects`` request of files holds.
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_BASE64_PER_REQUEST = 36_000_000
#: Our record types an activity can be saved against (``RelatedToId`` / ``WhatId``).
WHAT_TYPES = ("account", "opportunity", "case")
#: The field holding each kind's idempotency key.
KEY_FIELD: dict[Kind, str] = {"email": "MessageIdentifier", "meeting": "Sidepane_UID__c"}
#: ``EmailMessage.Status`` of a sent (or received) email.
SENT = "3"


@dataclass(frozen=True, slots=True)
class Parties:
    """Who the parties' addresses belong to: address → contact ids, address → user id."""

    contacts: dict[str, list[str]]
    users: dict[str, str]

    def resolve(self, party: Party) -> tuple[str, PartyKind] | None:
        """Return the one contact (else user) the party is, if there is one."""
        if party.contact_id and party.contact_id.strip():
            return party.contact_id.strip(), "contact"
        address = party.address.strip().lower()
        holders = self.contacts.get(address, [])
        if len(holders) == 1:
            return holders[0], "contact"
        if not holders and address in self.users:
            return self.users[address], "user"
        return None


#: Nobody resolved: every party is saved by its address alone.
NO_PARTIES = Parties({}, {})


def saved_query(kind: Kind, message_id: str) -> str:
    """Return the idempotency query: the activity already saved for ``message_id``, if any."""
    return format_soql(
        f"SELECT Id, Subject FROM {SOBJECT[kind]} WHERE {KEY_FIELD[kind]} = {{key}} LIMIT 1",
        key=message_id,
    )


def users_queries(addresses: Sequence[str]) -> list[str]:
    """Return the queries of the active users holding any of ``addresses``."""
    return [
        format_soql(
            "SELECT Id, Email FROM User WHERE Email IN {addresses} AND IsActive = true",
            addresses=chunk,
        )
        for chunk in address_chunks(addresses)
    ]


def party_addresses(parties: Sequence[Party]) -> list[str]:
    """Return the parties' distinct addresses, lower-cased, that need resolving."""
    return list(
        dict.fromkeys(
            party.address.strip().lower()
            for party in parties
            if party.address.strip() and not (party.contact_id and party.contact_id.strip())
        )
    )


def parties_from(
    contact_rows: Sequence[Row], user_rows: Sequence[Row], email_fields: Sequence[str]
) -> Parties:
    """Return who holds which address, from the read batch's contacts and users."""
    contacts: dict[str, list[str]] = {}
    for row in contact_rows:
        contact_id = text(row, "Id")
        for field in email_fields:
            address = text(row, field).lower()
            if address and contact_id not in contacts.setdefault(address, []):
                contacts[address].append(contact_id)
    users = {text(row, "Email").lower(): text(row, "Id") for row in user_rows if text(row, "Email")}
    return Parties(contacts, users)


def saved_ref(kind: Kind, row: Row, url: RecordUrl) -> RecordRef:
    record_id = text(row, "Id")
    return RecordRef(kind, record_id, text(row, "Subject"), url(kind, record_id))


def check_regarding(kind: Kind, ref: RecordRef | None) -> None:
    """Refuse a regarding record Salesforce cannot link the activity to, before any request."""
    if ref is None or str(ref.type) in WHAT_TYPES or str(ref.type) == "contact":
        return
    allowed = ", ".join((*WHAT_TYPES, "contact"))
    raise Rejected(f"regarding: cannot save against a {ref.type!r} record (only {allowed}).")


def _what(ref: RecordRef | None) -> str | None:
    return ref.id if ref is not None and str(ref.type) in WHAT_TYPES else None


def _who(ref: RecordRef | None) -> str | None:
    return ref.id if ref is not None and str(ref.type) == "contact" else None


# --- the writes ----------------------------------------------------------------------------------


def email_body(email: EmailActivity, parties: Parties) -> Json:
    """Return the ``EmailMessage`` create body (request 5); `Rejected` if it cannot be linked."""
    body: Json = {
        "Subject": email.subject,
        "HtmlBody": email.body_html,
        "FromAddress": email.sender.address.strip() or None,
        "FromName": email.sender.name.strip() or None,
        "MessageDate": timestamp(email.sent_at),
        "Incoming": email.direction == "incoming",
        "Status": SENT,
        "MessageIdentifier": email.message_id,
    }
    linked: set[str] = set()
    for role, recipients in (("To", email.to), ("Cc", email.cc), ("Bcc", email.bcc)):
        ids, unresolved = _split(recipients, parties)
        linked.update(record_id for record_id, _ in ids)
        if ids:
            body[f"{role}Ids"] = [record_id for record_id, _ in ids]
        if unresolved:
            body[f"{role}Address"] = "; ".join(unresolved)
    if email.conversation_id:
        body["ThreadIdentifier"] = email.conversation_id
    what = _what(email.regarding)
    if what is not None:
        body["RelatedToId"] = what
    who = _who(email.regarding)
    sender = parties.resolve(email.sender)
    if who is not None and who not in linked and (sender is None or sender[0] != who):
        raise Rejected(
            "regarding: Salesforce links an email to a contact only through its sender and"
            " recipients; save it against the contact's account or case instead."
        )
    return body


def attachment_records(
    email_id: str, email: EmailActivity
) -> tuple[list[list[Json]], tuple[str, ...]]:
    """Return an email's files as ``ContentVersion`` records, in requests that fit, and the
    names of the files left out (over `MAX_ATTACHMENT_BYTES`)."""
    kept = [file for file in email.attachments if len(file.content) <= MAX_ATTACHMENT_BYTES]
    skipped = tuple(f.name for f in email.attachments if len(f.content) > MAX_ATTACHMENT_BYTES)
    requests: list[list[Json]] = []
    size = 0
    for file in kept:
        data = base64.b64encode(file.content).decode("ascii")
        if not requests or size + len(data) > MAX_BASE64_PER_REQUEST:
            requests.append([])
            size = 0
        requests[-1].append(
            {
                "attributes": {"type": "ContentVersion"},
                "Title": file.name,
                "PathOnClient": file.name,
                "VersionData": data,
                "FirstPublishLocationId": email_id,
            }
        )
        size += len(data)
    return requests, skipped


def event_body(meeting: MeetingActivity, parties: Parties) -> tuple[Json, list[str]]:
    """Return the ``Event`` create body (request 6) and the ids to invite to it."""
    attendees = [*meeting.attendees, meeting.organizer]
    ids, _ = _split(attendees, parties)
    who = _who(meeting.regarding) or next(
        (record_id for record_id, kind in ids if kind == "contact"), None
    )
    body: Json = {
        "Subject": meeting.subject,
        "StartDateTime": timestamp(meeting.start),
        "EndDateTime": timestamp(meeting.end),
        "Location": meeting.location or None,
        "Description": meeting.body_html or None,
        "Sidepane_UID__c": meeting.message_id,
    }
    what = _what(meeting.regarding)
    if what is not None:
        body["WhatId"] = what
    if who is not None:
        body["WhoId"] = who
    organizer = parties.resolve(meeting.organizer)
    invitees = [
        record_id
        for record_id, kind in ids
        if record_id != who and not (kind == "user" and organizer == (record_id, kind))
    ]
    return body, invitees


def invitee_records(event_id: str, invitees: Sequence[str]) -> list[Json]:
    """Return the ``EventRelation`` records inviting ``invitees`` to an event."""
    return [
        {
            "attributes": {"type": "EventRelation"},
            "EventId": event_id,
            "RelationId": record_id,
            "IsInvitee": True,
        }
        for record_id in invitees
    ]


def _split(
    parties: Sequence[Party], resolved: Parties
) -> tuple[list[tuple[str, PartyKind]], list[str]]:
    """Return the records the parties resolve to and the addresses of those that do not."""
    ids: list[tuple[str, PartyKind]] = []
    unresolved: list[str] = []
    for party in parties:
        found = resolved.resolve(party)
        if found is not None:
            if found[0] not in [record_id for record_id, _ in ids]:
                ids.append(found)
        elif party.address.strip() and party.address.strip() not in unresolved:
            unresolved.append(party.address.strip())
    return ids, unresolved
