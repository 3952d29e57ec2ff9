"""One record as a plain dict, for the sandbox's read-only record pages.

Shape
-----
A flat dict: the record's own fields as scalars (``type``, ``id``, ``url``, the display field
``name`` / ``title`` / ``subject``, then the rest), plus one list of dicts per kind of related
record (``accounts``, ``contacts``, ``opportunities``, ``cases``, ``emails``, ``meetings``,
``activities``, ``regarding``, ``parties``, ``attachments``), each row with its ``url`` where it
is a record. Times are stored UTC text. Attachment contents are left out; their sizes are in.
Related lists hold at most `RELATED_LIMIT` rows.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..errors import NotFound
from .convert import RecordUrl, as_dicts

RELATED_LIMIT = 50
Record = dict[str, Any]

_FIELDS = {
    "contact": "SELECT c.id, c.first_name || ' ' || c.last_name AS name, c.first_name, c.last_name,"
    " c.email1, c.email2, c.email3, c.job_title, COALESCE(a.name, c.company) AS company,"
    " c.business_phone, c.mobile_phone, c.website, c.created_at, c.account_id"
    " FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id = ?",
    "account": "SELECT id, name, website, phone, city, country, created_at"
    " FROM accounts WHERE id = ?",
    "opportunity": "SELECT id, name, stage, amount, close_date,"
    " CASE is_open WHEN 1 THEN 'open' ELSE 'closed' END AS state, created_at,"
    " account_id, contact_id FROM opportunities WHERE id = ?",
    "case": "SELECT id, title, ticket_number, status, priority, created_at, account_id, contact_id"
    " FROM cases WHERE id = ?",
    "email": "SELECT id, subject, at AS sent_at, direction, conversation_id, body, regarding_type,"
    " regarding_id FROM activities WHERE id = ? AND kind = 'email'",
    "meeting": "SELECT id, subject, at AS starts_at, ends_at, location, body, regarding_type,"
    " regarding_id FROM activities WHERE id = ? AND kind = 'meeting'",
}
_ACCOUNTS_OF_CONTACT = (
    "SELECT id, name, city, country FROM accounts WHERE id = ?1 OR id IN"
    " (SELECT account_id FROM contact_accounts WHERE contact_id = ?2) ORDER BY id = ?1 DESC, name"
    " LIMIT ?3"
)
_CONTACTS_OF_ACCOUNT = (
    "SELECT id, first_name || ' ' || last_name AS name, job_title, email1 AS email FROM contacts"
    " WHERE account_id = ?1"
    " OR id IN (SELECT contact_id FROM contact_accounts WHERE account_id = ?1)"
    " ORDER BY last_name, first_name LIMIT ?2"
)
_OPPORTUNITIES = (
    "SELECT id, name, stage, amount, close_date FROM opportunities WHERE {column} = ?1"
    " ORDER BY is_open DESC, close_date LIMIT ?2"
)
_CASES = (
    "SELECT id, title, ticket_number, status, priority FROM cases WHERE {column} = ?1"
    " ORDER BY created_at DESC LIMIT ?2"
)
_ACTIVITIES_REGARDING = (
    "SELECT id, kind, subject, at FROM activities WHERE regarding_id = ?1 ORDER BY at DESC LIMIT ?2"
)
_ACTIVITIES_OF_CONTACT = (
    "SELECT id, subject, at FROM activities WHERE kind = ?2 AND id IN"
    " (SELECT activity_id FROM activity_parties WHERE contact_id = ?1) ORDER BY at DESC LIMIT ?3"
)


def get_record(
    connection: sqlite3.Connection, record_type: str, record_id: str, url: RecordUrl
) -> Record:
    """Return one record with its related records, or raise `NotFound`."""
    query = _FIELDS.get(record_type)
    rows = as_dicts(connection.execute(query, (record_id,))) if query else []
    if not rows:
        raise NotFound(f"No {record_type} with id {record_id!r} in the sandbox CRM.")
    record: Record = {"type": record_type, **rows[0], "url": url(record_type, record_id)}

    def related(sql: str, row_type: str | None, *params: object) -> list[Record]:
        found = as_dicts(connection.execute(sql, (*params, RELATED_LIMIT)))
        for row in found:
            kind = row_type or row.get("kind", "")
            row["url"] = url(kind, row["id"])
        return found

    if record_type == "contact":
        account_id = record.pop("account_id")
        record["accounts"] = related(_ACCOUNTS_OF_CONTACT, "account", account_id, record_id)
        record["opportunities"] = related(
            _OPPORTUNITIES.format(column="contact_id"), "opportunity", record_id
        )
        record["cases"] = related(_CASES.format(column="contact_id"), "case", record_id)
        record["emails"] = related(_ACTIVITIES_OF_CONTACT, "email", record_id, "email")
        record["meetings"] = related(_ACTIVITIES_OF_CONTACT, "meeting", record_id, "meeting")
    elif record_type == "account":
        record["contacts"] = related(_CONTACTS_OF_ACCOUNT, "contact", record_id)
        record["opportunities"] = related(
            _OPPORTUNITIES.format(column="account_id"), "opportunity", record_id
        )
        record["cases"] = related(_CASES.format(column="account_id"), "case", record_id)
        record["activities"] = related(_ACTIVITIES_REGARDING, None, record_id)
    elif record_type in ("opportunity", "case"):
        account_id, contact_id = record.pop("account_id"), record.pop("contact_id")
        record["account"] = related(
            "SELECT id, name FROM accounts WHERE id = ? LIMIT ?", "account", account_id
        )
        record["contact"] = related(
            "SELECT id, first_name || ' ' || last_name AS name, email1 AS email FROM contacts"
            " WHERE id = ? LIMIT ?",
            "contact",
            contact_id,
        )
        record["activities"] = related(_ACTIVITIES_REGARDING, None, record_id)
    else:
        _add_activity_details(connection, record, url)
    return record


def _add_activity_details(connection: sqlite3.Connection, record: Record, url: RecordUrl) -> None:
    regarding_type, regarding_id = record.pop("regarding_type"), record.pop("regarding_id")
    record["regarding"] = []
    if regarding_type and regarding_id:
        name_sql = {
            "account": "SELECT name FROM accounts WHERE id = ?",
            "contact": "SELECT first_name || ' ' || last_name FROM contacts WHERE id = ?",
            "opportunity": "SELECT name FROM opportunities WHERE id = ?",
            "case": "SELECT title FROM cases WHERE id = ?",
        }[regarding_type]
        row = connection.execute(name_sql, (regarding_id,)).fetchone()
        record["regarding"] = [
            {
                "id": regarding_id,
                "name": row[0] if row else regarding_id,
                "record_type": regarding_type,
                "url": url(regarding_type, regarding_id),
            }
        ]
    parties = as_dicts(
        connection.execute(
            "SELECT role, address, name, contact_id FROM activity_parties WHERE activity_id = ?"
            " ORDER BY rowid",
            (record["id"],),
        )
    )
    for party in parties:
        contact_id = party.pop("contact_id")
        party["url"] = url("contact", contact_id) if contact_id else ""
    record["parties"] = parties
    record["attachments"] = as_dicts(
        connection.execute(
            "SELECT name, content_type, size FROM activity_attachments WHERE activity_id = ?"
            " ORDER BY rowid",
            (record["id"],),
        )
    )
