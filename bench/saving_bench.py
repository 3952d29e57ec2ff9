"""Saving emails through the real queue: a ``celery -A workers.app worker`` (prefork, 2 processes).

For each backend the same kind of save is done three ways, in one run:

* ``direct``: `addin.services.saving.perform_save` called in a loop in this process, one app
  context per save as the task has (no queue): the baseline;
* ``filesystem``: jobs sent with `workers.enqueue_save` over the filesystem transport (the
  default, nothing to install) to a worker subprocess;
* ``redis``: the same over Redis (``SIDEPANE_BENCH_REDIS_URL``, its own database and queue name,
  so nothing crosses other users of the server).

Backends: ``sandbox`` (a private copy of the seeded sandbox CRM, demo mode, and a harness-like
mailbox that holds any number of emails, `bench.saving_mailbox`, which the worker loads with
``--include bench.saving_worker``) and ``dynamics`` (the Dynamics adapter against the Dataverse
emulator and the Graph emulator as the mailbox, both 50 ms a round trip, with the rep's Entra
tokens sealed in the store by ``POST /pane/save`` as the pane leaves them for the worker; the
requests the emulators served per save are printed, a check on the rows' counts).

Figures, under ``saving.<backend>.``: ``<way>_saves_per_s`` (first enqueue until the last job's
``saved_at``; for ``direct`` the loop's wall time), ``<transport>_over_direct`` (queue/direct:
above 1 the two worker processes gain more than the queue costs), ``<transport>_p50_s`` /
``_p95_s`` (enqueue to ``saved_at`` per job, all jobs sent in one burst, so they include the
wait in the queue and grow with the burst), and ``crm_requests_per_save`` /
``mailbox_requests_per_save`` (the rows' counts, averaged over every run's jobs).

Runs: ``SIDEPANE_BENCH_SAVES`` (200) sandbox saves and ``SIDEPANE_BENCH_EMULATOR_SAVES`` (100)
Dynamics saves each way. Jobs are made before the clock starts (``create_job`` for the sandbox,
``POST /pane/save`` for Dynamics), then sent together with `workers.enqueue_save`. The machine's
other load moves these figures by tens of percent from one run to the next; compare the ratios
of one run, not figures across runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from addin import create_app, crm, store
from addin.identity import Identity
from addin.mailbox import Mailbox
from addin.services import save_jobs, saving
from addin.services.attachments import tenant_policy
from addin.store.models import SaveJob
from bench import saving_mailbox
from bench.sandbox_cache import seeded_sandbox

Record = Callable[[str, float], None]

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_SAVES = int(os.environ.get("SIDEPANE_BENCH_SAVES", "200"))
EMULATOR_SAVES = int(os.environ.get("SIDEPANE_BENCH_EMULATOR_SAVES", "100"))
CONTACTS = int(os.environ.get("SIDEPANE_BENCH_EMULATOR_CONTACTS", "5000"))
REDIS_URL = os.environ.get("SIDEPANE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
LATENCY_SECONDS = 0.05
CONCURRENCY = 2
WORKER_START_SECONDS = 60
#: Give up waiting for a run after this long without a single job saved.
STALL_SECONDS = 60
TRANSPORTS = ("filesystem", "redis")
SECRET_KEY = "saving-bench-" + uuid.uuid4().hex


@dataclass
class Backend:
    """One CRM and mailbox to save to, and how its jobs are made."""

    name: str
    saves: int
    #: The app's configuration, for this process and the worker alike (no broker settings).
    config: dict[str, Any]
    #: Make ``count`` jobs of the run named ``run`` in the store, without sending them.
    make_jobs: Callable[[str, int], list[str]]
    #: The rep's mailbox for the direct loop (the worker's own is `workers.tasks`').
    open_mailbox: Callable[[SaveJob], Mailbox]
    #: A module the worker imports before it forks (``--include``), if any.
    include: str | None = None
    #: The requests each emulator has served so far, by "METHOD /path", if any.
    served: Callable[[], dict[str, Counter[str]]] | None = None


@dataclass
class Outcome:
    """How a run's jobs ended: the rows, and the wall time from first enqueue to last save."""

    way: str
    seconds: float
    rows: list[SaveJob]
    latencies: list[float] = field(default_factory=list)

    @property
    def saves_per_s(self) -> float:
        return len(self.rows) / self.seconds


# --- apps, workers and cleanup -----------------------------------------------------------------


