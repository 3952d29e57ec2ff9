"""What worker tests share: the store-and-broker stacks, real worker processes, the jobs' state.

* ``stack``: the local store and the broker, once as the demo runs (SQLite file, filesystem
  transport under the test's instance folder) and once as production runs (PostgreSQL, Redis
  with a queue of the test's own). Without the server, the PostgreSQL+Redis run is skipped on a
  developer's machine and fails under CI (``CI`` set), as ``tests/conftest.py`` does for
  PostgreSQL alone.
* ``instance``: the test's instance folder, also the app's (``SIDEPANE_INSTANCE_PATH``).
* ``start_worker(config, ...)``: a running `Worker` configured like the app; every worker is
  stopped when the test ends, pass or fail, and a failed test's report carries their logs.
* `Jobs`: the save jobs as the store holds them, read with fresh sessions while workers write.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from addin import store
from addin.store.models import SaveJob
from tests.conftest import _postgres_database
from tests.workers.process import Worker

REDIS_URL = os.environ.get("SIDEPANE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKERS = pytest.StashKey[list[Worker]]()


@dataclass(frozen=True, slots=True)
class Stack:
    """Where the test's app and its workers keep jobs and send them."""

    name: str
    database_url: str
    broker_url: str  # "": the filesystem transport under the instance folder
    task_queue: str


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must reach Redis at {REDIS_URL}: {reason}")
    pytest.skip(f"no Redis at {REDIS_URL}: {reason}")


def _redis_answers(url: str) -> str:
    """Return why Redis at ``url`` cannot be used, or "" when it answers PING."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2) as s:
            s.sendall(b"PING\r\n")
            answer = s.recv(64)
    except OSError as error:
        return str(error)
    return "" if answer.startswith(b"+PONG") else f"it answered {answer!r} to PING"


def redis_queue() -> Iterator[str]:
    """Yield a queue name of the test's own on the machine's Redis; delete its keys after."""
    problem = _redis_answers(REDIS_URL)
    if problem:
        _unavailable(problem)
    try:
        import redis  # kombu's Redis transport needs it: `pip install 'celery[redis]'`
    except ImportError:
        _unavailable("the redis client package is not installed (celery[redis])")
    queue = f"sidepane-test-{uuid.uuid4().hex[:12]}"
    try:
        yield queue
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            _forget_queue(client, queue)
        finally:
            client.close()


def _forget_queue(client: Any, queue: str) -> None:
    """Delete the queue's lists and bindings and the unacknowledged messages sent to it."""
    keys = [*client.scan_iter(match=f"{queue}*"), f"_kombu.binding.{queue}"]
    client.delete(*keys)
    for tag, payload in client.hgetall("unacked").items():
        try:
            _message, _exchange, routing_key = json.loads(payload)
        except (ValueError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture(
    params=[
        pytest.param("sqlite-filesystem"),
        pytest.param("postgres-redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    if request.param == "sqlite-filesystem":
        url = f"sqlite:///{tmp_path / 'sidepane.db'}"
        store.upgrade(url)
        yield Stack(request.param, url, "", "sidepane")
        return
    for queue in redis_queue():
        for url in _postgres_database():
            store.upgrade(url)
            yield Stack(request.param, url, REDIS_URL, queue)


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The instance folder of the test's app and of its workers (store, filesystem broker)."""
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setenv("SIDEPANE_INSTANCE_PATH", str(folder))
    return folder


@pytest.fixture
def start_worker(request: pytest.FixtureRequest, instance: Path) -> Iterator[Callable[..., Worker]]:
    """Return ``start_worker(config, **options)``: a ready `Worker`, stopped after the test."""
    started: list[Worker] = []
    request.node.stash[WORKERS] = started

    def start(config: dict[str, Any], **options: Any) -> Worker:
        worker = Worker(config, instance, name=f"worker{len(started) + 1}", **options)
        started.append(worker)
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed worker test shows what its workers logged."""
    report = yield
    workers = item.stash.get(WORKERS, [])
    if report.failed and workers:
        report.sections.append(("celery workers", "\n".join(w.output() for w in workers)))
    return report


class Jobs:
    """The save jobs in the store, each read afresh (workers change them meanwhile)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def all(self) -> list[SaveJob]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(SaveJob).order_by(SaveJob.created_at)))

    def get(self, job_id: str) -> SaveJob:
        with Session(self.engine, expire_on_commit=False) as session:
            job = session.get(SaveJob, job_id)
        assert job is not None, f"no job {job_id}"
        return job

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for job in self.all():
            counts[job.status] = counts.get(job.status, 0) + 1
        return counts

    def wait(
        self,
        done: Callable[[list[SaveJob]], bool],
        *,
        timeout: float,
        what: str,
        worker: Worker | None = None,
    ) -> list[SaveJob]:
        """Poll until ``done(jobs)``; fail naming ``what`` and the jobs (and worker log)."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = self.all()
            if done(jobs):
                return jobs
            if time.monotonic() > deadline:
                detail = "\n".join(
                    f"  {j.id} {j.status} attempts={j.attempts} {j.error_code} {j.error_message}"
                    for j in jobs
                    if j.status != "saved"
                )
                log = f"\n{worker.output()}" if worker is not None else ""
                pytest.fail(f"{what}: not after {timeout} s; {self.statuses()}\n{detail}{log}")
            time.sleep(0.05)
