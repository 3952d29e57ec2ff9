"""Run the web app, and in the demo a Celery worker beside it, and stop both cleanly.

Ctrl-C and SIGTERM stop the web server after its current requests, then send the worker
SIGTERM (Celery's warm shutdown: it finishes the job in hand) and wait for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType

import click
from flask import Flask
from werkzeug.serving import make_server

WORKER_GRACE_SECONDS = 20


class _Stop(Exception):
    """Raised in the main thread by the signal handler to leave ``serve_forever``."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def start_worker(app: Flask) -> subprocess.Popen[bytes]:
    """Start one Celery worker process for the app's configuration, with the periodic tasks
    (the sweep that re-sends lost jobs, replies in saved conversations) embedded (``-B``)."""
    command = [sys.executable, "-m", "celery", "-A", "workers.app", "worker"]
    command += ["--loglevel", "INFO", "--concurrency", "1", "--without-mingle", "--without-gossip"]
    command += ["--beat", "--schedule", os.path.join(app.instance_path, "celerybeat-schedule")]
    return subprocess.Popen(command)


def serve_until_stopped(app: Flask, *, with_worker: bool = False) -> None:
    """Serve until a signal arrives; then stop the server and the worker."""
    host, port = app.config["HOST"], app.config["PORT"]
    server = make_server(host, port, app, threaded=True)
    # Let requests in flight finish when we close: wait for their threads instead of killing them.
    server.daemon_threads = False  # type: ignore[attr-defined]
    server.block_on_close = True  # type: ignore[attr-defined]
    worker = start_worker(app) if with_worker else None
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    click.echo(f"Sidepane is serving on {app.config['BASE_URL']}  (Ctrl-C stops it)")
    if app.config["DEMO"]:
        click.echo(f"Open the dev harness: {app.config['BASE_URL']}/harness")
    try:
        server.serve_forever()
    except (_Stop, KeyboardInterrupt):
        click.echo("Stopping…")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.server_close()
        if worker is not None:
            _stop_worker(worker)
    click.echo("Stopped.")


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(WORKER_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