@contextlib.contextmanager
def _instance_path(folder: Path) -> Iterator[None]:
    """``create_app`` takes the instance folder (the filesystem broker's) from the environment."""
    before = os.environ.get("SIDEPANE_INSTANCE_PATH")
    os.environ["SIDEPANE_INSTANCE_PATH"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SIDEPANE_INSTANCE_PATH", None)
        else:
            os.environ["SIDEPANE_INSTANCE_PATH"] = before


def make_app(config: Mapping[str, Any], instance: Path, stack: contextlib.ExitStack) -> Flask:
    with _instance_path(instance):
        app = create_app(dict(config))
    stack.callback(app.extensions["store_engine"].dispose)
    return app


def worker_environment(config: Mapping[str, Any], instance: Path) -> dict[str, str]:
    """The worker's environment: ours without any SIDEPANE_* setting, then the app's config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIDEPANE_")}
    env.update({f"SIDEPANE_{k}": json.dumps(v) for k, v in config.items()})
    env["SIDEPANE_INSTANCE_PATH"] = str(instance)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextlib.contextmanager
def celery_worker(
    config: Mapping[str, Any], instance: Path, name: str, include: str | None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``celery -A workers.app worker`` until it is ready; stop it (and its pool) after."""
    log_path = instance / "worker.log"
    instance.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "celery", "-A", "workers.app", "worker",
        "--pool", "prefork", "--concurrency", str(CONCURRENCY), "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--hostname", f"{name}-{uuid.uuid4().hex[:6]}@%h",
    ]  # fmt: skip
    if include:
        command += ["--include", include]
    with log_path.open("wb") as log:
        # A session of its own: Ctrl-C reaches us only, and we stop the worker in order.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=worker_environment(config, instance),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        started = time.monotonic()
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() - started > WORKER_START_SECONDS:
                raise RuntimeError(f"the worker did not start:\n{_tail(log_path)}")
            time.sleep(0.1)
        print(f"    worker ready in {time.monotonic() - started:.1f} s", flush=True)
        yield process
    except Exception:
        print(f"    worker log ({log_path}):\n{_tail(log_path)}", flush=True)
        raise
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown, then kill the worker's process group (its pool), even if interrupted."""
    try:
        if process.poll() is None:
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            print(f"    worker stopped in {time.monotonic() - started:.1f} s", flush=True)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the worker and its pool
        process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the workers and temporary folders are cleaned up."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def redis_problem() -> str | None:
    """Why the Redis runs cannot happen here, or None."""
    if importlib.util.find_spec("redis") is None:
        return (
            "the 'redis' client library is not installed (kombu's Redis transport needs it; "
            "pip install 'celery[redis]')"
        )
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"no Redis at {REDIS_URL}: {error}"
    finally:
        client.close()
    return None


def forget_queue(queue: str) -> None:
    """Delete what kombu left on Redis for our queue (its list and binding keys)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- the runs -----------------------------------------------------------------------------------


def direct(app: Flask, ids: Sequence[str], open_mailbox: Callable[[SaveJob], Mailbox]) -> float:
    """Save every job in this process, one after the other; return the wall time."""
    from workers import tasks

    settings = saving.SaveSettings.from_config(app.config)
    started = time.perf_counter()
    for done, job_id in enumerate(ids, 1):
        with app.app_context():  # as the task runs: a context, so a session, per job
            session = store.session()
            outcome = saving.perform_save(
                session,
                job_id,
                open_adapter=tasks.open_adapter,
                open_mailbox=open_mailbox,
                # as the task does: the job's organisation's policy, read per job
                policy_for=lambda job, s=session: tenant_policy(s, job.tenant_id, app.config),
                settings=settings,
            )
        if outcome.status != save_jobs.SAVED:
            raise RuntimeError(f"direct save of job {job_id} ended {outcome.status}")
        if done % 50 == 0:
            print(f"    direct: {done}/{len(ids)} saved", flush=True)
    return time.perf_counter() - started


def through_queue(app: Flask, ids: Sequence[str], label: str) -> tuple[float, dict[str, float]]:
    """Send every job, wait until all are saved; return the wall time and each job's latency."""
    from workers import enqueue_save

    sent: dict[str, dt.datetime] = {}
    with app.app_context():
        for job_id in ids:
            sent[job_id] = save_jobs.utcnow()
            if not enqueue_save(job_id):
                raise RuntimeError(f"the broker did not take job {job_id}")
    first = min(sent.values())
    print(
        f"    {label}: {len(ids)} jobs sent in "
        f"{(max(sent.values()) - first).total_seconds():.2f} s",
        flush=True,
    )
    wait_saved(app, ids, label)
    rows = load_rows(app, ids)
    saved_at = {row.id: save_jobs.aware(row.saved_at) for row in rows}
    last = max(moment for moment in saved_at.values() if moment is not None)
    latencies = {
        job_id: ((saved_at[job_id] or last) - sent[job_id]).total_seconds() for job_id in ids
    }
    return (last - first).total_seconds(), latencies


