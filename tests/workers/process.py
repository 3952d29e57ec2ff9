"""A real Celery worker in a process of its own, configured like the test's app.

``Worker`` runs ``python -m celery -A workers.app worker --pool prefork`` (its main process, the
pool's children and, with ``beat=True``, the embedded beat) in a new session, so the whole
process group can be killed at once, as a machine losing power or the OOM killer would. Its
configuration is the test app's, passed through ``SIDEPANE_*`` environment variables (JSON
values, as `Flask.config.from_prefixed_env` reads them) with ``SIDEPANE_INSTANCE_PATH`` set to
the test's folder, so the filesystem broker's folders are the test's own.

Each start is a new *generation* with its own log file; `Worker.output` gives every
generation's log (for failure messages), `Worker.kill` SIGKILLs the current group and waits
until no process of it is left, `Worker.restart` kills and starts again, `Worker.stop` sends
SIGTERM (Celery's warm shutdown) and SIGKILLs what is left after ``stop_timeout``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"@\S+ ready\.")
#: Test-only keys of a Flask config that a worker must not be given.
_NOT_FOR_WORKERS = frozenset({"TESTING"})
#: Every worker process group still running, killed when this process exits whatever happened
#: to the test (the fixtures stop them first; this is for an interrupted run).
_RUNNING: set[int] = set()


@atexit.register
def _kill_leftovers() -> None:
    for pgid in list(_RUNNING):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def worker_environment(config: Mapping[str, Any], instance_path: Path) -> dict[str, str]:
    """Return the environment of a worker process configured like an app made from ``config``.

    Every ``SIDEPANE_*`` variable of this process is left out, so only ``config`` counts.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("SIDEPANE_")}
    for key, value in config.items():
        if key in _NOT_FOR_WORKERS or value is None:
            continue
        env[f"SIDEPANE_{key}"] = json.dumps(value)
    env["SIDEPANE_INSTANCE_PATH"] = str(instance_path)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(slots=True)
class Generation:
    """One start of the worker: its main process and its log."""

    number: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started: float
    ready_after: float | None = None
    ended_by: str = ""

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class Worker:
    """A Celery worker (one process group at a time) that a test starts, kills and stops."""

    def __init__(
        self,
        config: Mapping[str, Any],
        instance_path: Path,
        *,
        concurrency: int = 2,
        beat: bool = True,
        name: str = "worker",
        ready_timeout: float = 60.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.environment = worker_environment(config, instance_path)
        self.instance_path = instance_path
        self.concurrency = concurrency
        self.beat = beat
        self.name = name
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.generations: list[Generation] = []
        self.kills = 0
        self._closed = False
        # start, kill and stop may come from two threads (a test and its chaos thread).
        self._lock = threading.RLock()

    # -- the command -------------------------------------------------------------------------

    def command(self, number: int) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "--concurrency",
            str(self.concurrency),
            "--without-mingle",
            "--without-gossip",
            "--pool",
            "prefork",
            "--loglevel",
            "INFO",
            "--hostname",
            f"{self.name}-{number}@%h",
        ]
        if self.beat:
            # The sweep's schedule, kept in memory: a shelve file killed mid-write is no test.
            command += ["--beat", "--scheduler", "celery.beat:Scheduler"]
        return command

    # -- life cycle --------------------------------------------------------------------------

    @property
    def current(self) -> Generation | None:
        return self.generations[-1] if self.generations else None

    def running(self) -> bool:
        current = self.current
        return current is not None and current.process.poll() is None

    def start(self, *, wait: bool = True) -> Self:
        """Start a new generation (none may be running); wait until it consumes, by default."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name} was stopped for good")
            if self.running():
                raise RuntimeError(f"{self.name} is already running")
            number = len(self.generations) + 1
            log_path = self.instance_path / f"{self.name}-{number}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    self.command(number),
                    cwd=ROOT,
                    env=self.environment,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: killpg reaches them all
                )
            _RUNNING.add(process.pid)
            self.generations.append(Generation(number, process, log_path, time.monotonic()))
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float | None = None) -> float:
        """Wait until the current generation logs "ready"; return the seconds it took."""
        current = self.current
        if current is None:
            raise RuntimeError(f"{self.name} was never started")
        if current.ready_after is not None:
            return current.ready_after
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        while True:
            if READY.search(current.log()):
                current.ready_after = time.monotonic() - current.started
                return current.ready_after
            if self._closed:
                raise RuntimeError(f"{self.name} was stopped while it started")
            if current.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {current.process.returncode} before it was ready"
                    f"\n{self.output()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} was not ready in time\n{self.output()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the current generation's whole process group and wait until it is gone."""
        with self._lock:
            current = self.current
            if current is None or current.ended_by:
                return
            _kill_group(current.process, signal.SIGKILL)
            current.ended_by = "SIGKILL"
            self.kills += 1

    def restart(self, *, wait: bool = True) -> Self:
        """Kill the current generation (if any) and start a new one."""
        self.kill()
        return self.start(wait=wait)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL for what is left after ``stop_timeout``.

        The worker cannot be started again afterwards (a chaos thread may still try).
        """
        with self._lock:
            self._closed = True
            current = self.current
            if current is None or current.ended_by:
                return
            process = current.process
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(self.stop_timeout)
                    current.ended_by = "SIGTERM"
                except subprocess.TimeoutExpired:
                    current.ended_by = "SIGTERM, then SIGKILL"
            else:
                current.ended_by = f"exit {process.returncode}"
            _kill_group(process, signal.SIGKILL)  # pool children or beat left behind, if any

    def output(self, tail: int = 200) -> str:
        """Every generation's log (the last ``tail`` lines of each), for failure messages."""
        parts = []
        for generation in self.generations:
            code = generation.process.poll()
            lines = generation.log().splitlines()
            cut = lines[-tail:]
            left_out = f", {len(lines) - len(cut)} earlier lines left out" if cut != lines else ""
            header = (
                f"--- {self.name} generation {generation.number} (pid {generation.process.pid}, "
                f"ended by {generation.ended_by or 'nothing yet'}, exit code {code}{left_out}) ---"
            )
            parts.append("\n".join([header, *cut]))
        return "\n".join(parts)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Send ``sig`` to the process group led by ``process``; reap it; wait until none is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)
    deadline = time.monotonic() + 10
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if not _group_alive(process.pid):
        _RUNNING.discard(process.pid)


def _group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` is still alive (zombies do not count)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False
