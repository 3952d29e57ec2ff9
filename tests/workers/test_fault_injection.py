"""The acceptance test of queued saving: no save lost, none made twice, whatever fails meanwhile.

Two reps of a fresh tenant have 200 emails in the Graph emulator. Each email is saved through
``POST /pane/save`` with the rep's Entra-signed token, as the pane does: the app exchanges the
token on the rep's behalf (Graph, Global Discovery, Dataverse), seals the rep's tokens in the
store and queues the job. Real Celery worker processes (prefork, 2 children, the embedded beat
running the sweep) read each email from Graph through O365 and save it to the Dataverse
emulator with the Dynamics adapter over HTTPS, acting for the rep with the stored refresh token.

Meanwhile the Dataverse emulator answers at random (seeded, `tests.workers.faults`) 429 with a
Retry-After of 0-1 s, 5xx before anything is written, and 5xx after an email was written; and
a chaos thread SIGKILLs the worker's whole process group at random moments, 5 times, each time
starting a new worker. In the end every job is ``saved`` and each message id is in Dataverse's
email table exactly once, as the job that saved it says.

The run is once on SQLite with the filesystem transport and once on PostgreSQL with Redis.
Set ``SIDEPANE_FAULT_SEED`` to repeat a run's decisions.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addin import create_app
from addin.services.save_jobs import aware, utcnow
from addin.store.models import SaveJob
from crm_adapters.sandbox import SeedReport
from tests.conftest import API_AUDIENCE
from tests.dynamics.app_config import dynamics_config, register_sidepane
from tests.emulators.discovery import GlobalDiscoveryEmulator
from tests.emulators.entra import EntraEmulator
from tests.emulators.graph import GraphEmulator
from tests.workers.conftest import Jobs, Stack
from tests.workers.faults import COMMITTED_ERROR, ERROR, THROTTLE, FaultPlan, FaultyDataverse
from tests.workers.process import Worker

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("SIDEPANE_FAULT_SEED", "20261121"))
REPS = ("alex", "sam")
EMAILS_PER_REP = 100
KILLS = 5
#: Longer than a save can take, or two workers could save one job at once: a save makes 2
#: Dataverse requests (and 1-3 Graph ones), each retried at most 3 times after a Retry-After
#: <= 1 s or a backoff <= 2 s, so about 7 s at worst; the longest seen here took 2 s.
LEASE_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Rep:
    name: str
    tenant_id: str
    oid: str
    email: str
    token: str


@pytest.fixture
def faulty_dataverse(
    entra: EntraEmulator, seeded_sandbox: tuple[Path, SeedReport]
) -> Iterator[FaultyDataverse]:
    plan = FaultPlan(seed=SEED)
    with FaultyDataverse.from_sandbox(str(seeded_sandbox[0]), entra=entra, plan=plan) as emulator:
        yield emulator


@pytest.fixture
def tenant(entra: EntraEmulator) -> str:
    register_sidepane(entra)
    return str(uuid.uuid4())


@pytest.fixture
def config(
    stack: Stack,
    entra: EntraEmulator,
    discovery: GlobalDiscoveryEmulator,
    graph: GraphEmulator,
    faulty_dataverse: FaultyDataverse,
    tenant: str,
) -> dict[str, Any]:
    """Production's configuration (Dynamics, Graph) on the emulators, the sweep's times short."""
    discovery.add_instance(
        "Contoso",
        faulty_dataverse.url,
        faulty_dataverse.url,
        organization_type=0,
        tenant_id=tenant,
    )
    return {
        **dynamics_config(entra, discovery, stack.database_url),
        "GRAPH_URL": f"{graph.url}/",
        "MAILBOX": "graph",
        "BROKER_URL": stack.broker_url,
        "TASK_QUEUE": stack.task_queue,
        "SAVE_LEASE_SECONDS": LEASE_SECONDS,
        "SAVE_SWEEP_SECONDS": 1,
        "SAVE_REDELIVER_SECONDS": 5,
        "AUTO_SAVE_REPLIES": False,
    }


@pytest.fixture
def app(config: dict[str, Any], instance: Path) -> Iterator[Flask]:
    application = create_app({**config, "TESTING": True})
    yield application
    application.extensions["store_engine"].dispose()


def rep_of(entra: EntraEmulator, tenant: str, name: str) -> Rep:
    oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{name}"))
    email = f"{name}@contoso.example"
    token = entra.issue_token(
        tenant_id=tenant, oid=oid, audience=API_AUDIENCE, email=email, name=name.capitalize()
    )
    return Rep(name, tenant, oid, email, token)


def seed_mailbox(
    graph: GraphEmulator, rep: Rep, count: int, known: list[str], rng: random.Random
) -> list[tuple[dict[str, Any], list[str]]]:
    """Put ``count`` received emails in the rep's mailbox (every 10th with a PDF attached);
    return the pane's item of each and the names of its files."""
    items = []
    for n in range(count):
        if n % 3:
            sender = ("", rng.choice(known))
        else:
            sender = (f"Buyer {n}", f"buyer{n}@fabrikam-{rep.name}.example")
        message_id = f"<fault-{rep.name}-{n}-{uuid.uuid4().hex[:8]}@sidepane.test>"
        files = [f"quote-{n}.pdf"] if n % 10 == 0 else []
        attachments = [
            {"name": name, "content_type": "application/pdf", "content": b"%PDF-1.4 quote"}
            for name in files
        ]
        item_id = graph.add_message(
            rep.oid,
            subject=f"Order {n} for {rep.name}",
            sender=sender,
            to=[(rep.name.capitalize(), rep.email)],
            body_html=f"<p>Order {n}: please confirm the delivery date.</p>",
            internet_message_id=message_id,
            attachments=attachments,
        )
        conversation = graph.message(rep.oid, item_id)["conversationId"]
        item = {
            "type": "message",
            "mode": "read",
            "subject": f"Order {n} for {rep.name}",
            "mailbox": rep.email,
            "from": {"address": sender[1], "name": sender[0]},
            "to": [{"address": rep.email, "name": rep.name.capitalize()}],
            "internet_message_id": message_id,
            "conversation_id": conversation,
            "item_id": item_id,
        }
        items.append((item, files))
    return items