def wait_saved(app: Flask, ids: Sequence[str], label: str) -> None:
    """Poll the store until every job is saved; print progress; fail on a failed or stuck job."""
    engine = app.extensions["store_engine"]
    query = (
        select(SaveJob.status, func.count())
        .where(SaveJob.id.in_(list(ids)))
        .group_by(SaveJob.status)
    )
    started = last_change = last_print = time.monotonic()
    saved_before = -1
    while True:
        with engine.connect() as connection:
            counts = {status: int(n) for status, n in connection.execute(query)}
        saved = counts.get(save_jobs.SAVED, 0)
        now = time.monotonic()
        if saved != saved_before:
            saved_before, last_change = saved, now
        if saved == len(ids):
            print(f"    {label}: {saved}/{len(ids)} saved ({now - started:.1f} s)", flush=True)
            return
        if counts.get(save_jobs.FAILED) or counts.get(save_jobs.MERGED):
            raise RuntimeError(f"{label}: jobs did not save: {counts}; {first_error(app, ids)}")
        if now - last_change > STALL_SECONDS:
            raise RuntimeError(f"{label}: no job saved for {STALL_SECONDS} s: {counts}")
        if now - last_print >= 1:
            last_print = now
            print(f"    {label}: {saved}/{len(ids)} saved ({now - started:.1f} s)", flush=True)
        time.sleep(0.1)


def first_error(app: Flask, ids: Sequence[str]) -> str:
    for row in load_rows(app, ids):
        if row.error_code:
            return f"job {row.id}: {row.error_code}: {row.error_message}"
    return "no error recorded"


def load_rows(app: Flask, ids: Sequence[str]) -> list[SaveJob]:
    factory = app.extensions["store"]
    with factory() as session:
        return list(session.scalars(select(SaveJob).where(SaveJob.id.in_(list(ids)))))


def measure(backend: Backend, folder: Path, stack: contextlib.ExitStack) -> list[Outcome]:
    """The direct loop, then a worker per transport; the outcomes of the runs that happened."""
    store.upgrade(backend.config["DATABASE_URL"])
    app = make_app({**backend.config, "BROKER_URL": "memory://"}, folder / "direct", stack)
    outcomes = []

    print(f"  {backend.name}: {backend.saves} saves in this process (baseline)", flush=True)
    ids = backend.make_jobs("direct", backend.saves)
    before = backend.served() if backend.served else {}
    seconds = direct(app, ids, backend.open_mailbox)
    outcomes.append(Outcome("direct", seconds, load_rows(app, ids)))
    print_served(backend, before, len(ids))

    problem = redis_problem()
    for transport in TRANSPORTS:
        label = f"{backend.name}+{transport}"
        if transport == "redis" and problem:
            print(f"  (skipping {label}: {problem})", flush=True)
            continue
        count = backend.saves
        queue = f"sidepane-bench-{uuid.uuid4().hex[:10]}"
        settings = {
            **backend.config,
            "BROKER_URL": REDIS_URL if transport == "redis" else "",
            "TASK_QUEUE": queue,
        }
        instance = folder / transport
        print(f"  {label}: {count} saves through a worker", flush=True)
        try:
            with celery_worker(settings, instance, f"bench-{label}", backend.include):
                ids = backend.make_jobs(transport, count)
                sender = make_app(settings, instance, stack)
                before = backend.served() if backend.served else {}
                seconds, latencies = through_queue(sender, ids, label)
                print_served(backend, before, len(ids))
        finally:
            if transport == "redis":
                forget_queue(queue)
        rows = load_rows(app, ids)
        outcomes.append(Outcome(transport, seconds, rows, [latencies[row.id] for row in rows]))
    return outcomes


def print_served(backend: Backend, before: Mapping[str, Counter[str]], saves: int) -> None:
    """Print what the emulators served per save since ``before``: the rows' counts, checked."""
    if backend.served is None:
        return
    parts = []
    for name, counts in backend.served().items():
        served = counts - before.get(name, Counter())
        paths = ", ".join(f"{path} {n / saves:.2f}" for path, n in sorted(served.items()))
        fixed = 0 < len(served) <= 4  # Graph's paths name each message: its total only
        parts.append(f"{name} {served.total() / saves:.2f}" + (f" ({paths})" if fixed else ""))
    print("    served per save: " + "; ".join(parts), flush=True)


