"""Provisioning (rule 20): turning the CRM features on runs checks; only a pass turns them on.

`provisioning` on the local store (SQLite, then PostgreSQL), with the worker's own adapter opener
(`workers.tasks.open_admin_adapter`): the real sandbox CRM, then the real Dynamics adapter against
the Dataverse emulator, the admin signed in through Entra's on-behalf-of flow as in production.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from addin import create_app, crm, store
from addin.connections.sandbox import environment_path
from addin.identity import Identity
from addin.services import consent, provisioning
from addin.services.provisioning import ProvisioningRefused
from addin.store.models import AdminAudit, ProvisioningRun
from crm_adapters.models import Environment
from tests.conftest import API_AUDIENCE, TENANT
from tests.dynamics.app_config import dynamics_config, register_sidepane
from tests.emulators.dataverse import DataverseEmulator
from tests.emulators.discovery import GlobalDiscoveryEmulator
from tests.emulators.entra import EntraEmulator
from workers.tasks import open_admin_adapter

ADMIN_ROLE = "Sidepane.Admin"


def admin_of(tenant_id: str, name: str = "ada") -> Identity:
    """An admin as a worker knows them: no token, their CRM sign-in kept in the store."""
    return Identity(
        tenant_id=tenant_id,
        user_oid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{name}")),
        email=f"{name}@contoso.example",
        name=name.capitalize(),
        roles=frozenset({ADMIN_ROLE}),
        scopes=frozenset({"access_as_user"}),
    )


ADA = admin_of(TENANT)


def grant_consent(session: Session, admin: Identity, config: Any) -> None:
    link = consent.consent_link(session, admin, config)
    state = parse_qs(urlsplit(link).query)["state"][0]
    consent.finish(session, {"admin_consent": "True", "tenant": admin.tenant_id, "state": state})
    session.commit()


def turn_on(session: Session, admin: Identity, environment: Environment | None) -> str:
    run, created = provisioning.turn_on(session, admin, environment)
    session.commit()
    assert created
    return run.id


def run_checks(session: Session, run_id: str) -> tuple[str, float | None]:
    """The worker's body, as `workers.tasks.provision` runs it."""
    return provisioning.run_checks(session, run_id, open_admin_adapter)


def checks(session: Session, run_id: str) -> list[tuple[str, bool, str, tuple[str, ...], int]]:
    run = session.get(ProvisioningRun, run_id)
    assert run is not None
    session.refresh(run)
    return [(c.name, c.ok, c.code, c.details, c.count) for c in provisioning.checks_of(run)]


def audit(session: Session, tenant_id: str) -> list[tuple[str, Any, Any]]:
    rows = session.scalars(
        select(AdminAudit).where(AdminAudit.tenant_id == tenant_id).order_by(AdminAudit.id)
    )
    return [(r.action, json.loads(r.old_value), json.loads(r.new_value)) for r in rows]


# --- the sandbox CRM ----------------------------------------------------------------------------


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The store's session inside the app's context, as a worker's task has it."""
    with app.app_context():
        yield store.session()


@pytest.fixture
def contoso(app: Flask) -> Environment:
    with app.app_context():
        return crm.sandbox_directory().primary()


def test_turning_on_is_refused_until_consent_is_given(session, app, contoso):
    with pytest.raises(ProvisioningRefused) as refused:
        provisioning.turn_on(session, ADA, contoso)
    assert refused.value.code == "consent_required"
    session.rollback()
    assert provisioning.latest_run(session, TENANT) is None
    assert audit(session, TENANT) == []


def test_turning_on_is_refused_without_an_environment_to_check(session, app):
    grant_consent(session, ADA, app.config)
    with pytest.raises(ProvisioningRefused) as refused:
        provisioning.turn_on(session, ADA, None)
    assert refused.value.code == "no_environment"


