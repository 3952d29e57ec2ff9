"""Provisioning (rule 20): turning the CRM features on runs the checks first, in a worker.

The admin turns the features on; `turn_on` records a run and the view sends it to the workers.
A worker (`run_checks`) asks the CRM, as the admin and on the admin's connected environment,
whether it is reachable, whether the permissions are there and (Dynamics) whether the mailboxes
are synchronized on the server (`CrmAdapter.readiness`). Only when every check passes are the
features turned on, in the same transaction that records the result; otherwise the page names
what is missing and the toggle stays off. Until then reps are told their admin must turn the
features on (`features_on`, read by `addin.crm.connection`).

The run's row is the truth, as with save jobs: a worker claims it with one conditional UPDATE,
so a run sent twice is checked once, and the sweep sends again a run whose message was lost or
whose worker died.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from crm_adapters import CrmAdapter
from crm_adapters.errors import CrmError, NotSignedIn, RateLimited, Unavailable
from crm_adapters.models import Environment, ReadinessCheck

from ..identity import Identity
from ..store.models import ProvisioningRun, Tenant, utcnow
from . import consent
from .save_jobs import environment_json, stored_environment
from .tenant_settings import record, tenant_row

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
#: A running check older than this is taken to have lost its worker, and runs again.
LEASE_SECONDS = 120
#: A rate-limited or interrupted run tries this many times before it fails for good.
MAX_ATTEMPTS = 5


class ProvisioningRefused(RuntimeError):
    """Provisioning cannot start yet; ``code`` says what must come first."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Status:
    """What the admin page shows above the toggle."""

    features_on: bool
    run: ProvisioningRun | None

    @property
    def checking(self) -> bool:
        return self.run is not None and self.run.status in (QUEUED, RUNNING)

    def checks(self) -> list[ReadinessCheck]:
        return checks_of(self.run) if self.run is not None else []


def features_on(session: Session, tenant_id: str) -> bool:
    """Tell whether the tenant's CRM features are on (provisioned and not turned off)."""
    tenant = session.get(Tenant, tenant_id)
    return bool(tenant is not None and tenant.crm_features)


def status(session: Session, tenant_id: str) -> Status:
    """Return whether the features are on and the latest provisioning run."""
    return Status(features_on(session, tenant_id), latest_run(session, tenant_id))


def latest_run(session: Session, tenant_id: str) -> ProvisioningRun | None:
    return (
        session.query(ProvisioningRun)
        .filter(ProvisioningRun.tenant_id == tenant_id)
        .order_by(ProvisioningRun.requested_at.desc(), ProvisioningRun.id)
        .first()
    )


def find_run(session: Session, tenant_id: str, run_id: str) -> ProvisioningRun | None:
    """The tenant's run with this id (another tenant's run is not found)."""
    run = session.get(ProvisioningRun, run_id)
    return run if run is not None and run.tenant_id == tenant_id else None


def checks_of(run: ProvisioningRun) -> list[ReadinessCheck]:
    return [
        ReadinessCheck(
            c["name"],
            bool(c["ok"]),
            c.get("code", ""),
            tuple(c.get("details", ())),
            c.get("count", 0),
        )
        for c in json.loads(run.checks or "[]")
    ]


def turn_on(
    session: Session, identity: Identity, environment: Environment | None
) -> tuple[ProvisioningRun, bool]:
    """Record a provisioning run of the admin's environment; (run, created).

    A run already queued or running is returned as it is, so a double click checks once.
    Raises `ProvisioningRefused` ("consent_required", "no_environment"). The caller commits,
    then sends the run to the workers when ``created``.
    """
    tenant = tenant_row(session, identity.tenant_id, lock=True)
    if tenant.consent != consent.GRANTED:
        raise ProvisioningRefused("consent_required")
    if environment is None:
        raise ProvisioningRefused("no_environment")
    pending = latest_run(session, identity.tenant_id)
    if pending is not None and pending.status in (QUEUED, RUNNING):
        return pending, False
    run = ProvisioningRun(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        user_oid=identity.user_oid,
        user_name=identity.name or identity.email or identity.user_oid,
        crm=environment.crm,
        environment_id=environment.id,
        environment=environment_json(environment),
        status=QUEUED,
        requested_at=utcnow(),
    )
    session.add(run)
    record(session, identity, "provisioning", "", None, environment.name or environment.id)
    return run, True


def turn_off(session: Session, identity: Identity) -> None:
    """Turn the CRM features off at once (no checks needed to stop)."""
    tenant = tenant_row(session, identity.tenant_id, lock=True)
    if tenant.crm_features:
        tenant.crm_features = False
        tenant.updated_at = utcnow()
        record(session, identity, "crm_features", "", True, False)


