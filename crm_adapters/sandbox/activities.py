"""Activities: a contact's recent emails and upcoming meetings; saving emails and meetings.

Features
--------
* `related_activities`: emails the contact took part in that were sent already, most recent
  first, and meetings with the contact that have not started yet, soonest first.
* `save_activity` writes an email or a meeting with its parties, regarding record and
  attachments, and is idempotent by message id: the caller holds a write transaction
  (``BEGIN IMMEDIATE``), so checking for the message id and inserting cannot interleave with a
  concurrent save; the unique index on ``message_id`` and ``ON CONFLICT DO NOTHING`` back it up.
* A party's contact is the one the caller named, else the one contact holding its address in
  any email field; an address held by several contacts stays unresolved rather than guessed.
* The regarding record must exist (`NotFound` naming it); a type that cannot be regarded is
  `Rejected`.
"""

from __future__ import annotations

import sqlite3
import uuid

from ..errors import Conflict, NotFound, Rejected
from ..models import (
    EMAIL_FIELDS,
    EmailActivity,
    MeetingActivity,
    Party,
    RecordRef,
    RelatedItems,
    SavedActivity,
)
from . import convert
from .contacts import contacts_by_address
from .convert import ACTIVITY_COLUMNS, RecordUrl
from .times import now, to_db

#: Record types an activity can be saved against, and their tables.
REGARDING_TABLES = {
    "account": "accounts",
    "contact": "contacts",
    "opportunity": "opportunities",
    "case": "cases",
}

_RELATED = f"""
SELECT {ACTIVITY_COLUMNS} FROM activities v
WHERE v.id IN (SELECT activity_id FROM activity_parties WHERE contact_id = ?1) AND v.kind = ?2
"""


def related_activities(
    connection: sqlite3.Connection, contact_id: str, limit: int, url: RecordUrl
) -> RelatedItems:
    """Return the contact's last ``limit`` emails and next ``limit`` meetings."""
    moment = to_db(now())
    emails = connection.execute(
        _RELATED + " AND v.at <= ?3 ORDER BY v.at DESC, v.rowid LIMIT ?4",
        (contact_id, "email", moment, limit),
    ).fetchall()
    meetings = connection.execute(
        _RELATED + " AND v.at >= ?3 ORDER BY v.at, v.rowid LIMIT ?4",
        (contact_id, "meeting", moment, limit),
    ).fetchall()
    return RelatedItems(
        emails=tuple(convert.activity(row, url) for row in emails),
        meetings=tuple(convert.activity(row, url) for row in meetings),
    )


def find_saved(connection: sqlite3.Connection, message_id: str, url: RecordUrl) -> RecordRef | None:
    """Return the activity saved for ``message_id``, if any."""
    row = connection.execute(
        "SELECT id, kind, subject FROM activities WHERE message_id = ?", (message_id,)
    ).fetchone()
    return RecordRef(row[1], row[0], row[2], url(row[1], row[0])) if row else None


def save_activity(
    connection: sqlite3.Connection, activity: EmailActivity | MeetingActivity, url: RecordUrl
) -> SavedActivity:
    """Insert an email or meeting unless its message id is saved already (caller: write txn)."""
    if not activity.message_id.strip():
        raise Rejected("message_id: an email or meeting needs its message id to be saved.")
    existing = find_saved(connection, activity.message_id, url)
    if existing is not None:
        return SavedActivity(existing, created=False)
    regarding = _regarding(connection, activity.regarding)
    record_id = str(uuid.uuid4())
    if isinstance(activity, EmailActivity):
        kind, parties = "email", _email_parties(activity)
        at, ends_at, direction, location = to_db(activity.sent_at), None, activity.direction, ""
        conversation, body = activity.conversation_id, activity.body_html
    else:
        kind, parties = "meeting", _meeting_parties(activity)
        at, ends_at, direction, location = (
            to_db(activity.start),
            to_db(activity.end),
            None,
            activity.location,
        )
        conversation, body = "", activity.body_html
    inserted = connection.execute(
        "INSERT INTO activities (id, kind, message_id, subject, body, at, ends_at, direction,"
        " regarding_type, regarding_id, location, conversation_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
        (
            record_id,
            kind,
            activity.message_id,
            activity.subject,
            body,
            at,
            ends_at,
            direction,
            *regarding,
            location,
            conversation,
            to_db(now()),
        ),
    )
    if inserted.rowcount == 0:  # only if a writer outside a transaction got there first
        saved = find_saved(connection, activity.message_id, url)
        if saved is None:
            raise Conflict(f"Saving {activity.message_id!r} clashed with another save; retry.")
        return SavedActivity(saved, created=False)
    resolved = _resolve(connection, [party for _, party in parties], url)
    connection.executemany(
        "INSERT INTO activity_parties (activity_id, role, address, name, contact_id)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (
                record_id,
                role,
                party.address.lower(),
                party.name,
                party.contact_id or resolved.get(party.address.lower()),
            )
            for role, party in parties
        ],
    )
    if isinstance(activity, EmailActivity):
        connection.executemany(
            "INSERT INTO activity_attachments (activity_id, name, content_type, size, content)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (record_id, file.name, file.content_type, len(file.content), file.content)
                for file in activity.attachments
            ],
        )
    return SavedActivity(
        RecordRef(kind, record_id, activity.subject, url(kind, record_id)), created=True
    )


def _email_parties(email: EmailActivity) -> list[tuple[str, Party]]:
    return [
        ("from", email.sender),
        *(("to", party) for party in email.to),
        *(("cc", party) for party in email.cc),
        *(("bcc", party) for party in email.bcc),
    ]


def _meeting_parties(meeting: MeetingActivity) -> list[tuple[str, Party]]:
    return [("organizer", meeting.organizer), *(("attendee", party) for party in meeting.attendees)]


def _regarding(
    connection: sqlite3.Connection, ref: RecordRef | None
) -> tuple[str | None, str | None]:
    if ref is None:
        return None, None
    table = REGARDING_TABLES.get(ref.type)
    if table is None:
        allowed = ", ".join(REGARDING_TABLES)
        raise Rejected(f"regarding: cannot save against a {ref.type!r} record (only {allowed}).")
    if connection.execute(f"SELECT 1 FROM {table} WHERE id = ?", (ref.id,)).fetchone() is None:
        raise NotFound(f"No {ref.type} with id {ref.id!r} to save the activity against.")
    return ref.type, ref.id


def _resolve(
    connection: sqlite3.Connection, parties: list[Party], url: RecordUrl
) -> dict[str, str]:
    """Return address → contact id for the addresses held by exactly one contact."""
    addresses = [party.address for party in parties if not party.contact_id and party.address]
    if not addresses:
        return {}
    matches = contacts_by_address(connection, addresses, EMAIL_FIELDS, url)
    return {address: found[0].id for address, found in matches.items() if len(found) == 1}