def test_turning_on_twice_while_checking_makes_one_run(session, app, contoso):
    grant_consent(session, ADA, app.config)
    first = turn_on(session, ADA, contoso)
    again, created = provisioning.turn_on(session, ADA, contoso)
    assert (again.id, created) == (first, False)
    assert len(session.scalars(select(ProvisioningRun)).all()) == 1
    state = provisioning.status(session, TENANT)
    assert state.checking and not state.features_on


def test_the_checks_passing_on_the_sandbox_turn_the_features_on(session, app, contoso):
    grant_consent(session, ADA, app.config)
    run_id = turn_on(session, ADA, contoso)
    assert not provisioning.features_on(session, TENANT)

    assert run_checks(session, run_id) == ("succeeded", None)

    assert provisioning.features_on(session, TENANT)
    assert checks(session, run_id) == [
        ("reachable", True, "", (), 0),
        ("permissions", True, "", (), 0),
    ]
    assert audit(session, TENANT)[-2:] == [
        ("provisioning", None, "Contoso"),
        ("crm_features", False, True),
    ]
    shown = provisioning.as_json(
        provisioning.status(session, TENANT), consent.state_of(session, TENANT)
    )
    assert shown["crm_features"] is True and shown["consent"]["status"] == "granted"
    assert shown["provisioning"]["status"] == "succeeded"
    assert shown["provisioning"]["environment"] == "Contoso"
    # Another organisation's features are not touched.
    assert not provisioning.features_on(session, "another-tenant")
    # Turning off is at once, and audited.
    provisioning.turn_off(session, ADA)
    session.commit()
    assert not provisioning.features_on(session, TENANT)
    assert audit(session, TENANT)[-1] == ("crm_features", True, False)


def test_a_sandbox_environment_that_cannot_be_opened_fails_and_the_features_stay_off(
    session, app, sandbox
):
    grant_consent(session, ADA, app.config)
    gone = crm.sandbox_directory().find("fabrikam-dev")
    environment_path(sandbox[0], "fabrikam-dev").unlink()
    run_id = turn_on(session, ADA, gone)

    assert run_checks(session, run_id) == ("failed", None)

    [(name, ok, code, _details, _count)] = checks(session, run_id)
    assert (name, ok, code) == ("reachable", False, "unreachable")
    assert not provisioning.features_on(session, TENANT)
    assert [a for a, _old, _new in audit(session, TENANT)] == ["consent", "provisioning"]


def test_a_run_is_claimed_once(session, app, contoso):
    grant_consent(session, ADA, app.config)
    run_id = turn_on(session, ADA, contoso)
    engine = app.extensions["store_engine"]
    with Session(engine) as first, Session(engine) as second:
        assert provisioning.claim(first, run_id)
        assert not provisioning.claim(second, run_id)  # queued no more: another worker has it
    assert run_checks(session, run_id) == ("not_claimed", None)
    # A worker that died holding it leaves it running; once its lease is over it is taken again.
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=provisioning.LEASE_SECONDS + 1)
    session.execute(
        update(ProvisioningRun).where(ProvisioningRun.id == run_id).values(started_at=stale)
    )
    session.commit()
    assert run_checks(session, run_id) == ("succeeded", None)
    run = session.get(ProvisioningRun, run_id)
    session.refresh(run)
    assert run is not None and run.attempts == 2
    assert not provisioning.claim(session, run_id)  # a finished run is never checked again