def report(record: Record, backend: Backend, outcomes: Sequence[Outcome]) -> None:
    prefix = f"saving.{backend.name}"
    baseline = outcomes[0]
    for outcome in outcomes:
        record(f"{prefix}.{outcome.way}_saves_per_s", outcome.saves_per_s)
        if outcome is baseline:
            continue
        record(f"{prefix}.{outcome.way}_over_direct", outcome.saves_per_s / baseline.saves_per_s)
        record(f"{prefix}.{outcome.way}_p50_s", statistics.median(outcome.latencies))
        record(f"{prefix}.{outcome.way}_p95_s", percentile(outcome.latencies, 0.95))
    rows = [row for outcome in outcomes for row in outcome.rows]
    for kind in ("crm", "mailbox"):
        average = statistics.fmean(getattr(r, f"{kind}_requests") for r in rows)
        record(f"{prefix}.{kind}_requests_per_save", average)
    retried = sum(1 for r in rows if r.attempts > 1)
    if retried:
        print(f"    note: {retried} of {len(rows)} saves took more than one attempt", flush=True)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]


def table(results: Sequence[tuple[Backend, Sequence[Outcome]]]) -> None:
    """Print each run: saves, saves/s, queue/direct, latencies and requests per save."""
    head = ("saves", "saves/s", "/direct", "p50 s", "p95 s", "CRM req", "mail req")
    print(f"  {'':<20}" + "".join(f"{h:>9}" for h in head))
    for backend, outcomes in results:
        base = outcomes[0].saves_per_s
        for outcome in outcomes:
            queued = outcome.way != "direct"
            cells = [
                f"{len(outcome.rows)}",
                f"{outcome.saves_per_s:.1f}",
                f"{outcome.saves_per_s / base:.2f}x",
                f"{statistics.median(outcome.latencies):.2f}" if queued else "-",
                f"{percentile(outcome.latencies, 0.95):.2f}" if queued else "-",
                f"{statistics.fmean(r.crm_requests for r in outcome.rows):.2f}",
                f"{statistics.fmean(r.mailbox_requests for r in outcome.rows):.2f}",
            ]
            name = f"{backend.name} {outcome.way}"
            print(f"  {name:<20}" + "".join(f"{c:>9}" for c in cells))


# --- the backends -------------------------------------------------------------------------------


def sandbox_backend(folder: Path, stack: contextlib.ExitStack) -> Backend:
    """The sandbox CRM (a private copy of the seeded file) and the bench mailbox, demo mode."""
    source, _report = seeded_sandbox(CONTACTS)
    path = folder / "sandbox.db"
    shutil.copyfile(source, path)
    config: dict[str, Any] = {
        "DEMO": True,
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{folder / 'store.db'}",
        "SANDBOX_PATH": str(path),
        "CRMS": ["sandbox"],
        "MAILBOX": "harness",
    }
    rep = Identity(
        tenant_id="00000000-0000-4000-8000-00000000demo",
        user_oid="demo-alex",
        email=saving_mailbox.REP_ADDRESS,
        name="Alex",
        roles=frozenset(),
        scopes=frozenset({"access_as_user"}),
    )
    maker = make_app({**config, "BROKER_URL": "memory://"}, folder / "maker", stack)

    def make_jobs(run: str, count: int) -> list[str]:
        ids = []
        with maker.app_context():
            environment = crm.sandbox_directory().primary()
            session = store.session()
            for index in range(count):
                item = saving_mailbox.item_id(run, index)
                key = saving_mailbox.message_id_of(item)
                job, created = save_jobs.create_job(
                    session,
                    identity=rep,
                    environment=environment,
                    kind="email",
                    item_key=key,
                    item_id=item,
                    message_id=key,
                    conversation_id=f"conversation-{item}",
                )
                assert created, f"job {key} existed already"
                ids.append(job.id)
        return ids

    return Backend(
        name="sandbox",
        saves=SANDBOX_SAVES,
        config=config,
        make_jobs=make_jobs,
        open_mailbox=saving_mailbox.open_bench_mailbox,
        include="bench.saving_worker",
    )


