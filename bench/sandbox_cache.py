"""One seeded sandbox per size in ``bench/.cache``, so benchmarks share it instead of reseeding."""

from __future__ import annotations

import time
from pathlib import Path

from crm_adapters.sandbox import SeedReport, load_seed_report, seed

CACHE = Path(__file__).with_name(".cache")


def sandbox_path(contacts: int) -> Path:
    """Return where the sandbox of ``contacts`` contacts lives."""
    CACHE.mkdir(exist_ok=True)
    return CACHE / f"sandbox-{contacts}.db"


def seeded_sandbox(contacts: int) -> tuple[Path, SeedReport]:
    """Return the sandbox of ``contacts`` contacts and its report, seeding it on first use."""
    path = sandbox_path(contacts)
    report = load_seed_report(path)
    if report is not None and report.contacts == contacts:
        return path, report
    started = time.monotonic()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 2 or done == total:
            last[0] = time.monotonic()
            print(f"    seeding {done:,}/{total:,} contacts", flush=True)

    report = seed(path, contacts, progress=progress)
    print(f"    seeded in {time.monotonic() - started:.0f} s", flush=True)
    return path, report
