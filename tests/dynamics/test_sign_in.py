"""Signing a rep in to Dynamics 365 through the app: on-behalf-of, discovery, the sealed cache.

Everything runs against the loopback Entra and Global Discovery emulators through real msal and
requests; each test has a tenant of its own, so the shared emulators need no cleaning.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from addin import create_app
from addin.connections.entra import EntraClient, EntraTokens
from addin.identity import Identity
from addin.store.models import TokenCache
from addin.store.sealed import Sealer
from addin.store.token_caches import TokenCacheStore
from crm_adapters import NotSignedIn
from tests.conftest import API_AUDIENCE
from tests.dynamics.app_config import dynamics_config, register_sidepane
from tests.emulators.discovery import GlobalDiscoveryEmulator
from tests.emulators.entra import EntraEmulator


class Rep:
    """One rep of a fresh tenant, with what the test needs to act as them."""

    def __init__(self, entra: EntraEmulator, tenant_id: str, name: str = "alex") -> None:
        self.entra = entra
        self.tenant_id = tenant_id
        self.oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{name}"))
        self.email = f"{name}@contoso.example"

    def token(self) -> str:
        return self.entra.issue_token(
            tenant_id=self.tenant_id, oid=self.oid, audience=API_AUDIENCE, email=self.email
        )

    def identity(self, assertion: str = "") -> Identity:
        return Identity(
            tenant_id=self.tenant_id,
            user_oid=self.oid,
            email=self.email,
            name="Alex",
            roles=frozenset(),
            scopes=frozenset({"access_as_user"}),
            assertion=assertion,
        )


@pytest.fixture
def rep(entra: EntraEmulator) -> Rep:
    register_sidepane(entra)
    return Rep(entra, str(uuid.uuid4()))


@pytest.fixture
def dynamics_app(
    entra: EntraEmulator, discovery: GlobalDiscoveryEmulator, database_url: str
) -> Iterator[Flask]:
    config = dynamics_config(entra, discovery, database_url)
    # Ask discovery every time: the tests count token requests, not discovery's cache.
    app = create_app({**config, "TESTING": True, "DISCOVERY_TTL": 0})
    yield app
    app.extensions["store_engine"].dispose()


@pytest.fixture
def pane(dynamics_app: Flask, rep: Rep) -> Callable[..., Any]:
    client = dynamics_app.test_client()

    def post(path: str, fields: dict[str, str] | None = None, item: Any = None) -> Any:
        return client.post(
            f"/pane{path}",
            json={"item": item, "fields": fields or {}},
            headers={"Authorization": f"Bearer {rep.token()}", "Accept-Language": "en-US"},
        )

    return post


def token_requests(entra: EntraEmulator, rep: Rep) -> int:
    return entra.requests_served[f"POST /{rep.tenant_id}/oauth2/v2.0/token"]


def add_productions(discovery: GlobalDiscoveryEmulator, rep: Rep) -> list[dict[str, Any]]:
    """Two production environments: rule 3 makes the rep choose, so no Dataverse is called."""
    return [
        discovery.add_instance(
            name,
            f"https://{slug}.crm4.dynamics.com",
            f"https://{slug}.api.crm4.dynamics.com",
            organization_type=0,
            tenant_id=rep.tenant_id,
        )
        for name, slug in (("Contoso Europe", "contoso-eu"), ("Contoso US", "contoso-us"))
    ]


def cache_rows(app: Flask) -> int:
    engine = app.extensions["store_engine"]
    with engine.connect() as connection:
        return int(connection.execute(select(func.count(TokenCache.id))).scalar_one())


def test_first_open_lists_the_environments_discovery_returned(
    pane,
    entra,
    discovery,
    rep,
    dynamics_app,
):
    add_productions(discovery, rep)
    answer = pane("/view")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert "Contoso Europe" in html and "Contoso US" in html
    assert "https://contoso-eu.crm4.dynamics.com" in html
    assert token_requests(entra, rep) == 1, "one on-behalf-of exchange for the discovery token"
    assert cache_rows(dynamics_app) == 1


def test_the_cached_token_serves_the_next_requests(pane, entra, discovery, rep):
    add_productions(discovery, rep)
    pane("/view")
    pane("/view")
    pane("/environments")
    assert token_requests(entra, rep) == 1
    assert discovery.requests_served["GET /api/discovery/v2.0/Instances"] >= 3


def test_an_expiring_token_is_refreshed_without_the_rep(pane, entra, discovery, rep):
    add_productions(discovery, rep)
    entra.access_token_lifetime = 120  # msal renews tokens with less than five minutes left
    try:
        pane("/view")
        assert pane("/view").status_code == 200
    finally:
        entra.access_token_lifetime = 3600
    assert token_requests(entra, rep) == 2


def test_the_cache_is_sealed_in_the_store(pane, discovery, rep, dynamics_app):
    add_productions(discovery, rep)
    pane("/view")
    engine = dynamics_app.extensions["store_engine"]
    with engine.connect() as connection:
        sealed = connection.execute(select(TokenCache.sealed)).scalar_one()
    assert b"RefreshToken" not in sealed and b"secret" not in sealed
    opened = Sealer.from_config(dynamics_app.config).open(sealed)
    assert opened is not None and "RefreshToken" in opened


def test_a_worker_gets_tokens_later_without_the_pane(pane, entra, discovery, rep, dynamics_app):
    add_productions(discovery, rep)
    pane("/view")
    config = dynamics_app.config
    caches = TokenCacheStore(dynamics_app.extensions["store_engine"], Sealer.from_config(config))
    tokens = EntraTokens(EntraClient.from_config(config), caches, rep.identity(assertion=""))
    resource = "https://contoso-eu.api.crm4.dynamics.com"
    claims = entra.verify_token(tokens.get(resource), audience=resource)
    assert claims["oid"] == rep.oid and claims["tid"] == rep.tenant_id


def test_a_rep_never_signed_in_cannot_be_acted_for(dynamics_app, rep):
    config = dynamics_app.config
    caches = TokenCacheStore(dynamics_app.extensions["store_engine"], Sealer.from_config(config))
    tokens = EntraTokens(EntraClient.from_config(config), caches, rep.identity(assertion=""))
    with pytest.raises(NotSignedIn):
        tokens.get("https://contoso-eu.api.crm4.dynamics.com")


def test_interaction_required_asks_the_rep_to_sign_in_with_the_challenge(
    pane,
    entra,
    discovery,
    rep,
):
    add_productions(discovery, rep)
    challenge = entra.require_interaction(rep.oid)
    try:
        answer = pane("/view")
    finally:
        entra.require_interaction(rep.oid, False)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 401
    assert 'data-error="crm_sign_in_required"' in html and "data-sign-in" in html
    found = re.search(r'data-claims="([^"]*)"', html)
    assert found and unescape(found.group(1)) == challenge  # escaped in HTML, intact for Office


def test_interaction_required_in_the_json_api_carries_the_claims(
    dynamics_app,
    entra,
    discovery,
    rep,
):
    add_productions(discovery, rep)
    challenge = entra.require_interaction(rep.oid)
    try:
        answer = dynamics_app.test_client().post(
            "/api/items/resolve",
            json={"item": {"from": {"address": "someone@example.com"}}},
            headers={"Authorization": f"Bearer {rep.token()}"},
        )
    finally:
        entra.require_interaction(rep.oid, False)
    assert answer.status_code == 401
    assert answer.get_json() == {
        "error": "crm_sign_in_required",
        "message": answer.get_json()["message"],
        "claims": challenge,
    }


def test_missing_admin_consent_says_who_must_act(pane, entra, discovery, rep):
    add_productions(discovery, rep)
    entra.consent_required(rep.tenant_id)
    try:
        answer = pane("/view")
    finally:
        entra.consent_required(rep.tenant_id, False)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 403
    assert 'data-error="crm_consent_required"' in html and "administrator" in html
    assert "data-sign-in" not in html, "signing in again cannot help the rep"


def test_entra_down_is_a_retry_not_a_crash(pane, entra, discovery, rep):
    add_productions(discovery, rep)
    entra.fail_token_endpoint(503)
    answer = pane("/view")
    assert answer.status_code == 503
    assert "data-retry" in answer.get_data(as_text=True)
    assert token_requests(entra, rep) == 1
    # msal holds further requests back for a few seconds (its throttle), then asks again.


def test_only_a_discovered_environment_can_be_connected(pane, discovery, rep):
    add_productions(discovery, rep)
    refused = pane("/connect", {"crm": "dynamics", "environment_id": "https://evil.example"})
    assert refused.status_code == 404
    instance = add_productions(discovery, rep)[0]
    chosen = pane("/connect", {"crm": "dynamics", "environment_id": instance["Id"]})
    assert chosen.status_code == 200, chosen.get_data(as_text=True)


def test_signing_out_forgets_the_tokens(pane, discovery, rep, dynamics_app):
    (instance, _) = add_productions(discovery, rep)
    pane("/connect", {"crm": "dynamics", "environment_id": instance["Id"]})
    assert cache_rows(dynamics_app) == 1
    answer = pane("/sign-out")
    assert answer.status_code == 200
    assert cache_rows(dynamics_app) == 0
    # Signed out, the pane asks for a sign-in and calls neither Entra nor discovery.
    assert "sign-in" in pane("/view").get_data(as_text=True)


def test_opening_an_item_reads_dataverse_with_the_reps_own_token(
    pane, entra, discovery, dataverse, rep, sandbox
):
    _, report = sandbox
    discovery.add_instance(
        "Contoso", dataverse.url, dataverse.url, organization_type=0, tenant_id=rep.tenant_id
    )
    contact = dataverse.record("contacts", report.single_contact_id)
    item = {
        "type": "message",
        "mode": "read",
        "subject": "Delivery",
        "mailbox": rep.email,
        "from": {"address": report.single_address.upper(), "name": ""},
        "to": [{"address": rep.email, "name": "Alex"}],
        "internet_message_id": "<m1@example.com>",
    }
    answer = pane("/view", item=item)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert "Connected to Contoso" in html
    assert contact["lastname"] in html
    # Two on-behalf-of exchanges (discovery, then Dataverse), two Dataverse round trips.
    assert token_requests(entra, rep) == 2
    assert dataverse.requests_served["GET /api/data/v9.2/contacts"] == 1
    assert dataverse.requests_served["POST /api/data/v9.2/$batch"] == 1
    pane("/view", item=item)
    assert token_requests(entra, rep) == 2, "the cached Dataverse token serves the next open"
