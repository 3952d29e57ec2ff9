"""Accounts of contacts, with their open opportunities, open cases and recent activities.

Features
--------
* The accounts of all the given contacts: each contact's primary account, then its further
  links (``contact_accounts``), in the order the contacts were given, each account once.
* Per account, capped at ``limit`` each: open opportunities (soonest close first), open cases
  (newest first), and activities saved against the account or one of its cases or opportunities
  that already happened (most recent first).
* Four statements in one read transaction (a consistent snapshot); each takes every account at
  once and caps per account with ``ROW_NUMBER() OVER (PARTITION BY account_id ...)``.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..models import Account
from . import convert
from .convert import ACTIVITY_COLUMNS, CASE_COLUMNS, OPPORTUNITY_COLUMNS, RecordUrl, Row
from .schema import CLOSED_CASE_STATUSES
from .times import now, to_db

T = TypeVar("T")


_ACCOUNT_IDS = """
SELECT c.account_id, 0, n.key FROM contacts c JOIN json_each(?1) n ON n.value = c.id
 WHERE c.account_id IS NOT NULL
UNION ALL
SELECT l.account_id, 1, n.key FROM contact_accounts l JOIN json_each(?1) n ON n.value = l.contact_id
ORDER BY 3, 2
"""
_OPPORTUNITIES = f"""
SELECT * FROM (
  SELECT o.account_id, {OPPORTUNITY_COLUMNS}, ROW_NUMBER() OVER (
    PARTITION BY o.account_id ORDER BY o.close_date, o.rowid) AS n
  FROM opportunities o WHERE o.account_id IN (SELECT value FROM json_each(?1)) AND o.is_open = 1
) WHERE n <= ?2
"""
_CASES = f"""
SELECT * FROM (
  SELECT k.account_id, {CASE_COLUMNS}, ROW_NUMBER() OVER (
    PARTITION BY k.account_id ORDER BY k.created_at DESC, k.rowid) AS n
  FROM cases k WHERE k.account_id IN (SELECT value FROM json_each(?1))
   AND k.status NOT IN {CLOSED_CASE_STATUSES!r}
) WHERE n <= ?2
"""
_ACTIVITIES = f"""
WITH targets (account_id, record_id) AS (
  SELECT value, value FROM json_each(?1)
  UNION ALL SELECT account_id, id FROM cases WHERE account_id IN (SELECT value FROM json_each(?1))
  UNION ALL SELECT account_id, id FROM opportunities
   WHERE account_id IN (SELECT value FROM json_each(?1))
)
SELECT * FROM (
  SELECT t.account_id, {ACTIVITY_COLUMNS}, ROW_NUMBER() OVER (
    PARTITION BY t.account_id ORDER BY v.at DESC, v.rowid) AS n
  FROM targets t JOIN activities v ON v.regarding_id = t.record_id WHERE v.at <= ?3
) WHERE n <= ?2
"""


def get_accounts(
    connection: sqlite3.Connection, contact_ids: Sequence[str], limit: int, url: RecordUrl
) -> list[Account]:
    """Return the accounts of ``contact_ids`` with their related items, ``limit`` of each."""
    ordered = connection.execute(_ACCOUNT_IDS, (json.dumps(list(contact_ids)),)).fetchall()
    account_ids = list(dict.fromkeys(row[0] for row in ordered))
    if not account_ids:
        return []
    wanted = json.dumps(account_ids)
    rows = connection.execute(
        "SELECT id, name, website, phone, city, country FROM accounts"
        " WHERE id IN (SELECT value FROM json_each(?))",
        (wanted,),
    ).fetchall()
    opportunities = _by_account(
        connection.execute(_OPPORTUNITIES, (wanted, limit)), convert.opportunity, url
    )
    cases = _by_account(connection.execute(_CASES, (wanted, limit)), convert.case, url)
    activities = _by_account(
        connection.execute(_ACTIVITIES, (wanted, limit, to_db(now()))), convert.activity, url
    )
    by_id = {row[0]: row for row in rows}
    return [
        Account(
            id=account_id,
            name=by_id[account_id][1],
            website=by_id[account_id][2],
            phone=by_id[account_id][3],
            city=by_id[account_id][4],
            country=by_id[account_id][5],
            url=url("account", account_id),
            opportunities=tuple(opportunities[account_id]),
            cases=tuple(cases[account_id]),
            activities=tuple(activities[account_id]),
        )
        for account_id in account_ids
        if account_id in by_id  # a link to a deleted account is not an account
    ]


def _by_account(
    cursor: sqlite3.Cursor, make: Callable[[Row, RecordUrl], T], url: RecordUrl
) -> dict[str, list[T]]:
    """Group converted rows by their first column (the account id); the last is the rank."""
    grouped: dict[str, list[T]] = defaultdict(list)
    for row in cursor:
        grouped[row[0]].append(make(row[1:-1], url))
    return grouped