def dynamics_backend(folder: Path, stack: contextlib.ExitStack) -> Backend:
    """Dataverse and Graph emulators (50 ms), Entra and discovery; jobs by ``POST /pane/save``."""
    from tests.dynamics.app_config import dynamics_config, register_sidepane
    from tests.emulators.dataverse import DataverseEmulator
    from tests.emulators.discovery import GlobalDiscoveryEmulator
    from tests.emulators.entra import EntraEmulator
    from tests.emulators.graph import GraphEmulator
    from workers import tasks

    source, report_ = seeded_sandbox(CONTACTS)
    entra = stack.enter_context(EntraEmulator())
    register_sidepane(entra)
    discovery = stack.enter_context(GlobalDiscoveryEmulator(entra=entra))
    started = time.monotonic()
    dataverse = stack.enter_context(DataverseEmulator.from_sandbox(source, entra=entra))
    print(f"    Dataverse emulator loaded in {time.monotonic() - started:.1f} s", flush=True)
    graph = stack.enter_context(GraphEmulator(entra=entra))
    dataverse.latency = graph.latency = LATENCY_SECONDS

    tenant, oid = str(uuid.uuid4()), str(uuid.uuid4())
    graph.add_user(oid, saving_mailbox.REP_ADDRESS)
    discovery.add_instance(
        "Contoso", dataverse.url, dataverse.url, organization_type=0, tenant_id=tenant
    )
    config: dict[str, Any] = {
        **dynamics_config(entra, discovery, f"sqlite:///{folder / 'store.db'}"),
        "SECRET_KEY": SECRET_KEY,  # the worker opens the tokens the pane sealed with it
        "GRAPH_URL": f"{graph.url}/",
        "MAILBOX": "graph",
        "DISCOVERY_TTL": 3600,
    }
    config.pop("BROKER_URL")
    pane = make_app({**config, "BROKER_URL": "memory://"}, folder / "pane", stack)
    client = pane.test_client()

    def make_jobs(run: str, count: int) -> list[str]:
        token = entra.issue_token(
            tenant_id=tenant,
            oid=oid,
            audience=config["API_AUDIENCE"],
            email=saving_mailbox.REP_ADDRESS,
            name=saving_mailbox.REP_NAME,
        )
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en-US"}
        keys = []
        for index in range(count):
            item = saving_mailbox.item_id(run, index)
            key = saving_mailbox.message_id_of(item)
            sender, to, cc = saving_mailbox.people(report_, index)
            subject = f"Order {index}: delivery dates"
            graph_id = graph.add_message(
                oid,
                subject=subject,
                sender=(sender.name, sender.address),
                to=[(p.name, p.address) for p in to],
                cc=[(p.name, p.address) for p in cc],
                body_html=f"<p>Hello, about order {index}: can we move the delivery?</p>",
                internet_message_id=key,
            )
            pane_item = {
                "type": "message",
                "mode": "read",
                "subject": subject,
                "mailbox": saving_mailbox.REP_ADDRESS,
                "from": {"address": sender.address, "name": sender.name},
                "to": [{"address": p.address, "name": p.name} for p in to],
                "cc": [{"address": p.address, "name": p.name} for p in cc],
                "internet_message_id": key,
                "item_id": graph_id,
            }
            answer = client.post("/pane/save", json={"item": pane_item}, headers=headers)
            if answer.status_code != 202:
                raise RuntimeError(
                    f"POST /pane/save answered {answer.status_code}: "
                    f"{answer.get_data(as_text=True)[:800]}"
                )
            keys.append(key)
            if (index + 1) % 50 == 0:
                print(f"    {run}: {index + 1}/{count} saves requested", flush=True)
        with pane.app_context():
            rows = store.session().execute(
                select(SaveJob.item_key, SaveJob.id).where(SaveJob.item_key.in_(keys))
            )
            found = {key: job_id for key, job_id in rows}
        return [found[key] for key in keys]

    def served() -> dict[str, Counter[str]]:
        emulators = {"Dataverse": dataverse, "Graph": graph, "Entra": entra}
        return {name: Counter(e.requests_served) for name, e in emulators.items()}

    return Backend(
        name="dynamics",
        saves=EMULATOR_SAVES,
        config=config,
        make_jobs=make_jobs,
        open_mailbox=tasks.open_rep_mailbox,
        served=served,
    )


def run(record: Record) -> None:
    results: list[tuple[Backend, list[Outcome]]] = []
    with _terminate_as_interrupt(), contextlib.ExitStack() as stack:
        top = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sidepane-saving-")))
        for name, build in (("sandbox", sandbox_backend), ("dynamics", dynamics_backend)):
            folder = top / name
            folder.mkdir()
            with contextlib.ExitStack() as own:
                backend = build(folder, own)
                outcomes = measure(backend, folder, own)
            report(record, backend, outcomes)
            results.append((backend, outcomes))
    table(results)
