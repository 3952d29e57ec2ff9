"""A real worker process runs provisioning's checks (rule 20) and turns the CRM features on.

The test's demo app records the run as the admin page does (consent given, the admin's sandbox
environment) and sends it to the broker; a Celery worker started as production starts it
(``sidepane.provision``) checks the sandbox CRM and turns the organisation's features on. Each
test runs on SQLite with the filesystem transport, then on PostgreSQL with Redis.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import workers
from addin import create_app, crm, store
from addin.auth import ADMIN_ROLE, DEMO_TENANT
from addin.identity import Identity
from addin.services import consent, provisioning
from addin.store.models import AdminAudit, ProvisioningRun
from crm_adapters.sandbox import SeedReport
from tests.workers.conftest import Stack
from tests.workers.process import Worker

ADMIN = Identity(
    tenant_id=DEMO_TENANT,
    user_oid="demo-admin",
    email="admin@contoso.example",
    name="Admin",
    roles=frozenset({ADMIN_ROLE}),
    scopes=frozenset({"access_as_user"}),
)


@pytest.fixture
def config(stack: Stack, sandbox: tuple[Path, SeedReport]) -> dict[str, Any]:
    """The demo's configuration on the test's store and broker, the sweep's times short."""
    return {
        "DEMO": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": stack.database_url,
        "SANDBOX_PATH": str(sandbox[0]),
        "BROKER_URL": stack.broker_url,
        "TASK_QUEUE": stack.task_queue,
        "SAVE_SWEEP_SECONDS": 1,
        "SAVE_REDELIVER_SECONDS": 2,
        "AUTO_SAVE_REPLIES": False,
    }


@pytest.fixture
def app(config: dict[str, Any], instance: Path) -> Iterator[Flask]:
    application = create_app({**config, "TESTING": True})
    yield application
    application.extensions["store_engine"].dispose()


def record_run(app: Flask) -> str:
    """What the admin page does: consent, then turn on, on the admin's environment."""
    with app.app_context():
        session = store.session()
        link = consent.consent_link(session, ADMIN, app.config)
        state = parse_qs(urlsplit(link).query)["state"][0]
        consent.finish(session, {"admin_consent": "True", "state": state})
        run, created = provisioning.turn_on(session, ADMIN, crm.sandbox_directory().primary())
        session.commit()
        assert created
        return run.id


def send(app: Flask, run_id: str) -> None:
    with app.app_context():
        assert workers.enqueue_provisioning(run_id)


def wait_for_features(engine: Engine, worker: Worker, timeout: float = 30) -> ProvisioningRun:
    """Poll the store (fresh sessions: the worker writes) until the features are on."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine, expire_on_commit=False) as session:
            if provisioning.features_on(session, DEMO_TENANT):
                run = provisioning.latest_run(session, DEMO_TENANT)
                assert run is not None
                return run
            latest = provisioning.latest_run(session, DEMO_TENANT)
        if time.monotonic() > deadline:
            status = latest.status if latest else "no run"
            pytest.fail(
                f"the features are not on after {timeout} s (run {status})\n{worker.output()}"
            )
        time.sleep(0.1)


def audit(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.scalars(select(AdminAudit).order_by(AdminAudit.id))
        return [(r.action, r.old_value, r.new_value) for r in rows]


def test_a_worker_runs_the_checks_and_turns_the_features_on(app, config, start_worker):
    engine = app.extensions["store_engine"]
    worker = start_worker(config, beat=False)  # no periodic sweep: the run's own message does it
    run_id = record_run(app)
    send(app, run_id)

    run = wait_for_features(engine, worker)

    assert (run.id, run.status, run.attempts) == (run_id, "succeeded", 1)
    assert [(c.name, c.ok) for c in provisioning.checks_of(run)] == [
        ("reachable", True),
        ("permissions", True),
    ]
    assert audit(engine)[-1] == ("crm_features", "false", "true")
    assert "Task sidepane.provision[" in worker.output(tail=100_000)
    # The admin's status, as the API shows it, says so.
    answer = app.test_client().get(
        "/api/admin/status", headers={"Authorization": "Bearer demo:admin"}
    )
    assert answer.get_json()["crm_features"] is True
    assert answer.get_json()["provisioning"]["status"] == "succeeded"


def test_a_run_whose_message_was_lost_is_sent_again_by_the_sweep(app, config, start_worker):
    engine = app.extensions["store_engine"]
    record_run(app)  # recorded, never sent: as if the broker lost the message
    worker = start_worker(config)  # with the embedded beat: the sweep runs every second

    run = wait_for_features(engine, worker)

    assert run.status == "succeeded" and run.attempts == 1
    assert "sweep sent 1 provisioning run(s) again" in worker.output(tail=100_000)
