"""A real worker process saves what the pane queued: the demo app, its harness mailbox, the sandbox.

The test's app creates jobs through ``POST /pane/save`` and sends them to the broker; a Celery
worker started as production starts it (prefork, with the embedded beat that runs the sweep)
does the saving. The store and the sandbox CRM are files both processes open. Each test runs
on SQLite with the filesystem transport, then on PostgreSQL with Redis.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import workers
from addin import create_app
from addin.connections.sandbox import environment_path
from addin.harness.samples import Sample, build_samples, rest_id
from addin.store.models import SaveJob
from crm_adapters.sandbox import SandboxAdapter, SeedReport
from tests.workers.conftest import Jobs, Stack

#: Short enough that a killed worker's job comes back within seconds, long enough for a save.
LEASE_SECONDS = 5


@pytest.fixture
def config(stack: Stack, sandbox: tuple[Path, SeedReport]) -> dict[str, Any]:
    """The demo's configuration on the test's store and broker, with the sweep's times short."""
    return {
        "DEMO": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": stack.database_url,
        "SANDBOX_PATH": str(sandbox[0]),
        "BROKER_URL": stack.broker_url,
        "TASK_QUEUE": stack.task_queue,
        "SAVE_LEASE_SECONDS": LEASE_SECONDS,
        "SAVE_SWEEP_SECONDS": 1,
        "SAVE_REDELIVER_SECONDS": 2,
        "AUTO_SAVE_REPLIES": False,
    }


@pytest.fixture
def app(config: dict[str, Any], instance: Path) -> Iterator[Flask]:
    application = create_app({**config, "TESTING": True})
    yield application
    application.extensions["store_engine"].dispose()


@pytest.fixture
def jobs(app: Flask) -> Jobs:
    return Jobs(app.extensions["store_engine"])


@pytest.fixture
def samples(sandbox: tuple[Path, SeedReport]) -> dict[str, Sample]:
    built = build_samples(
        sandbox[1],
        rep_address="alex@contoso.example",
        rep_name="Alex Morgan",
        now=dt.datetime.now(dt.UTC),
    )
    return {sample.key: sample for sample in built}


def pane_item(sample: Sample) -> dict[str, Any]:
    """What pane.js sends for a harness sample (its readItem), with the REST item id."""
    office = sample.item

    def person(p: dict[str, str] | None) -> dict[str, str] | None:
        return {"address": p["emailAddress"], "name": p.get("displayName", "")} if p else None

    item: dict[str, Any] = {
        "type": office["itemType"],
        "mode": office["mode"],
        "subject": office.get("subject", ""),
        "mailbox": "alex@contoso.example",
        "item_id": rest_id(sample.saved_item_id),
    }
    if office["itemType"] == "appointment":
        item["organizer"] = person(office.get("organizer"))
        item["attendees"] = [
            person(p)
            for p in office.get("requiredAttendees", []) + office.get("optionalAttendees", [])
        ]
    else:
        item["from"] = person(office.get("from"))
        item["to"] = [person(p) for p in office.get("to", [])]
        item["cc"] = [person(p) for p in office.get("cc", [])]
        item["conversation_id"] = office.get("conversationId", "")
    if office["mode"] == "read" and office.get("internetMessageId"):
        item["internet_message_id"] = office["internetMessageId"]
    return item


@pytest.fixture
def save(app: Flask, jobs: Jobs) -> Callable[[Sample], SaveJob]:
    """Press Save on a sample in the pane as the demo rep; return the job it made or found."""
    client = app.test_client()

    def press(sample: Sample) -> SaveJob:
        item = pane_item(sample)
        answer = client.post(
            "/pane/save",
            json={"item": item, "fields": {}},
            headers={"Authorization": "Bearer demo:alex", "Accept-Language": "en-US"},
        )
        assert answer.status_code in (200, 202), answer.get_data(as_text=True)
        key = item.get("internet_message_id") or f"item:{item['item_id']}"
        (job,) = [job for job in jobs.all() if job.item_key == key]
        return job

    return press


