"""Bulk loading: buffer rows per table and write them in batches with ``executemany``.

Features
--------
* `Loader` keeps one list of row tuples per table, in the column order of `INSERTS`, and writes
  them all with `flush` (one ``executemany`` per table; the seed calls it every few thousand
  contacts so memory stays flat).
* Searchable records are added with `Loader.searchable`, which gives each record type its own
  block of search rowids (`schema.SEARCH_BLOCKS`) and stores the folded name.
* `new_id` makes uuid-like ids from the seed's random generator, so ids are reproducible.
* `Counts` tallies what was written for the seed report.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field

from .folding import fold
from .schema import SEARCH_BLOCKS

Row = tuple[object, ...]

INSERTS: dict[str, str] = {
    "accounts": "INSERT INTO accounts (id, name, website, phone, city, country, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)",
    "contacts": "INSERT INTO contacts (id, first_name, last_name, email1, email2, email3,"
    " job_title, account_id, company, business_phone, mobile_phone, website, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "contact_accounts": "INSERT INTO contact_accounts (contact_id, account_id) VALUES (?, ?)",
    "opportunities": "INSERT INTO opportunities (id, account_id, contact_id, name, stage, amount,"
    " close_date, is_open, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "cases": "INSERT INTO cases (id, account_id, contact_id, title, ticket_number, status,"
    " priority, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "activities": "INSERT INTO activities (id, kind, message_id, subject, body, at, ends_at,"
    " direction, regarding_type, regarding_id, location, conversation_id, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "activity_parties": "INSERT INTO activity_parties (activity_id, role, address, name,"
    " contact_id) VALUES (?, ?, ?, ?, ?)",
    "activity_attachments": "INSERT INTO activity_attachments (activity_id, name, content_type,"
    " size, content) VALUES (?, ?, ?, ?, ?)",
    "search_names": "INSERT INTO search_names (entry, record_type, record_id, name, folded)"
    " VALUES (?, ?, ?, ?, ?)",
}


def new_id(rng: random.Random) -> str:
    """Return a uuid-like id (version 4 layout) drawn from ``rng``."""
    digits = f"{rng.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


def deal_name(account_name: str, topic: str) -> str:
    """Return an opportunity's name: its account's name and what the deal is about."""
    return f"{account_name} \N{EN DASH} {topic}"


def ticket_number(sequence: int) -> str:
    """Return the case ticket number of the ``sequence``-th case (unique within a sandbox)."""
    return f"CAS-{sequence:07d}"


@dataclass(slots=True)
class Counts:
    contacts: int = 0
    accounts: int = 0
    opportunities: int = 0
    cases: int = 0
    emails: int = 0
    meetings: int = 0


@dataclass(slots=True)
class Loader:
    """Row buffers for every table, flushed in batches."""

    connection: sqlite3.Connection
    rows: dict[str, list[Row]] = field(default_factory=lambda: {table: [] for table in INSERTS})
    counts: Counts = field(default_factory=Counts)
    _next_entry: dict[str, int] = field(default_factory=lambda: dict(SEARCH_BLOCKS))

    def add(self, table: str, row: Row) -> None:
        """Buffer one row of ``table``."""
        self.rows[table].append(row)

    def searchable(self, record_type: str, record_id: str, name: str, folded: str = "") -> None:
        """Buffer a record's entry in the search index (``folded`` if already known)."""
        entry = self._next_entry[record_type]
        self._next_entry[record_type] = entry + 1
        self.rows["search_names"].append(
            (entry, record_type, record_id, name, folded or fold(name))
        )

    def flush(self) -> None:
        """Write every buffered row and empty the buffers."""
        for table, rows in self.rows.items():
            if rows:
                self.connection.executemany(INSERTS[table], rows)
                rows.clear()