def press_save(client: FlaskClient, rep: Rep, item: dict[str, Any]) -> int:
    """Save an item as the rep; a 5xx is pressed again, as a rep would. Return the presses."""
    for presses in range(1, 6):
        answer = client.post(
            "/pane/save",
            json={"item": item, "fields": {}},
            headers={"Authorization": f"Bearer {rep.token}", "Accept-Language": "en-US"},
        )
        if answer.status_code in (200, 202):
            return presses
        assert answer.status_code >= 500, answer.get_data(as_text=True)
    raise AssertionError(f"the pane could not queue {item['internet_message_id']}")


class Chaos(threading.Thread):
    """SIGKILL the worker's process group at random moments, then start a new worker."""

    def __init__(self, worker: Worker, jobs: Jobs, kills: int, rng: random.Random) -> None:
        super().__init__(name="chaos", daemon=True)
        self.worker, self.jobs, self.wanted, self.rng = worker, jobs, kills, rng
        self.stopping = threading.Event()
        self.leased_at_kills: list[int] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while len(self.leased_at_kills) < self.wanted and not self.stopping.is_set():
                self.worker.wait_ready()
                ready_at = utcnow()
                if self.stopping.wait(self.rng.uniform(0.2, 1.5)):
                    return
                self.worker.kill()
                self.leased_at_kills.append(self.leased_since(ready_at))
                self.worker.start(wait=False)
        except BaseException as error:  # reported by the test's thread
            self.error = error

    def leased_since(self, moment: dt.datetime) -> int:
        """How many jobs a worker ready since ``moment`` holds (the one just killed)."""
        lease = dt.timedelta(seconds=LEASE_SECONDS)
        return sum(
            1
            for job in self.jobs.all()
            if job.status == "saving" and (aware(job.lease_until) or moment) - lease >= moment
        )

    def check(self) -> None:
        """Raise what stopped the thread, if anything did."""
        if self.error is not None:
            raise self.error

    def finish(self) -> None:
        self.stopping.set()
        self.join(60)


