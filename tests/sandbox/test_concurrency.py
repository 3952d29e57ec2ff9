"""Threads: one adapter serving several threads, and concurrent saves of one message id."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import pytest

from crm_adapters import Unavailable
from crm_adapters.models import EmailActivity, Party, RecordRef, SavedActivity
from crm_adapters.sandbox import SandboxAdapter, SeedReport

T = TypeVar("T")


def all_at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in ``count`` threads released together."""
    start = threading.Barrier(count)

    def run(i: int) -> T:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_one_adapter_serves_many_threads(crm: SandboxAdapter, report: SeedReport) -> None:
    expected = {
        report.single_address: {report.single_contact_id},
        report.shared_address: set(report.shared_contact_ids),
        report.third_field_address: {report.third_field_contact_id},
    }

    def match_many(_: int) -> bool:
        for _round in range(25):
            found = crm.match_contacts([*expected, "nobody@nowhere.example"])
            if {a: {c.id for c in cs} for a, cs in found.items() if cs} != expected:
                return False
        return True

    assert all(all_at_once(8, match_many))
    assert crm.round_trips == 8 * 25


def email(report: SeedReport, message_id: str) -> EmailActivity:
    return EmailActivity(
        message_id=message_id,
        subject="Same email, two clicks",
        sender=Party(report.single_address),
        sent_at=dt.datetime.now(dt.UTC),
        regarding=RecordRef("account", report.account_id, ""),
    )


@pytest.mark.parametrize("shared_adapter", [True, False])
def test_concurrent_saves_of_one_message_make_one_activity(
    sandbox: tuple[Path, SeedReport], shared_adapter: bool
) -> None:
    path, report = sandbox
    adapters = [SandboxAdapter(path) for _ in range(1 if shared_adapter else 6)]
    try:
        for attempt in range(5):
            message_id = f"<race-{attempt}@mail.example>"

            def save(i: int, message_id: str = message_id) -> SavedActivity:
                return adapters[i % len(adapters)].save_email(email(report, message_id))

            results = all_at_once(6, save)
            assert sorted(r.created for r in results) == [False] * 5 + [True]
            assert len({r.ref.id for r in results}) == 1
    finally:
        for adapter in adapters:
            adapter.close()
    with closing(sqlite3.connect(path)) as db:
        counts = db.execute(
            "SELECT count(*), count(DISTINCT message_id) FROM activities"
            " WHERE message_id LIKE '<race-%'"
        ).fetchone()
    assert counts == (5, 5)


def test_a_closed_adapter_answers_unavailable(crm: SandboxAdapter, report: SeedReport) -> None:
    crm.match_contacts([report.single_address])
    crm.close()
    with pytest.raises(Unavailable, match="closed"):
        crm.match_contacts([report.single_address])