def test_the_sweep_finds_runs_left_behind(session, app, contoso):
    grant_consent(session, ADA, app.config)
    now = dt.datetime.now(dt.UTC)

    def make(status: str, **times: dt.datetime) -> str:
        run = ProvisioningRun(
            id=str(uuid.uuid4()),
            tenant_id=TENANT,
            user_oid=ADA.user_oid,
            user_name="Ada",
            crm="sandbox",
            environment_id="contoso",
            environment="{}",
            status=status,
            requested_at=times.get("requested_at", now),
            started_at=times.get("started_at"),
        )
        session.add(run)
        session.commit()
        return run.id

    lost = make("queued", requested_at=now - dt.timedelta(seconds=200))
    make("queued", requested_at=now - dt.timedelta(seconds=5))  # just sent: not yet
    dead = make("running", started_at=now - dt.timedelta(seconds=provisioning.LEASE_SECONDS + 5))
    make("running", started_at=now - dt.timedelta(seconds=5))  # its worker is on it
    make("succeeded", requested_at=now - dt.timedelta(days=1))
    make("failed", requested_at=now - dt.timedelta(days=1))

    assert sorted(provisioning.due_runs(session, redeliver_seconds=120)) == sorted([lost, dead])


def test_another_tenants_run_is_not_found(session, app, contoso):
    grant_consent(session, ADA, app.config)
    run_id = turn_on(session, ADA, contoso)
    assert provisioning.find_run(session, TENANT, run_id) is not None
    assert provisioning.find_run(session, "another-tenant", run_id) is None


# --- Dynamics 365: the real adapter against the Dataverse emulator -----------------------------


@dataclasses.dataclass
class DynamicsTenant:
    """A fresh organisation whose admin signed in to the pane once (Entra keeps their tokens)."""

    app: Flask
    admin: Identity
    session: Session
    dataverse: DataverseEmulator

    def environment(self) -> Environment:
        [found] = crm.directories()["dynamics"].environments(self.admin)
        return found

    def provision(self, environment: Environment | None = None) -> str:
        grant_consent(self.session, self.admin, self.app.config)
        return turn_on(self.session, self.admin, environment or self.environment())


def sign_in(app: Flask, entra: EntraEmulator, admin: Identity) -> None:
    token = entra.issue_token(
        tenant_id=admin.tenant_id,
        oid=admin.user_oid,
        audience=API_AUDIENCE,
        email=admin.email,
        name=admin.name,
        roles=[ADMIN_ROLE],
    )
    answer = app.test_client().post(
        "/pane/view",
        json={"item": None, "fields": {}},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en-US"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)


@pytest.fixture
def dynamics(
    entra: EntraEmulator,
    discovery: GlobalDiscoveryEmulator,
    dataverse: DataverseEmulator,
    database_url: str,
) -> Iterator[DynamicsTenant]:
    register_sidepane(entra)
    app = create_app(
        {**dynamics_config(entra, discovery, database_url), "TESTING": True, "DISCOVERY_TTL": 0}
    )
    admin = admin_of(str(uuid.uuid4()))
    discovery.add_instance(
        "Contoso", dataverse.url, dataverse.url, organization_type=0, tenant_id=admin.tenant_id
    )
    sign_in(app, entra, admin)
    try:
        with app.app_context():
            yield DynamicsTenant(app, admin, store.session(), dataverse)
    finally:
        app.extensions["store_engine"].dispose()


def test_a_ready_dataverse_environment_turns_the_features_on(dynamics):
    run_id = dynamics.provision()
    assert run_checks(dynamics.session, run_id) == ("succeeded", None)
    assert checks(dynamics.session, run_id) == [
        ("reachable", True, "", (), 0),
        ("permissions", True, "", (), 0),
        ("server_side_sync", True, "", (), 0),
    ]
    assert provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)
    assert dynamics.dataverse.requests_served["GET /api/data/v9.2/WhoAmI"] == 1


def test_a_dataverse_that_drops_every_connection_is_unreachable(dynamics):
    run_id = dynamics.provision()
    dynamics.dataverse.drop(times=20)
    assert run_checks(dynamics.session, run_id) == ("failed", None)
    [(name, ok, code, _details, _count)] = checks(dynamics.session, run_id)
    assert (name, ok, code) == ("reachable", False, "unreachable")
    assert not provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)