def saved_in_sandbox(sandbox_path: Path, job: SaveJob) -> int:
    """How many activities the job's environment holds for the job's message id."""
    path = environment_path(sandbox_path, job.environment_id)
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM activities WHERE message_id = ?", (job.message_id,)
        ).fetchone()
    connection.close()
    return int(count)


def assert_saved_once(sandbox_path: Path, job: SaveJob) -> None:
    assert job.status == "saved", (job.status, job.error_code, job.error_message)
    assert job.message_id, "the worker learned the item's CRM key"
    assert saved_in_sandbox(sandbox_path, job) == 1
    adapter = SandboxAdapter(
        environment_path(sandbox_path, job.environment_id),
        base_url="http://127.0.0.1:8000",
        environment_id=job.environment_id,
    )
    try:
        found = adapter.find_saved(job.message_id)
    finally:
        adapter.close()
    assert found is not None and found.id == job.activity_id


def saved(job_id: str) -> Callable[[list[SaveJob]], bool]:
    return lambda found: any(j.id == job_id and j.status == "saved" for j in found)


def test_a_worker_saves_an_email_the_pane_queued_once(
    config, start_worker, save, samples, jobs, sandbox
):
    worker = start_worker(config)
    job = save(samples["known-sender"])
    jobs.wait(saved(job.id), timeout=30, what="the email saved", worker=worker)
    done = jobs.get(job.id)
    assert_saved_once(sandbox[0], done)
    assert done.activity_created and done.attempts == 1
    # Saving it again finds the job: no second job, no second activity.
    again = save(samples["known-sender"])
    assert again.id == job.id and again.status == "saved"
    assert saved_in_sandbox(sandbox[0], done) == 1


def test_a_worker_saves_a_meeting(config, start_worker, save, samples, jobs, sandbox):
    worker = start_worker(config)
    job = save(samples["meeting"])
    assert job.kind == "meeting" and job.item_key.startswith("item:")
    jobs.wait(saved(job.id), timeout=30, what="the meeting saved", worker=worker)
    done = jobs.get(job.id)
    assert done.message_id.startswith("sidepane-harness-")  # its iCalUId, read by the worker
    assert_saved_once(sandbox[0], done)


def test_a_job_whose_worker_was_killed_holding_it_is_saved_once_after_a_restart(
    config, start_worker, save, samples, jobs, sandbox
):
    worker = start_worker(config)
    # Hold the sandbox CRM's write lock, so the worker's save waits inside its lease.
    crm = sqlite3.connect(sandbox[0], timeout=1, isolation_level=None)
    try:
        crm.execute("BEGIN EXCLUSIVE")
        job = save(samples["italian"])
        jobs.wait(
            lambda found: any(j.id == job.id and j.status == "saving" for j in found),
            timeout=20,
            what="the worker holding the job",
            worker=worker,
        )
        worker.kill()
        held = jobs.get(job.id)
        assert held.status == "saving" and held.lease_until is not None
    finally:
        crm.close()  # rolls the lock's transaction back
    assert saved_in_sandbox(sandbox[0], held) == 0
    # The new worker's sweep sends the job again once the dead worker's lease has run out.
    worker.start()
    jobs.wait(
        saved(job.id), timeout=LEASE_SECONDS + 30, what="saved after the restart", worker=worker
    )
    done = jobs.get(job.id)
    assert_saved_once(sandbox[0], done)
    assert done.attempts == 2


def test_a_job_whose_message_the_broker_lost_is_sent_again_by_the_sweep(
    config, start_worker, save, samples, jobs, sandbox, monkeypatch
):
    worker = start_worker(config)
    lost: list[str] = []

    def enqueue_save(job_id: str) -> bool:  # the broker took the message, then lost it
        lost.append(job_id)
        return True

    monkeypatch.setattr(workers, "enqueue_save", enqueue_save)
    job = save(samples["danish"])
    assert lost == [job.id] and job.status == "queued"
    jobs.wait(saved(job.id), timeout=30, what="the lost job saved by the sweep", worker=worker)
    done = jobs.get(job.id)
    assert_saved_once(sandbox[0], done)
    assert done.attempts == 1
    assert "sweep sent 1 save job(s) again" in worker.output(tail=100_000)
