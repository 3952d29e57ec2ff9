"""The ``sidepane`` command, run as a user runs it: a real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SIDEPANE = [sys.executable, "-m", "addin"]


def env_for(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIDEPANE_")}
    env.update({"SIDEPANE_INSTANCE_PATH": str(instance), "SIDEPANE_DEMO": "true", **extra})
    return env


def test_seed_shows_progress_and_makes_a_sandbox(tmp_path):
    target = tmp_path / "crm.db"
    done = subprocess.run(
        [*SIDEPANE, "seed", "--contacts", "120", "--path", str(target)],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "Seeding 120 contacts" in done.stdout
    assert "Sandbox CRM ready" in done.stdout
    assert target.exists()


def test_openapi_prints_the_document(tmp_path):
    done = subprocess.run(
        [*SIDEPANE, "openapi"],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "/api/items/resolve" in json.loads(done.stdout)["paths"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_demo_serves_then_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    demo = subprocess.Popen(
        [*SIDEPANE, "demo", "--contacts", "150"],
        cwd=workdir,
        # No SIDEPANE_DEMO: `make demo` on a fresh machine sets nothing either.
        env={
            k: v
            for k, v in env_for(tmp_path, SIDEPANE_PORT=str(port)).items()
            if k != "SIDEPANE_DEMO"
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert json.loads(wait_for(f"http://127.0.0.1:{port}/readyz", 90)) == {"status": "ready"}
        assert b"Sidepane dev harness" in wait_for(f"http://127.0.0.1:{port}/", 10)
        worker_ready = time.monotonic() + 60
        while (
            not list((tmp_path / "broker" / "control").glob("*"))
            and time.monotonic() < worker_ready
        ):
            time.sleep(0.2)
        time.sleep(3)  # let the worker finish starting, so we test stopping a live one
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
    assert demo.returncode == 0, output
    assert f"http://127.0.0.1:{port}/harness" in output  # the demo says where to start
    assert "celery@" in output  # the worker did start
    assert "Stopped." in output
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    assert list(workdir.iterdir()) == []  # everything it writes lives in the instance folder
