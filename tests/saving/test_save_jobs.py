"""Save jobs in the store (rule 14): one job per item, one worker at a time; SQLite and PostgreSQL.

Concurrency is real: each thread has its own session (its own database connection), and they
start together at a barrier.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy.orm import Session, sessionmaker

from addin.services import save_jobs
from addin.services.save_jobs import Skipped
from addin.store.models import SaveJob
from crm_adapters.models import Environment, RecordRef

from .conftest import (
    ENVIRONMENT,
    OTHER_REP,
    REP,
    count_jobs,
    make_job,
    seconds_from_now,
    set_job,
    utcnow,
)

T = TypeVar("T")
LEASE = 300.0

pytestmark = pytest.mark.usefixtures("database_url")


def together(sessions: sessionmaker[Session], count: int, act: Callable[[Session], T]) -> list[T]:
    """Run ``act`` in ``count`` threads at once, each with a session of its own."""
    barrier = threading.Barrier(count)

    def run(_: int) -> T:
        with sessions() as own:
            barrier.wait(timeout=10)
            return act(own)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def reload(sessions: sessionmaker[Session], job_id: str) -> SaveJob:
    with sessions() as fresh:
        found = fresh.get(SaveJob, job_id)
        assert found is not None
        return found


# --- creating -----------------------------------------------------------------------------------


def test_a_job_is_created_once_per_item_key_and_per_message_id(session):
    regarding = RecordRef("account", "acc-1", "Rossi Costruzioni")
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", regarding=regarding)
    assert (job.status, job.attempts, job.origin) == ("queued", 0, "rep")
    assert save_jobs.regarding_of(job) == regarding
    assert save_jobs.environment_of(job) == ENVIRONMENT

    common: dict[str, Any] = {"identity": OTHER_REP, "environment": ENVIRONMENT, "kind": "email"}
    same_key, created = save_jobs.create_job(
        session, item_key="<m1@x>", item_id="other", message_id=None, **common
    )
    assert (same_key.id, created) == (job.id, False)
    same_message, created = save_jobs.create_job(
        session, item_key="item:draft-1", item_id="draft-1", message_id="<m1@x>", **common
    )
    assert (same_message.id, created) == (job.id, False)
    assert count_jobs(session) == 1

    elsewhere = Environment("fabrikam", "Fabrikam", "production", "http://f.test", "sandbox")
    other, created = save_jobs.create_job(
        session,
        identity=REP,
        environment=elsewhere,
        kind="email",
        item_key="<m1@x>",
        item_id="m1",
        message_id="<m1@x>",
    )
    assert created and other.id != job.id  # one job per item *per environment*
    assert count_jobs(session) == 2


def test_find_job_finds_by_key_or_message_id_in_its_environment_only(session):
    job = make_job(session, key="item:ev-1", message_id="uid-1", kind="meeting")
    assert save_jobs.find_job(session, "contoso", item_key="item:ev-1") == job
    assert save_jobs.find_job(session, "contoso", message_id="uid-1") == job
    assert save_jobs.find_job(session, "fabrikam", item_key="item:ev-1") is None
    assert save_jobs.find_job(session, "contoso", item_key="item:ev-2") is None
    assert save_jobs.find_job(session, "contoso") is None


@pytest.mark.parametrize("shared", ["item_key", "message_id"])
def test_two_threads_creating_the_same_job_at_once_make_one(sessions, shared):
    def create(own: Session) -> tuple[str, bool]:
        unique = str(threading.get_ident())
        job, created = save_jobs.create_job(
            own,
            identity=REP,
            environment=ENVIRONMENT,
            kind="email",
            # Either both name the same item, or two copies of one message (a draft's item key
            # and the sent email's) meet on the message id.
            item_key="<same@x>" if shared == "item_key" else f"item:{unique}",
            item_id=unique,
            message_id="<same@x>" if shared == "message_id" else None,
        )
        return job.id, created

    for _round in range(3):  # a race lost once is not proof: run it a few times
        with sessions() as clean:
            clean.query(SaveJob).delete()
            clean.commit()
        results = together(sessions, 2, create)
        assert len({job_id for job_id, _ in results}) == 1
        assert sorted(created for _, created in results) == [False, True]
        with sessions() as check:
            assert count_jobs(check) == 1


# --- claiming -----------------------------------------------------------------------------------


def test_only_one_of_many_concurrent_claimers_wins(session, sessions):
    job = make_job(session, key="<m1@x>", message_id="<m1@x>")

    def claim(own: Session) -> str | None:
        claimed = save_jobs.claim(own, job.id, LEASE)
        return claimed[1] if claimed else None

    tokens = together(sessions, 4, claim)
    winners = [t for t in tokens if t is not None]
    assert len(winners) == 1
    claimed = reload(sessions, job.id)
    assert (claimed.status, claimed.lease_token, claimed.attempts) == ("saving", winners[0], 1)
    assert LEASE - 10 < seconds_from_now(claimed.lease_until) <= LEASE


def test_a_live_lease_cannot_be_claimed_and_an_expired_one_can(session):
    job = make_job(session, key="<m1@x>", message_id="<m1@x>")
    first = save_jobs.claim(session, job.id, LEASE)
    assert first is not None
    assert save_jobs.claim(session, job.id, LEASE) is None
    set_job(session, job, lease_until=utcnow() - dt.timedelta(seconds=1))  # its worker died
    second = save_jobs.claim(session, job.id, LEASE)
    assert second is not None and second[1] != first[1]
    assert second[0].attempts == 2 and second[0].lease_token == second[1]


def test_only_due_queued_or_waiting_jobs_can_be_claimed(session):
    later = make_job(session, key="<later@x>")
    set_job(session, later, next_attempt_at=utcnow() + dt.timedelta(seconds=30))
    assert save_jobs.claim(session, later.id, LEASE) is None
    # A message may come a little early (two hosts' clocks): within 2 s it claims the job.
    set_job(session, later, next_attempt_at=utcnow() + dt.timedelta(seconds=1))
    assert save_jobs.claim(session, later.id, LEASE) is not None

    waiting = make_job(session, key="<waiting@x>")
    set_job(session, waiting, status="waiting", next_attempt_at=utcnow())
    assert save_jobs.claim(session, waiting.id, LEASE) is not None

    for status in ("saved", "failed", "merged"):
        done = make_job(session, key=f"<{status}@x>")
        set_job(session, done, status=status, next_attempt_at=utcnow() - dt.timedelta(hours=1))
        assert save_jobs.claim(session, done.id, LEASE) is None, status
        assert session.get(SaveJob, done.id, populate_existing=True).status == status
    assert save_jobs.claim(session, "no-such-job", LEASE) is None


# --- settling: only the lease holder ------------------------------------------------------------

REF = RecordRef("email", "act-1", "Delivery dates", "http://crm.test/email/act-1")
SETTLE: dict[str, tuple[Callable[[Session, SaveJob, str], bool], str]] = {
    "finish": (
        lambda s, j, t: save_jobs.finish(
            s,
            j,
            t,
            ref=REF,
            created=True,
            skipped=[Skipped("big.pdf", "size")],
            crm_requests=1,
            mailbox_requests=2,
        ),
        "saved",
    ),
    "retry_later": (
        lambda s, j, t: save_jobs.retry_later(
            s, j, t, delay=30, code="rate_limited", message="busy", crm_requests=1
        ),
        "queued",
    ),
    "wait": (lambda s, j, t: save_jobs.wait(s, j, t, delay=60, mailbox_requests=1), "waiting"),
    "fail": (
        lambda s, j, t: save_jobs.fail(s, j, t, code="rejected", message="no", crm_requests=1),
        "failed",
    ),
}


@pytest.mark.parametrize("operation", list(SETTLE))
def test_only_the_lease_holder_changes_the_job(session, sessions, operation):
    settle, status = SETTLE[operation]
    job = make_job(session, key="<m1@x>", message_id="<m1@x>")
    stale = save_jobs.claim(session, job.id, LEASE)
    assert stale is not None
    set_job(session, job, lease_until=utcnow() - dt.timedelta(seconds=1))
    with sessions() as successor_session:
        successor = save_jobs.claim(successor_session, job.id, LEASE)
    assert successor is not None

    # The worker presumed dead comes back: nothing it says changes the job.
    assert settle(session, stale[0], stale[1]) is False
    after = reload(sessions, job.id)
    assert (after.status, after.lease_token, after.error_code) == ("saving", successor[1], "")
    assert (after.crm_requests, after.mailbox_requests, after.activity_id) == (0, 0, "")

    assert settle(session, stale[0], successor[1]) is True
    done = reload(sessions, job.id)
    assert done.status == status
    assert done.lease_token is None and done.lease_until is None
    # A second word from the same holder changes nothing either: the lease is given back.
    assert settle(session, stale[0], successor[1]) is False


def test_what_each_outcome_records(session):
    job = make_job(session, key="<m1@x>", message_id="<m1@x>")
    _, token = save_jobs.claim(session, job.id, LEASE) or (None, "")
    save_jobs.retry_later(
        session, job, token, delay=30, code="rate_limited", message="busy", mailbox_requests=1
    )
    assert (job.status, job.error_code, job.error_message) == ("queued", "rate_limited", "busy")
    assert 25 < seconds_from_now(job.next_attempt_at) <= 30
    assert abs(seconds_from_now(job.enqueued_at)) < 5

    set_job(session, job, next_attempt_at=utcnow())
    _, token = save_jobs.claim(session, job.id, LEASE) or (None, "")
    save_jobs.wait(session, job, token, delay=60, mailbox_requests=1)
    assert job.status == "waiting" and job.enqueued_at is None
    assert 55 < seconds_from_now(job.next_attempt_at) <= 60

    set_job(session, job, next_attempt_at=utcnow())
    _, token = save_jobs.claim(session, job.id, LEASE) or (None, "")
    skipped = [Skipped("big.pdf", "size"), Skipped("fwd.eml", "item")]
    save_jobs.finish(
        session,
        job,
        token,
        ref=REF,
        created=True,
        skipped=skipped,
        crm_requests=1,
        mailbox_requests=2,
    )
    assert (job.status, job.activity_id, job.activity_url) == ("saved", "act-1", REF.url)
    assert job.activity_created is True and (job.error_code, job.error_message) == ("", "")
    assert save_jobs.skipped_of(job) == skipped
    assert (job.crm_requests, job.mailbox_requests) == (1, 4)  # summed over the attempts
    assert job.saved_at is not None and abs(seconds_from_now(job.saved_at)) < 5


def test_unreadable_skipped_lists_read_as_empty(session):
    job = make_job(session, key="<m1@x>")
    set_job(session, job, skipped="not json")
    assert save_jobs.skipped_of(job) == []
    set_job(session, job, skipped='[{"nom": "x"}]')
    assert save_jobs.skipped_of(job) == []


# --- merging ------------------------------------------------------------------------------------


def test_learning_a_message_id_another_job_has_merges_into_it(session):
    sent = make_job(session, key="<m1@x>", message_id="<m1@x>")
    draft = make_job(session, key="item:draft-1")
    claimed = save_jobs.claim(session, draft.id, LEASE)
    assert claimed is not None

    target = save_jobs.learn_message_id(session, draft, claimed[1], "<m1@x>")

    assert target.id == sent.id
    merged = session.get(SaveJob, draft.id, populate_existing=True)
    assert (merged.status, merged.merged_into, merged.lease_token) == ("merged", sent.id, None)
    assert merged.message_id is None
    assert save_jobs.find_job(session, "contoso", item_key="item:draft-1").id == sent.id
    assert save_jobs.follow(session, merged).id == sent.id
    # The job merged into is untouched, and the session still works after the clash.
    assert session.get(SaveJob, sent.id, populate_existing=True).status == "queued"
    assert count_jobs(session) == 2


def test_learning_a_new_message_id_records_it(session):
    draft = make_job(session, key="item:draft-1")
    claimed = save_jobs.claim(session, draft.id, LEASE)
    assert claimed is not None
    assert save_jobs.learn_message_id(session, draft, claimed[1], "<d1@x>").id == draft.id
    assert draft.message_id == "<d1@x>" and draft.status == "saving"
    assert save_jobs.find_job(session, "contoso", message_id="<d1@x>").id == draft.id


# --- the rep's retry ----------------------------------------------------------------------------


def test_retry_requeues_failed_jobs_only(session):
    failed = make_job(session, key="<failed@x>")
    set_job(
        session,
        failed,
        status="failed",
        attempts=10,
        error_code="gave_up",
        error_message="timeout",
        next_attempt_at=utcnow() - dt.timedelta(days=1),
    )
    assert save_jobs.retry(session, failed) is True
    assert (failed.status, failed.attempts, failed.error_code, failed.error_message) == (
        "queued",
        0,
        "",
        "",
    )
    assert abs(seconds_from_now(failed.next_attempt_at)) < 5
    assert save_jobs.claim(session, failed.id, LEASE) is not None  # due at once

    for status in ("saved", "queued", "waiting", "saving", "merged"):
        job = make_job(session, key=f"<{status}@x>")
        set_job(session, job, status=status, attempts=3, error_code="x")
        assert save_jobs.retry(session, job) is False, status
        assert (job.status, job.attempts, job.error_code) == (status, 3, "x")


# --- the sweep ----------------------------------------------------------------------------------


def test_due_jobs_are_the_unsent_the_stale_the_waiting_and_the_abandoned(session):
    now = utcnow()
    ago = lambda seconds: now - dt.timedelta(seconds=seconds)  # noqa: E731
    states: dict[str, dict[str, Any]] = {
        "queued_unsent": {"enqueued_at": None, "next_attempt_at": ago(5)},
        "queued_stale": {"enqueued_at": ago(200), "next_attempt_at": ago(200)},
        "retry_due_sent_long_ago": {"enqueued_at": ago(400), "next_attempt_at": ago(1)},
        "queued_fresh": {"enqueued_at": ago(10), "next_attempt_at": ago(10)},
        "queued_later": {"enqueued_at": None, "next_attempt_at": ago(-60)},
        "waiting_due": {"status": "waiting", "enqueued_at": None, "next_attempt_at": ago(1)},
        "waiting_later": {"status": "waiting", "enqueued_at": None, "next_attempt_at": ago(-60)},
        "lease_expired": {"status": "saving", "lease_until": ago(1), "next_attempt_at": ago(400)},
        "lease_live": {"status": "saving", "lease_until": ago(-60), "next_attempt_at": ago(400)},
        "saved": {"status": "saved", "enqueued_at": None, "next_attempt_at": ago(400)},
        "failed": {"status": "failed", "enqueued_at": None, "next_attempt_at": ago(400)},
        "merged": {"status": "merged", "enqueued_at": None, "next_attempt_at": ago(400)},
    }
    ids = {}
    for name, values in states.items():
        job = make_job(session, key=f"<{name}@x>")
        set_job(session, job, **values)
        ids[job.id] = name

    due = save_jobs.due_jobs(session, redeliver_seconds=120)
    assert sorted(ids[i] for i in due) == [
        "lease_expired",
        "queued_stale",
        "queued_unsent",
        "retry_due_sent_long_ago",
        "waiting_due",
    ]
    for job_id in due:  # marked as sent now
        sent = session.get(SaveJob, job_id, populate_existing=True)
        assert abs(seconds_from_now(sent.enqueued_at)) < 5
    # Sent a moment ago, the queued ones wait for their message; the others are still due.
    again = save_jobs.due_jobs(session, redeliver_seconds=120)
    assert sorted(ids[i] for i in again) == ["lease_expired", "waiting_due"]
    assert save_jobs.due_jobs(session, redeliver_seconds=120, limit=1) != []
