"""Contacts: match addresses in one query, validate and create new contacts.

Features
--------
* `match_contacts` answers any number of addresses with **one** statement: the addresses travel
  as one bound JSON array (``json_each``), so there is no variable limit to chunk around and no
  way for a quote, ``%``, ``_`` or backslash to become SQL. ``IN`` compares exactly; addresses are
  stored lower-cased and looked up lower-cased, through a partial index per email field.
* `contacts_by_address` is the same lookup for saving activities (resolving parties).
* `validate_draft` rejects a draft without last name or a usable address, naming the field.
* `create_contact` links the new contact to ``account_id`` (which must exist) or else to the
  account whose name is exactly the draft's company (case-insensitive), and indexes it for search.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence

from .. import drafts
from ..errors import NotFound, Rejected
from ..models import EMAIL_FIELDS, Contact, ContactDraft
from . import convert
from .convert import CONTACT_COLUMNS, CONTACTS_FROM, RecordUrl
from .search import index_record
from .times import now, to_db

#: Longest value accepted in any draft field (an address may be up to 320 characters).
MAX_FIELD_LENGTH = 320


def contacts_by_address(
    connection: sqlite3.Connection,
    addresses: Sequence[str],
    email_fields: Sequence[str],
    url: RecordUrl,
) -> dict[str, list[Contact]]:
    """Map each lower-cased address to the contacts holding it in one of ``email_fields``."""
    unknown = [name for name in email_fields if name not in EMAIL_FIELDS]
    if unknown or not email_fields:
        raise Rejected(f"email_fields must be some of {', '.join(EMAIL_FIELDS)}; got {unknown}")
    wanted = list(dict.fromkeys(address.lower() for address in addresses))
    matches: dict[str, list[Contact]] = {address: [] for address in wanted}
    # Field names come from the whitelist above; only the addresses are data, bound as one value.
    condition = " OR ".join(
        f"c.{name} IN (SELECT value FROM json_each(?1))" for name in email_fields
    )
    rows = connection.execute(
        f"SELECT {CONTACT_COLUMNS}, c.rowid FROM {CONTACTS_FROM} WHERE {condition}",
        (json.dumps(wanted),),
    ).fetchall()
    field_positions = [3 + EMAIL_FIELDS.index(name) for name in email_fields]
    for row in sorted(rows, key=lambda row: row[-1]):  # oldest contact first
        contact = convert.contact(row, url)
        for address in dict.fromkeys(row[position] for position in field_positions):
            if address in matches:
                matches[address].append(contact)
    return matches


def validate_draft(draft: ContactDraft) -> None:
    """Raise `Rejected` naming the first field of ``draft`` the sandbox cannot accept."""
    drafts.check_required(draft)
    for name in ContactDraft.__dataclass_fields__:
        value = getattr(draft, name)
        if isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
            raise Rejected(f"{name}: longer than {MAX_FIELD_LENGTH} characters.")


def create_contact(connection: sqlite3.Connection, draft: ContactDraft, url: RecordUrl) -> Contact:
    """Insert a validated draft as a new contact, inside the caller's write transaction."""
    account = _account_for(connection, draft)
    contact_id = str(uuid.uuid4())
    first, last = draft.first_name.strip(), draft.last_name.strip()
    company = "" if account else draft.company.strip()
    connection.execute(
        "INSERT INTO contacts (id, first_name, last_name, email1, job_title, account_id, company,"
        " business_phone, mobile_phone, website, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            contact_id,
            first,
            last,
            draft.email.strip().lower(),
            draft.job_title.strip(),
            account[0] if account else None,
            company,
            draft.business_phone.strip(),
            draft.mobile_phone.strip(),
            draft.website.strip(),
            to_db(now()),
        ),
    )
    index_record(connection, "contact", contact_id, f"{first} {last}".strip())
    row = connection.execute(
        f"SELECT {CONTACT_COLUMNS} FROM {CONTACTS_FROM} WHERE c.id = ?", (contact_id,)
    ).fetchone()
    return convert.contact(row, url)


def _account_for(connection: sqlite3.Connection, draft: ContactDraft) -> tuple[str, str] | None:
    if draft.account_id:
        row = connection.execute(
            "SELECT id, name FROM accounts WHERE id = ?", (draft.account_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"No account with id {draft.account_id!r} to link the contact to.")
        return row[0], row[1]
    if draft.company.strip():
        row = connection.execute(
            "SELECT id, name FROM accounts WHERE name = ? COLLATE NOCASE ORDER BY rowid LIMIT 1",
            (draft.company.strip(),),
        ).fetchone()
        return (row[0], row[1]) if row else None
    return None
