"""One seeded sandbox per size, kept in ``bench/.cache`` so benchmarks share it across runs."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from crm_adapters.sandbox import SeedReport, seed

CACHE = Path(__file__).with_name(".cache")


def seeded_sandbox(contacts: int) -> tuple[Path, SeedReport]:
    """Return the sandbox of ``contacts`` contacts and its report, seeding it on first use."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"sandbox-{contacts}.db"
    facts = path.with_suffix(".json")
    if path.exists() and facts.exists():
        return path, SeedReport(**json.loads(facts.read_text()))
    started = time.monotonic()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 2 or done == total:
            last[0] = time.monotonic()
            print(f"    seeding {done:,}/{total:,} contacts", flush=True)

    report = seed(path, contacts, progress=progress)
    facts.write_text(json.dumps(asdict(report)))
    print(f"    seeded in {time.monotonic() - started:.0f} s", flush=True)
    return path, report
