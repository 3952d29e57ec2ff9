"""The sandbox CRM's SQLite schema: tables, indexes, the search index and its triggers.

Tables
------
accounts              companies: name, website, phone, city, country
contacts              people: up to three addresses (``email1..3``), a primary ``account_id`` and,
                      when no account is linked, a free-text ``company``
contact_accounts      further accounts of a contact (a contact may work for several)
opportunities         deals of an account (``is_open`` 1 while not won or lost)
cases                 service tickets of an account (``status`` Resolved/Cancelled = closed)
activities            saved emails and meetings; ``message_id`` is unique (idempotent saves); ``at``
                      is when an email was sent or a meeting starts, ``ends_at`` when it ends;
                      ``regarding_type``/``regarding_id`` name the record it was saved against
activity_parties      from|to|cc|bcc|organizer|attendee of an activity, with the contact it
                      resolved to when the address named exactly one contact
activity_attachments  files of a saved email (``content`` BLOB)
sandbox_meta          schema version and the seed report (JSON)

Conventions
-----------
* Ids are uuid-like text; every table also has SQLite's integer rowid for compact storage.
* Addresses are stored lower-cased (Python's ``str.lower``, so non-ASCII too) in ``email1..3``,
  each with a partial index: matching is exact, case-insensitive and index-only.
* Times are UTC text ``YYYY-MM-DD HH:MM:SS`` (sortable; SQLite's own date functions read it);
  dates are ``YYYY-MM-DD``.

Search
------
``search_names`` holds one row per searchable record (contacts, accounts, opportunities, cases):
display ``name`` and ``folded`` (see `folding.fold`). Each record type owns a block of rowids
(`SEARCH_BLOCKS`) so a query can ask the index for one type with a rowid range.
``search_index`` is an FTS5 word index over ``folded`` (external content, ``detail=none``: we only
ever ask for whole terms, never phrases, so positions would be dead weight). ``search_words`` is
the vocabulary of that index with document counts, and ``search_words_fts`` a trigram index over
it, which is where typos are forgiven (see `search`). Indexes and the search index are built after
a bulk load (`create_indexes`, `build_search_index`), then triggers keep them current.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = "1"

#: Each searchable record type's first rowid in ``search_names`` / ``search_index``.
SEARCH_BLOCK_SIZE = 10**12
SEARCH_BLOCKS: dict[str, int] = {
    "contact": 1 * SEARCH_BLOCK_SIZE,
    "account": 2 * SEARCH_BLOCK_SIZE,
    "opportunity": 3 * SEARCH_BLOCK_SIZE,
    "case": 4 * SEARCH_BLOCK_SIZE,
}

#: Case statuses that close a case; any other status is open.
CLOSED_CASE_STATUSES = ("Resolved", "Cancelled")

#: Table holding each record type (activities hold both emails and meetings).
RECORD_TABLES: dict[str, str] = {
    "contact": "contacts",
    "account": "accounts",
    "opportunity": "opportunities",
    "case": "cases",
    "email": "activities",
    "meeting": "activities",
}

TABLES = """
CREATE TABLE sandbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE accounts (
    id TEXT NOT NULL, name TEXT NOT NULL, website TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '', city TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL
);
CREATE TABLE contacts (
    id TEXT NOT NULL, first_name TEXT NOT NULL DEFAULT '', last_name TEXT NOT NULL,
    email1 TEXT, email2 TEXT, email3 TEXT, job_title TEXT NOT NULL DEFAULT '', account_id TEXT,
    company TEXT NOT NULL DEFAULT '', business_phone TEXT NOT NULL DEFAULT '',
    mobile_phone TEXT NOT NULL DEFAULT '', website TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE contact_accounts (
    contact_id TEXT NOT NULL, account_id TEXT NOT NULL, PRIMARY KEY (contact_id, account_id)
) WITHOUT ROWID;
CREATE TABLE opportunities (
    id TEXT NOT NULL, account_id TEXT, contact_id TEXT, name TEXT NOT NULL, stage TEXT NOT NULL,
    amount REAL, close_date TEXT, is_open INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE cases (
    id TEXT NOT NULL, account_id TEXT, contact_id TEXT, title TEXT NOT NULL,
    ticket_number TEXT NOT NULL, status TEXT NOT NULL, priority TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE activities (
    id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('email', 'meeting')),
    message_id TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL, ends_at TEXT, direction TEXT, regarding_type TEXT, regarding_id TEXT,
    location TEXT NOT NULL DEFAULT '', conversation_id TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE activity_parties (
    activity_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('from', 'to', 'cc', 'bcc', 'organizer', 'attendee')),
    address TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', contact_id TEXT
);
CREATE TABLE activity_attachments (
    activity_id TEXT NOT NULL, name TEXT NOT NULL, content_type TEXT NOT NULL,
    size INTEGER NOT NULL, content BLOB NOT NULL
);
CREATE TABLE search_names (
    entry INTEGER PRIMARY KEY, record_type TEXT NOT NULL, record_id TEXT NOT NULL,
    name TEXT NOT NULL, folded TEXT NOT NULL
);
CREATE TABLE search_words (
    id INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE, docs INTEGER NOT NULL
);
"""

# Built after the bulk load: sorting once is far faster than keeping indexes during inserts.
INDEXES: tuple[str, ...] = (
    "CREATE UNIQUE INDEX contacts_id ON contacts (id)",
    "CREATE INDEX contacts_email1 ON contacts (email1) WHERE email1 IS NOT NULL",
    "CREATE INDEX contacts_email2 ON contacts (email2) WHERE email2 IS NOT NULL",
    "CREATE INDEX contacts_email3 ON contacts (email3) WHERE email3 IS NOT NULL",
    "CREATE INDEX contacts_account ON contacts (account_id) WHERE account_id IS NOT NULL",
    "CREATE UNIQUE INDEX accounts_id ON accounts (id)",
    "CREATE INDEX accounts_name ON accounts (name COLLATE NOCASE)",
    "CREATE INDEX contact_accounts_account ON contact_accounts (account_id)",
    "CREATE UNIQUE INDEX opportunities_id ON opportunities (id)",
    "CREATE INDEX opportunities_account ON opportunities (account_id, is_open, close_date)",
    "CREATE INDEX opportunities_contact ON opportunities (contact_id)",
    "CREATE UNIQUE INDEX cases_id ON cases (id)",
    "CREATE UNIQUE INDEX cases_ticket_number ON cases (ticket_number)",
    "CREATE INDEX cases_account ON cases (account_id, created_at)",
    "CREATE INDEX cases_contact ON cases (contact_id)",
    "CREATE UNIQUE INDEX activities_id ON activities (id)",
    "CREATE UNIQUE INDEX activities_message_id ON activities (message_id)",
    "CREATE INDEX activities_regarding ON activities (regarding_id, at)",
    "CREATE INDEX activity_parties_activity ON activity_parties (activity_id)",
    "CREATE INDEX activity_parties_contact ON activity_parties (contact_id, activity_id)"
    " WHERE contact_id IS NOT NULL",
    "CREATE INDEX activity_attachments_activity ON activity_attachments (activity_id)",
    "CREATE INDEX search_names_prefix ON search_names (record_type, folded)",
)

SEARCH_INDEX: tuple[str, ...] = (
    "CREATE VIRTUAL TABLE search_index USING fts5("
    "folded, content='search_names', content_rowid='entry', detail='none')",
    "INSERT INTO search_index (search_index) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE search_terms USING fts5vocab(search_index, 'row')",
    "INSERT INTO search_words (word, docs) SELECT term, doc FROM search_terms ORDER BY term",
    "CREATE VIRTUAL TABLE search_words_fts USING fts5("
    "word, content='search_words', content_rowid='id', tokenize='trigram')",
    "INSERT INTO search_words_fts (search_words_fts) VALUES ('rebuild')",
    """CREATE TRIGGER search_names_added AFTER INSERT ON search_names BEGIN
        INSERT INTO search_index (rowid, folded) VALUES (new.entry, new.folded);
    END""",
    """CREATE TRIGGER search_words_added AFTER INSERT ON search_words BEGIN
        INSERT INTO search_words_fts (rowid, word) VALUES (new.id, new.word);
    END""",
)


def create_tables(connection: sqlite3.Connection) -> None:
    """Create the empty tables and record the schema version."""
    connection.executescript(TABLES)
    connection.execute(
        "INSERT INTO sandbox_meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
    )


def create_indexes(connection: sqlite3.Connection) -> None:
    """Create the B-tree indexes (after a bulk load)."""
    for statement in INDEXES:
        connection.execute(statement)


def build_search_index(connection: sqlite3.Connection) -> None:
    """Build the search index and its vocabulary from ``search_names`` (after a bulk load)."""
    for statement in SEARCH_INDEX:
        connection.execute(statement)