def test_a_dataverse_that_is_stopped_is_unreachable(dynamics, entra, discovery):
    gone = DataverseEmulator(entra=entra).start()
    url = gone.url
    gone.stop()
    elsewhere = Environment(
        "gone-org", "Contoso (stopped)", "production", url, "dynamics", api_url=url
    )
    run_id = dynamics.provision(elsewhere)
    assert run_checks(dynamics.session, run_id) == ("failed", None)
    [(name, ok, code, _details, _count)] = checks(dynamics.session, run_id)
    assert (name, ok, code) == ("reachable", False, "unreachable")
    assert not provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)


def test_a_missing_privilege_is_named_and_the_features_stay_off(dynamics):
    dynamics.dataverse.deny_privileges("prvReadIncident", "prvCreateActivity")
    run_id = dynamics.provision()
    assert run_checks(dynamics.session, run_id) == ("failed", None)
    reachable, permissions, sync = checks(dynamics.session, run_id)
    assert reachable[:2] == ("reachable", True)
    assert permissions == (
        "permissions",
        False,
        "missing_privileges",
        ("prvReadIncident", "prvCreateActivity"),
        2,
    )
    assert sync[:2] == ("server_side_sync", True)
    assert not provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)
    shown = provisioning.as_json(
        provisioning.status(dynamics.session, dynamics.admin.tenant_id),
        consent.state_of(dynamics.session, dynamics.admin.tenant_id),
    )
    assert shown["crm_features"] is False and shown["provisioning"]["status"] == "failed"


def test_mailboxes_not_synchronized_are_named_and_the_features_stay_off(dynamics):
    dynamics.dataverse.set_mailbox(server_side_sync=False)
    run_id = dynamics.provision()
    assert run_checks(dynamics.session, run_id) == ("failed", None)
    *passed, (name, ok, code, details, count) = checks(dynamics.session, run_id)
    assert [c[:2] for c in passed] == [("reachable", True), ("permissions", True)]
    assert (name, ok, code) == ("server_side_sync", False, "mailboxes_not_synced")
    assert count >= 1 and 1 <= len(details) <= 5
    assert not provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)


def test_a_rate_limited_check_is_queued_again_after_the_crms_wait(dynamics):
    run_id = dynamics.provision()
    dynamics.dataverse.throttle(1, retry_after=90, path="WhoAmI")  # longer than the adapter waits

    assert run_checks(dynamics.session, run_id) == ("queued", 90.0)
    run = dynamics.session.get(ProvisioningRun, run_id)
    assert run is not None and (run.status, run.attempts) == ("queued", 1)
    assert not provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)

    assert run_checks(dynamics.session, run_id) == ("succeeded", None)  # sent again later
    assert provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)


def test_a_check_rate_limited_every_time_fails_in_the_end(dynamics):
    run_id = dynamics.provision()
    dynamics.dataverse.throttle(provisioning.MAX_ATTEMPTS, retry_after=90, path="WhoAmI")
    outcomes = [run_checks(dynamics.session, run_id)[0] for _ in range(provisioning.MAX_ATTEMPTS)]
    assert outcomes == ["queued"] * (provisioning.MAX_ATTEMPTS - 1) + ["failed"]
    [(name, ok, code, details, _count)] = checks(dynamics.session, run_id)
    assert (name, ok, code, details) == ("reachable", False, "unreachable", ("rate limited",))
    assert not provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)


def test_an_admin_who_never_signed_in_to_the_crm_is_told_to(dynamics, entra):
    stranger = admin_of(dynamics.admin.tenant_id, "olga")  # same organisation, no CRM sign-in
    grant_consent(dynamics.session, stranger, dynamics.app.config)
    run_id = turn_on(dynamics.session, stranger, dynamics.environment())
    assert run_checks(dynamics.session, run_id) == ("failed", None)
    assert [c[:3] for c in checks(dynamics.session, run_id)] == [
        ("reachable", True, ""),
        ("permissions", False, "signed_out"),
    ]
    assert not provisioning.features_on(dynamics.session, dynamics.admin.tenant_id)
