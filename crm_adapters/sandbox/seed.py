"""`seed`: (re)make the sandbox CRM file with realistic, reproducible, multilingual data.

Features
--------
* The showcase records first (`showcase`: the deliberate cases tests and the demo rely on), then
  the bulk (`bulk`): about one account per ten contacts, with opportunities, cases, past emails
  and meetings, in English, Italian, Danish, Polish and German.
* Reproducible: the same ``seed`` and ``contacts`` (and ``base_time``) give the same file; the
  showcase is the same for a given ``seed`` whatever the size.
* Fast: rows go in with ``executemany`` in batches into a file with no journal and no sync, and
  without indexes; indexes and the search index are built once at the end, then the file is
  switched to WAL for the adapter. A million contacts take a couple of minutes on two cores;
  200 contacts a fraction of a second.
* Safe to re-run: the file is built next to ``path`` and moved into place when complete; stale
  ``-wal``/``-shm`` files of the old one are removed first. Stop the app while re-seeding.
* ``progress(done, total)`` reports the share of the work done on the scale of the contact count
  (loading records is most of it; building indexes the rest), ending with ``(total, total)``.

The returned `SeedReport` is also stored in the file; `load_seed_report` reads it back.

Configuration
-------------
``contacts``   how many contacts, at least `MINIMUM_CONTACTS` (the showcase's own)
``seed``       random seed
``base_time``  "now" for the data: emails are before it, upcoming meetings after it (default: now)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from .bulk import BulkGenerator
from .loader import Loader
from .schema import build_search_index, create_indexes, create_tables
from .showcase import SHOWCASE_CONTACTS, Showcase, add_showcase
from .times import now

Progress = Callable[[int, int], None]

#: A seed makes at least the showcase's contacts.
MINIMUM_CONTACTS = SHOWCASE_CONTACTS
# Share of the work reported once the records are loaded, then once the B-tree indexes exist.
_LOADED, _INDEXED = 0.75, 0.85


@dataclasses.dataclass(frozen=True)
class SeedReport(Showcase):
    """What a seed made, and the deliberate records it guarantees (see `Showcase`)."""

    path: str
    seed: int
    base_time: str
    contacts: int
    accounts: int
    opportunities: int
    cases: int
    emails: int
    meetings: int
    seconds: float


def seed(
    path: str | os.PathLike[str],
    contacts: int,
    *,
    seed: int = 1,
    progress: Progress | None = None,
    base_time: dt.datetime | None = None,
) -> SeedReport:
    """Make a new sandbox CRM at ``path`` with ``contacts`` contacts and return its report."""
    if contacts < MINIMUM_CONTACTS:
        raise ValueError(f"contacts must be at least {MINIMUM_CONTACTS} (the showcase's own)")
    started = time.monotonic()
    base = (base_time or now()).astimezone(dt.UTC).replace(microsecond=0)
    target = Path(path)
    building = target.with_name(target.name + ".seeding")
    building.unlink(missing_ok=True)

    def report_share(share: float) -> None:
        if progress is not None:
            progress(min(contacts, int(contacts * share)), contacts)

    try:
        report = _build(building, target, contacts, seed, base, started, report_share)
    except BaseException:
        building.unlink(missing_ok=True)  # never leave half a sandbox behind
        raise
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(building, target)
    report_share(1.0)
    return report


def _build(
    building: Path,
    target: Path,
    contacts: int,
    seed: int,
    base: dt.datetime,
    started: float,
    report_share: Callable[[float], None],
) -> SeedReport:
    """Write the whole sandbox into ``building`` and return its report."""
    with closing(sqlite3.connect(building, isolation_level=None)) as connection:
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -262144"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("PRAGMA temp_store = MEMORY")
        create_tables(connection)  # executescript: runs outside our transaction
        connection.execute("BEGIN")
        loader = Loader(connection)
        showcase = add_showcase(loader, seed, base)
        loader.flush()
        bulk = BulkGenerator(loader, random.Random(seed), base)
        bulk_contacts = contacts - loader.counts.contacts
        bulk.run(bulk_contacts, lambda done: report_share(_LOADED * done / max(bulk_contacts, 1)))
        create_indexes(connection)
        report_share(_INDEXED)
        build_search_index(connection)
        counts = dataclasses.asdict(loader.counts)
        report = SeedReport(
            **dataclasses.asdict(showcase),
            path=str(target),
            seed=seed,
            base_time=base.isoformat(),
            seconds=round(time.monotonic() - started, 3),
            **counts,
        )
        store_report(connection, report)
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode = WAL")
    return report


def store_report(connection: sqlite3.Connection, report: SeedReport) -> None:
    """Keep the seed report in the file, for the demo to read back."""
    connection.execute(
        "INSERT OR REPLACE INTO sandbox_meta (key, value) VALUES ('seed_report', ?)",
        (json.dumps(dataclasses.asdict(report)),),
    )


def load_seed_report(path: str | os.PathLike[str]) -> SeedReport | None:
    """Return the report stored by the seed that made ``path``, if any."""
    if not Path(path).exists():
        return None
    with closing(sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)) as db:
        row = db.execute("SELECT value FROM sandbox_meta WHERE key = 'seed_report'").fetchone()
    if row is None:
        return None
    fields = json.loads(row[0])
    for name in ("shared_contact_ids", "multi_account_ids"):
        fields[name] = tuple(fields[name])
    return SeedReport(**fields)
