"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz``: the process answers. ``/readyz``: the store answers and is migrated, and the CRM
it is configured for is there; a 503 names each check that failed.
"""

from __future__ import annotations

from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify

from .store import alembic_config

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Any:
    """Say the process is alive."""
    return {"status": "ok"}


@health.get("/readyz")
def readyz() -> Any:
    """Check the store and the CRM; 503 naming what is not ready."""
    checks = {"store": _store_ready(), "crm": _crm_ready()}
    failing = {name: problem for name, problem in checks.items() if problem}
    if failing:
        response = jsonify({"status": "not_ready", "checks": failing})
        response.status_code = 503
        return response
    return {"status": "ready"}


def _store_ready() -> str:
    engine = current_app.extensions["store_engine"]
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:  # any driver error means "not ready", said plainly
        return f"The local store does not answer: {type(error).__name__}."
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    if current != head:
        return f"The local store is at migration {current}, not {head}: run 'sidepane db upgrade'."
    return ""


def _crm_ready() -> str:
    sandbox = current_app.extensions["crm_directories"].get("sandbox")
    if sandbox is not None and sandbox.missing():
        missing = ", ".join(sandbox.missing())
        return f"The sandbox CRM has no data yet for {missing}: run 'sidepane seed'."
    return ""


def init_app(app: Flask) -> None:
    app.register_blueprint(health)
