"""Turn sandbox rows into the product's dataclasses.

Each ``*_COLUMNS`` string is the select list its converter reads, in order, so a query and its
converter cannot drift apart. ``RecordUrl`` is the adapter's `record_url`, passed in so rows come
out with links that open them in the sandbox's own pages.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any, cast

from ..models import ActivitySummary, Case, Contact, Opportunity
from .times import from_db

RecordUrl = Callable[[str, str], str]
Row = tuple[Any, ...]

CONTACT_COLUMNS = (
    "c.id, c.first_name, c.last_name, c.email1, c.email2, c.email3, c.job_title, c.account_id,"
    " COALESCE(a.name, c.company), c.business_phone, c.mobile_phone"
)
#: Joins ``accounts a`` for the company name; use with `CONTACT_COLUMNS`.
CONTACTS_FROM = "contacts c LEFT JOIN accounts a ON a.id = c.account_id"
OPPORTUNITY_COLUMNS = "o.id, o.name, o.stage, o.amount, o.close_date"
CASE_COLUMNS = "k.id, k.title, k.ticket_number, k.status, k.priority"
ACTIVITY_COLUMNS = "v.id, v.kind, v.subject, v.at"


def contact(row: Row, url: RecordUrl) -> Contact:
    emails = tuple(address for address in row[3:6] if address)
    return Contact(
        id=row[0],
        first_name=row[1],
        last_name=row[2],
        emails=emails,
        job_title=row[6],
        account_id=row[7],
        company=row[8] or "",
        business_phone=row[9],
        mobile_phone=row[10],
        url=url("contact", row[0]),
        crm="sandbox",
    )


def opportunity(row: Row, url: RecordUrl) -> Opportunity:
    close_date = dt.date.fromisoformat(row[4]) if row[4] else None
    return Opportunity(row[0], row[1], row[2], row[3], close_date, url("opportunity", row[0]))


def case(row: Row, url: RecordUrl) -> Case:
    return Case(row[0], row[1], row[2], row[3], row[4], url("case", row[0]))


def activity(row: Row, url: RecordUrl) -> ActivitySummary:
    return ActivitySummary(row[0], row[1], row[2], from_db(row[3]), url(row[1], row[0]))


def as_dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Return a cursor's rows as plain dicts keyed by column name."""
    names = [cast(str, column[0]) for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
