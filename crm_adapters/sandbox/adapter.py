"""`SandboxAdapter`: the reference CRM adapter, on the SQLite file `seed` makes.

Features
--------
* Every `CrmAdapter` method, with nothing left unimplemented: the conformance suite's yardstick.
* One logical request per public call that reads or writes the file: ``round_trips`` goes up by
  exactly one, however many statements the call runs: they share one connection, and one
  transaction when there are several. ``match_contacts`` is one statement for any number of
  addresses; calls with nothing to ask (no addresses, no words) make no request.
* Writes (`create_contact`, `save_email`, `save_meeting`) run in ``BEGIN IMMEDIATE``
  transactions, so concurrent saves of one message id make one activity.
* Threads: one adapter may serve several threads; connections come from a small pool
  (`connection.ConnectionPool`), each used by one thread at a time.
* Record pages: `record_url` and `new_contact_url` point at the sandbox pages the web app serves
  under ``{base_url}/sandbox/{environment_id}/``; `get_record` gives those pages their data.
* Errors: SQLite's are mapped once in `connection.ERRORS` (busy → `Unavailable`, missing or
  foreign file → `Unavailable` saying to run ``sidepane seed``, integrity → `Conflict`).

Capabilities
------------
The sandbox keeps whatever it is given, so it can save drafts and meetings in compose and
auto-save replies and meeting updates, needs no server-side sync, matches all three email fields,
and searches accounts, contacts, opportunities and cases.

Configuration
-------------
``path``            the SQLite file (must exist: ``sidepane seed`` makes it)
``base_url``        where the web app serves the sandbox record pages
``environment_id``  the sandbox environment's id in those URLs
``busy_timeout``    seconds to wait for another writer before answering `Unavailable`
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

from ..base import CrmAdapter
from ..models import (
    EMAIL_FIELDS,
    Account,
    Capabilities,
    Contact,
    ContactContext,
    ContactDraft,
    EmailActivity,
    MeetingActivity,
    ReadinessCheck,
    RecordRef,
    RecordType,
    RelatedItems,
    SavedActivity,
)
from . import accounts, activities, contacts, records, search
from .connection import ConnectionPool, transaction


class SandboxAdapter(CrmAdapter):
    """The embedded CRM on SQLite."""

    name = "sandbox"
    capabilities = Capabilities(
        save_drafts=True,
        save_compose_meetings=True,
        auto_save_replies=True,
        auto_save_meeting_updates=True,
        needs_server_side_sync=False,
        email_fields=EMAIL_FIELDS,
        record_types=(
            RecordType.ACCOUNT,
            RecordType.CONTACT,
            RecordType.OPPORTUNITY,
            RecordType.CASE,
        ),
        contact_required_fields=("last_name", "email"),
    )

    def __init__(
        self,
        path: str | os.PathLike[str],
        base_url: str = "http://127.0.0.1:8000",
        environment_id: str = "sandbox",
        *,
        busy_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.base_url = base_url.rstrip("/")
        self.environment_id = environment_id
        self._pool = ConnectionPool(self.path, busy_timeout=busy_timeout)

    @contextmanager
    def _request(self, *, write: bool | None = None) -> Iterator[sqlite3.Connection]:
        """Count one round trip and lend a connection: no, a read or a write transaction."""
        self._count_round_trip()
        with self._pool.lend() as connection:
            if write is None:
                yield connection
            else:
                with transaction(connection, write=write):
                    yield connection

    # --- URLs (no request) --------------------------------------------------------------------

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._pages}/{quote(record_type, safe='')}/{quote(record_id, safe='')}"

    def new_contact_url(self, draft: ContactDraft) -> str:
        fields = {
            name: value
            for name in ContactDraft.__dataclass_fields__
            if isinstance(value := getattr(draft, name), str) and value
        }
        return f"{self._pages}/contact/new?{urlencode(fields)}"

    @property
    def _pages(self) -> str:
        return f"{self.base_url}/sandbox/{quote(self.environment_id, safe='')}"

    # --- contacts -----------------------------------------------------------------------------

    def match_contacts(
        self, addresses: Sequence[str], email_fields: Sequence[str] = EMAIL_FIELDS
    ) -> dict[str, list[Contact]]:
        if not addresses:
            return {}
        with self._request() as connection:
            return contacts.contacts_by_address(
                connection, addresses, email_fields, self.record_url
            )

    def create_contact(self, draft: ContactDraft) -> Contact:
        contacts.validate_draft(draft)
        with self._request(write=True) as connection:
            return contacts.create_contact(connection, draft, self.record_url)

    # --- accounts and related items -----------------------------------------------------------

    def get_accounts(self, contact_ids: Sequence[str], limit: int = 5) -> list[Account]:
        if not contact_ids:
            return []
        with self._request(write=False) as connection:
            return accounts.get_accounts(connection, contact_ids, limit, self.record_url)

    def related_activities(self, contact_id: str, limit: int = 3) -> RelatedItems:
        with self._request(write=False) as connection:
            return activities.related_activities(connection, contact_id, limit, self.record_url)

    def contact_context(
        self,
        contact_ids: Sequence[str],
        related_contact_id: str | None,
        *,
        accounts_limit: int = 5,
        related_limit: int = 3,
    ) -> ContactContext:
        if not contact_ids and not related_contact_id:
            return ContactContext()
        with self._request(write=False) as connection:  # one read transaction: one round trip
            found = (
                accounts.get_accounts(connection, contact_ids, accounts_limit, self.record_url)
                if contact_ids
                else []
            )
            related = (
                activities.related_activities(
                    connection, related_contact_id, related_limit, self.record_url
                )
                if related_contact_id
                else RelatedItems()
            )
        return ContactContext(tuple(found), related)

    # --- records ------------------------------------------------------------------------------

    def search_records(self, text: str, types: Sequence[str], limit: int = 10) -> list[RecordRef]:
        if not search.worth_asking(text, types, limit):
            return []
        with self._request() as connection:
            return search.search_records(connection, text, types, limit, self.record_url)

    def get_record(self, record_type: str, record_id: str) -> dict[str, Any]:
        """Return a record's fields and related rows for its sandbox page (`NotFound` if none)."""
        with self._request(write=False) as connection:
            return records.get_record(connection, record_type, record_id, self.record_url)

    # --- saving activities --------------------------------------------------------------------

    def save_email(self, activity: EmailActivity) -> SavedActivity:
        with self._request(write=True) as connection:
            return activities.save_activity(connection, activity, self.record_url)

    def save_meeting(self, activity: MeetingActivity) -> SavedActivity:
        with self._request(write=True) as connection:
            return activities.save_activity(connection, activity, self.record_url)

    def find_saved(self, message_id: str) -> RecordRef | None:
        with self._request() as connection:
            return activities.find_saved(connection, message_id, self.record_url)

    # --- provisioning (rule 20) ----------------------------------------------------------------

    def readiness(self) -> tuple[ReadinessCheck, ...]:
        """Prove the file opens as a sandbox CRM with one statement; `Unavailable` if it does not.

        Opening checks the file exists and holds this schema version (`connection`); ``SELECT 1``
        then reads it. Whoever can open the file may do everything, so permissions are given.
        """
        with self._request() as connection:
            connection.execute("SELECT 1").fetchone()
        return (ReadinessCheck("reachable", True), ReadinessCheck("permissions", True))

    def close(self) -> None:
        self._pool.close()
