"""Sandbox CRM benchmark: seed speed, one batched match against one query per address, search.

Seeds ``SIDEPANE_BENCH_CONTACTS`` contacts (default 1,000,000) into ``bench/.cache``, then
measures on that file:

* ``sandbox.seed_seconds`` and ``sandbox.seed_contacts_per_second``;
* ``match_contacts`` for 1 address and for 50 addresses in one query, against the naive baseline
  of one query per address (``sandbox.match50_naive_over_batched`` is the ratio);
* ``search_records`` over ~50 varied queries (exact names, typos, missing diacritics, partial
  words, short prefixes): median and p95 latency, and how often a typo still finds its record.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from bench.sandbox_cache import sandbox_path
from bench.timing import median_ms
from crm_adapters.models import RecordType
from crm_adapters.sandbox import SandboxAdapter, SeedReport, seed
from crm_adapters.sandbox.schema import SEARCH_BLOCKS

Record = Callable[[str, float], None]
TYPES = [RecordType.CONTACT, RecordType.ACCOUNT, RecordType.OPPORTUNITY, RecordType.CASE]
REPEATS = 20


def run(record: Record) -> None:
    contacts = int(os.environ.get("SIDEPANE_BENCH_CONTACTS", "1000000"))
    # Seeded afresh (seeding is measured) where the other benchmarks reuse it.
    path = sandbox_path(contacts)
    report = _seed(path, contacts, record)
    crm = SandboxAdapter(path)
    try:
        _match(crm, path, report, record)
        _search(crm, path, record)
    finally:
        crm.close()


def _seed(path: Path, contacts: int, record: Record) -> SeedReport:
    print(f"  seeding {contacts:,} contacts into {path}", flush=True)
    shown = [-1]

    def progress(done: int, total: int) -> None:
        tenth = done * 10 // total
        if tenth != shown[0]:
            shown[0] = tenth
            print(f"    {tenth * 10:3d}%  ({done:,} / {total:,})", flush=True)

    started = time.perf_counter()
    report = seed(path, contacts, seed=1, progress=progress)
    seconds = time.perf_counter() - started
    size = path.stat().st_size / 1e6
    print(f"  seeded in {seconds:.1f} s ({size:,.0f} MB on disk)", flush=True)
    record("sandbox.seed_seconds", seconds)
    record("sandbox.seed_contacts_per_second", contacts / seconds)
    return report


def _match(crm: SandboxAdapter, path: Path, report: SeedReport, record: Record) -> None:
    with closing(sqlite3.connect(path)) as db:
        total = db.execute("SELECT max(rowid) FROM contacts").fetchone()[0]
        step = max(1, total // 40)
        sampled = [
            row[0]
            for row in db.execute(
                "SELECT email1 FROM contacts WHERE rowid % ? = 0 LIMIT 40", (step,)
            )
        ]
    addresses = [
        report.single_address,
        report.shared_address,
        report.second_field_address,
        report.third_field_address,
        *sampled,
    ]
    addresses += [f"stranger{n}@nowhere.example" for n in range(50 - len(addresses))]
    one = median_ms(lambda: crm.match_contacts([report.single_address]), REPEATS)
    batched = median_ms(lambda: crm.match_contacts(addresses), REPEATS)
    naive = median_ms(lambda: [crm.match_contacts([address]) for address in addresses], REPEATS)
    print(
        f"  match 1 address: {one:.2f} ms; 50 addresses: one query {batched:.2f} ms,"
        f" one query each {naive:.2f} ms",
        flush=True,
    )
    record("sandbox.match1_ms", one)
    record("sandbox.match50_batched_ms", batched)
    record("sandbox.match50_naive_ms", naive)
    record("sandbox.match50_naive_over_batched", naive / batched)


def _typo(rng: random.Random, name: str) -> str:
    """Drop, double or swap one letter inside the longest word of ``name``."""
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 4:
        return name
    i = rng.randrange(1, len(word) - 2)
    change = rng.choice(("drop", "double", "swap"))
    if change == "drop":
        word = word[:i] + word[i + 1 :]
    elif change == "double":
        word = word[:i] + word[i] + word[i:]
    else:
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    words[longest] = word
    return " ".join(words)


def _queries(path: Path) -> list[tuple[str, str]]:
    """Return (query, intended record name) pairs; the name is empty for browsing queries."""
    rng = random.Random(42)
    names: list[str] = []
    with closing(sqlite3.connect(path)) as db:
        for record_type, start in SEARCH_BLOCKS.items():
            count = db.execute(
                "SELECT count(*) FROM search_names WHERE record_type = ?", (record_type,)
            ).fetchone()[0]
            picks = sorted(rng.sample(range(count), min(count, 8)))
            names += [
                db.execute(
                    "SELECT name FROM search_names WHERE entry = ?", (start + pick,)
                ).fetchone()[0]
                for pick in picks
            ]
    queries = [(name, name) for name in names[::3]]
    queries += [(_typo(rng, name), name) for name in names]
    queries += [(name.lower()[: max(4, len(name) * 2 // 3)], "") for name in names[1::4]]
    queries += [
        ("Rosi Costruzioni", "Rossi Costruzioni S.p.A."),
        ("Lukasz Wrobel", "Łukasz Wróbel"),
        ("Soren Ostergaard", "Søren Østergaard"),
        ("ro", ""),
        ("m", ""),
        ("anna", ""),
    ]
    return queries


def _search(crm: SandboxAdapter, path: Path, record: Record) -> None:
    queries = _queries(path)
    latencies, typos, found = [], 0, 0
    for text, intended in queries:
        latencies.append(median_ms(lambda text=text: crm.search_records(text, TYPES, 10), 3))
        if intended and text != intended:
            typos += 1
            found += intended in [r.name for r in crm.search_records(text, TYPES, 10)]
    latencies.sort()
    median = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)))]
    print(
        f"  search over {len(queries)} queries: median {median:.1f} ms, p95 {p95:.1f} ms,"
        f" slowest {latencies[-1]:.1f} ms; typos found {found}/{typos}",
        flush=True,
    )
    record("sandbox.search_median_ms", median)
    record("sandbox.search_p95_ms", p95)
    record("sandbox.search_typo_found_ratio", found / max(typos, 1))
