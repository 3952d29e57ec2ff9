"""Connections to the sandbox file, shared safely between threads, and SQLite's errors mapped.

Features
--------
* `ConnectionPool` lends a connection to one thread at a time and takes it back afterwards.
  A pool rather than a connection per thread: the Flask development server starts a thread per
  request, so thread-local connections would pile up until ``close()``. Idle connections beyond
  `ConnectionPool.max_idle` are closed on return. WAL mode lets readers run while one writer
  writes; writers queue on SQLite's busy timeout.
* The file must exist: it is opened read-write but never created (``mode=rw``), so a missing
  file says "run `sidepane seed`" instead of leaving an empty database behind.
* `translate` is the one table from SQLite errors to the adapter error tree; `ConnectionPool.lend`
  applies it to everything raised while a connection is lent.

Configuration
-------------
``busy_timeout``  seconds a statement waits for another writer before "database is locked"
``max_idle``      idle connections kept for reuse
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import Conflict, CrmError, Unavailable
from .schema import SCHEMA_VERSION

_SEED_HINT = "Run `sidepane seed` to create it."

#: (error class, text in the message, what the rep is told); first match wins.
ERRORS: tuple[tuple[type[sqlite3.Error], str, type[CrmError], str], ...] = (
    (sqlite3.IntegrityError, "", Conflict, "The sandbox CRM already holds a conflicting record."),
    (sqlite3.OperationalError, "locked", Unavailable, "The sandbox CRM is busy; try again."),
    (sqlite3.OperationalError, "busy", Unavailable, "The sandbox CRM is busy; try again."),
    (
        sqlite3.OperationalError,
        "unable to open",
        Unavailable,
        f"No sandbox CRM at {{path}}. {_SEED_HINT}",
    ),
    (
        sqlite3.OperationalError,
        "no such table",
        Unavailable,
        f"The sandbox CRM at {{path}} is incomplete. {_SEED_HINT}",
    ),
    (
        sqlite3.DatabaseError,
        "not a database",
        Unavailable,
        f"{{path}} is not a sandbox CRM. {_SEED_HINT}",
    ),
    (
        sqlite3.DatabaseError,
        "malformed",
        Unavailable,
        f"The sandbox CRM at {{path}} is damaged. {_SEED_HINT}",
    ),
    (sqlite3.ProgrammingError, "closed", Unavailable, "The sandbox CRM connection was closed."),
)


def translate(error: sqlite3.Error, path: str) -> CrmError:
    """Return the adapter error that stands for a SQLite error."""
    text = str(error).lower()
    for error_class, needle, crm_error, message in ERRORS:
        if isinstance(error, error_class) and needle in text:
            return crm_error(message.format(path=path))
    return Unavailable(f"The sandbox CRM failed: {error}")


class ConnectionPool:
    """Lend SQLite connections to one thread at a time."""

    def __init__(self, path: str | Path, busy_timeout: float = 5.0, max_idle: int = 4) -> None:
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self.max_idle = max_idle
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _open(self) -> sqlite3.Connection:
        file = Path(self.path)
        if not file.is_file():
            raise Unavailable(f"No sandbox CRM at {self.path}. {_SEED_HINT}")
        connection = sqlite3.connect(
            file.resolve().as_uri() + "?mode=rw",
            uri=True,
            timeout=self.busy_timeout,
            isolation_level=None,  # autocommit; writes use explicit BEGIN IMMEDIATE
            check_same_thread=False,  # lent to one thread at a time, maybe not the opener
        )
        try:
            connection.execute("PRAGMA mmap_size = 268435456")
            row = connection.execute(
                "SELECT value FROM sandbox_meta WHERE key = 'schema_version'"
            ).fetchone()
        except BaseException:
            connection.close()
            raise
        if row is None or row[0] != SCHEMA_VERSION:
            connection.close()
            raise Unavailable(f"The sandbox CRM at {self.path} is outdated. {_SEED_HINT}")
        return connection

    @contextmanager
    def lend(self) -> Iterator[sqlite3.Connection]:
        """Lend a connection for one logical request; SQLite errors leave as `CrmError`."""
        with self._lock:
            if self._closed:
                raise Unavailable("The sandbox CRM adapter was closed.")
            connection = self._idle.pop() if self._idle else None
        try:
            if connection is None:
                connection = self._open()
            yield connection
        except sqlite3.Error as error:
            raise translate(error, self.path) from error
        finally:
            if connection is not None:
                self._give_back(connection)

    def _give_back(self, connection: sqlite3.Connection) -> None:
        if connection.in_transaction:
            try:
                connection.rollback()  # a failed request must not leave half-done work open
            except sqlite3.Error:
                connection.close()
                return
        with self._lock:
            if not self._closed and len(self._idle) < self.max_idle:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        """Close idle connections now and lent ones when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


@contextmanager
def transaction(connection: sqlite3.Connection, *, write: bool = False) -> Iterator[None]:
    """Run a block in one transaction: a consistent snapshot, or an exclusive write."""
    connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
    except BaseException:
        connection.rollback()
        raise
    connection.execute("COMMIT")