def environment_of(run: ProvisioningRun) -> Environment:
    return stored_environment(run.crm, run.environment_id, run.environment)


def identity_of(run: ProvisioningRun) -> Identity:
    """The admin who asked, as the worker acts for them (their sealed CRM sign-in)."""
    return Identity(
        tenant_id=run.tenant_id,
        user_oid=run.user_oid,
        email="",
        name=run.user_name,
        roles=frozenset(),
        scopes=frozenset(),
    )


def claim(session: Session, run_id: str) -> bool:
    """Take the run for this worker: queued, or running with its worker gone. One UPDATE."""
    now = utcnow()
    stale = now - dt.timedelta(seconds=LEASE_SECONDS)
    taken = session.execute(
        update(ProvisioningRun)
        .where(
            ProvisioningRun.id == run_id,
            or_(
                ProvisioningRun.status == QUEUED,
                (ProvisioningRun.status == RUNNING) & (ProvisioningRun.started_at < stale),
            ),
        )
        .values(status=RUNNING, started_at=now, attempts=ProvisioningRun.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(taken, "rowcount", 0))


def run_checks(
    session: Session,
    run_id: str,
    open_adapter: Callable[[ProvisioningRun], CrmAdapter],
) -> tuple[str, float | None]:
    """Run the checks of one run; (status, retry in seconds or None). The worker's body."""
    if not claim(session, run_id):
        return "not_claimed", None
    run = session.get(ProvisioningRun, run_id)
    assert run is not None  # claimed just now
    adapter: CrmAdapter | None = None
    try:
        adapter = open_adapter(run)
        checks = list(adapter.readiness())
    except RateLimited as error:
        if run.attempts < MAX_ATTEMPTS:
            run.status = QUEUED
            session.commit()
            return QUEUED, max(1.0, error.retry_after)
        checks = [ReadinessCheck("reachable", False, "unreachable", ("rate limited",))]
    except NotSignedIn:
        checks = [
            ReadinessCheck("reachable", True),
            ReadinessCheck("permissions", False, "signed_out"),
        ]
    except Unavailable as error:
        checks = [ReadinessCheck("reachable", False, "unreachable", (_short(error),))]
    except CrmError as error:
        checks = [ReadinessCheck("permissions", False, "missing_privileges", (_short(error),), 1)]
    finally:
        if adapter is not None:
            adapter.close()
    return _finish(session, run, checks), None


def _finish(session: Session, run: ProvisioningRun, checks: list[ReadinessCheck]) -> str:
    ok = bool(checks) and all(c.ok for c in checks)
    run.checks = json.dumps([{**asdict(c), "details": list(c.details)} for c in checks])
    run.status = SUCCEEDED if ok else FAILED
    run.finished_at = utcnow()
    if ok:
        tenant = tenant_row(session, run.tenant_id, lock=True)
        if not tenant.crm_features:
            tenant.crm_features = True
            tenant.updated_at = utcnow()
            record(session, identity_of(run), "crm_features", "", False, True)
    session.commit()
    log.info("provisioning run %s %s", run.id, run.status)
    return run.status


def due_runs(session: Session, redeliver_seconds: float) -> list[str]:
    """Runs to send again: queued and not picked up, or running with their worker gone."""
    now = utcnow()
    return [
        run_id
        for (run_id,) in session.query(ProvisioningRun.id).filter(
            or_(
                (ProvisioningRun.status == QUEUED)
                & (ProvisioningRun.requested_at < now - dt.timedelta(seconds=redeliver_seconds)),
                (ProvisioningRun.status == RUNNING)
                & (ProvisioningRun.started_at < now - dt.timedelta(seconds=LEASE_SECONDS)),
            )
        )
    ]


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__


def as_json(state: Status, consent_state: consent.ConsentState) -> dict[str, Any]:
    """The admin status as the JSON API shows it."""
    run = state.run
    return {
        "consent": {
            "status": consent_state.status or "missing",
            "error": consent_state.error or None,
            "error_description": consent_state.error_description or None,
            "by": consent_state.by or None,
            "at": consent_state.at.isoformat() if consent_state.at else None,
        },
        "crm_features": state.features_on,
        "provisioning": None
        if run is None
        else {
            "id": run.id,
            "status": run.status,
            "crm": run.crm,
            "environment": environment_of(run).name or run.environment_id,
            "requested_by": run.user_name,
            "checks": [{**asdict(c), "details": list(c.details)} for c in checks_of(run)],
        },
    }