def test_every_save_ends_saved_exactly_once_through_throttling_errors_and_kills(
    stack: Stack,
    app: Flask,
    config: dict[str, Any],
    start_worker,
    entra: EntraEmulator,
    graph: GraphEmulator,
    faulty_dataverse: FaultyDataverse,
    tenant: str,
    record_property,
):
    rng = random.Random(SEED)
    started = time.monotonic()
    baseline = {row["activityid"] for row in faulty_dataverse.rows("emails")}
    known = [
        row["emailaddress1"] for row in faulty_dataverse.rows("contacts") if row["emailaddress1"]
    ][:40]
    reps = [rep_of(entra, tenant, name) for name in REPS]
    mailboxes = {rep.name: seed_mailbox(graph, rep, EMAILS_PER_REP, known, rng) for rep in reps}
    items = [(rep, item) for rep in reps for item, _files in mailboxes[rep.name]]
    files = {
        item["internet_message_id"]: names
        for seeded in mailboxes.values()
        for item, names in seeded
    }
    rng.shuffle(items)
    jobs = Jobs(app.extensions["store_engine"])
    client = app.test_client()

    worker = start_worker(config, concurrency=2)
    # Each rep's first save signs them in (on-behalf-of) with nothing failing, as a rep who
    # opened the pane before; from then on, the pane's requests need no Dataverse round trip.
    first = {rep.name: next(i for r, i in items if r is rep) for rep in reps}
    presses = sum(press_save(client, rep, first[rep.name]) for rep in reps)
    faulty_dataverse.chaos = True
    chaos = Chaos(worker, jobs, KILLS, rng)
    chaos.start()
    try:
        for rep, item in items:
            if item is not first[rep.name]:
                presses += press_save(client, rep, item)
        queued_after = time.monotonic() - started

        def all_saved(found: list[SaveJob]) -> bool:
            chaos.check()
            return len(found) == len(items) and all(job.status == "saved" for job in found)

        jobs.wait(all_saved, timeout=150, what=f"all {len(items)} saves saved", worker=worker)
    finally:
        chaos.finish()
    chaos.check()
    faulty_dataverse.chaos = False
    elapsed = time.monotonic() - started

    done = jobs.all()
    by_message = {job.message_id: job for job in done}
    assert set(by_message) == {item["internet_message_id"] for _, item in items}
    emails = [row for row in faulty_dataverse.rows("emails") if row["activityid"] not in baseline]
    counts = Counter(row["messageid"] for row in emails)
    duplicates = {message: n for message, n in counts.items() if n != 1}
    assert not duplicates, f"saved more than once: {duplicates}"
    assert set(counts) == set(by_message), "every email saved, and nothing else"
    for row in emails:
        assert by_message[row["messageid"]].activity_id == row["activityid"]
    attached: dict[str, list[str]] = {}
    for row in faulty_dataverse.rows("activitymimeattachments"):
        attached.setdefault(row["_objectid_value"], []).append(row["filename"])
    for row in emails:  # each email whole: a write that failed after it wrote did all of it
        assert attached.get(row["activityid"], []) == files[row["messageid"]]
    assert len(chaos.leased_at_kills) >= 5
    injected = faulty_dataverse.injected
    assert injected[THROTTLE] and injected[ERROR]

    found_saved = sum(1 for job in done if not job.activity_created)
    attempts = Counter(job.attempts for job in done)
    summary = (
        f"fault injection [{stack.name}] seed {SEED}: {len(done)} saves, all saved once, "
        f"duplicates=0; {len(chaos.leased_at_kills)} SIGKILLs of the worker group "
        f"(jobs the killed worker held: {chaos.leased_at_kills}); Dataverse injected "
        f"{injected[THROTTLE]} x 429, {injected[ERROR]} x 5xx before writing, "
        f"{injected[COMMITTED_ERROR]} x 5xx after writing an email; "
        f"{found_saved} saves found their email already written; "
        f"attempts {dict(sorted(attempts.items()))}; "
        f"{presses} presses of Save; queued in {queued_after:.1f} s, all saved in {elapsed:.1f} s"
    )
    print(summary)
    record_property("fault_injection", summary)
