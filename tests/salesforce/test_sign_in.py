"""Signing a rep in to Salesforce from the pane: OAuth with PKCE against the Salesforce emulator.

The app runs as in production (Entra tokens for the pane); the test plays the rep's dialog
window: it follows the app's authorize redirect to the emulator's login page, presses Allow or
Deny, and brings the answer back to the app's callback.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from addin import create_app
from addin.connections.salesforce_oauth import SalesforceTokens
from addin.store.models import PendingSignIn, TokenCache
from addin.store.sealed import Sealer
from tests.conftest import API_AUDIENCE
from tests.emulators.salesforce import SalesforceEmulator

CLIENT_ID = "3MVG9sidepane.test.connected.app"
CLIENT_SECRET = "salesforce-test-secret"
BASE_URL = "http://127.0.0.1:8000"
CALLBACK = f"{BASE_URL}/sign-in/salesforce/callback"


@pytest.fixture
def sandbox_org(seeded_sandbox) -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator.from_sandbox(
        str(seeded_sandbox[0]), kind="sandbox", org_name="Contoso UAT"
    ) as org:
        org.register_connected_app(CLIENT_ID, CLIENT_SECRET, [CALLBACK])
        yield org


@pytest.fixture
def salesforce_app(entra, salesforce, sandbox_org, database_url) -> Iterator[Flask]:
    salesforce.register_connected_app(CLIENT_ID, CLIENT_SECRET, [CALLBACK])
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "API_AUDIENCE": API_AUDIENCE,
            "ENTRA_AUTHORITY": entra.url,
            "CA_FILE": entra.ca_file,
            "DATABASE_URL": database_url,
            "BASE_URL": BASE_URL,
            "CRMS": ["salesforce"],
            "SALESFORCE_CLIENT_ID": CLIENT_ID,
            "SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
            "SALESFORCE_LOGIN_URL": salesforce.url,
            "SALESFORCE_SANDBOX_LOGIN_URL": sandbox_org.url,
            "SALESFORCE_EMAIL_FIELDS": {"email1": "Email", "email2": "Email2__c"},
            "INTERNAL_DOMAINS": ["contoso.example"],
            "BROKER_URL": "memory://",
        }
    )
    yield app
    app.extensions["store_engine"].dispose()


@pytest.fixture
def client(salesforce_app: Flask) -> FlaskClient:
    return salesforce_app.test_client()


@pytest.fixture
def pane(client, auth) -> Callable[..., Any]:
    def post(path: str, fields: dict[str, str] | None = None, item=None, rep: str = "alex"):
        return client.post(
            f"/pane{path}",
            json={"item": item, "fields": fields or {}},
            headers={**auth(rep), "Accept-Language": "en-US"},
        )

    return post


def email_from(address: str, mode: str = "read") -> dict[str, Any]:
    return {
        "type": "message",
        "mode": mode,
        "subject": "Delivery",
        "mailbox": "alex@contoso.example",
        "from": {"address": address, "name": ""},
        "to": [{"address": "alex@contoso.example", "name": "Alex"}],
        "internet_message_id": f"<{uuid.uuid4()}@example.com>",
    }


def sign_in(
    pane, client: FlaskClient, org: SalesforceEmulator, *, login="production", decision="allow"
):
    """Play the rep's dialog window: start, Salesforce's page, Allow or Deny, the callback."""
    started = pane("/sign-in/salesforce/start", {"login": login})
    assert started.status_code == 200, started.get_data(as_text=True)
    to_login = client.get(started.get_json()["url"])
    assert to_login.status_code == 302
    authorize = to_login.headers["Location"]
    assert authorize.startswith(f"{org.url}/services/oauth2/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [CALLBACK]
    page = requests.get(authorize, verify=org.ca_file, timeout=10)
    # The login form as the rep submits it: its fields as filled in, and the button pressed.
    form = dict(re.findall(r'name="([^"]+)"[^>]*?\svalue="([^"]*)"', page.text))
    answer = requests.post(
        f"{org.url}/services/oauth2/authorize",
        data={**form, "decision": decision},
        verify=org.ca_file,
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(f"/sign-in/salesforce/callback?{back.query}"), back.query


def stored_tokens(app: Flask) -> SalesforceTokens:
    with app.extensions["store_engine"].connect() as connection:
        sealed = connection.execute(select(TokenCache.sealed)).scalar_one()
    tokens = SalesforceTokens.from_json(Sealer.from_config(app.config).open(sealed) or "")
    assert tokens is not None
    return tokens


def rows(app: Flask, model) -> int:
    with app.extensions["store_engine"].connect() as connection:
        return int(connection.execute(select(func.count(model.id))).scalar_one())


def test_before_sign_in_the_pane_offers_production_and_sandbox_logins(pane):
    html = pane("/view", item=email_from("someone@example.com")).get_data(as_text=True)
    assert 'data-sign-in-with="production"' in html and 'data-sign-in-with="sandbox"' in html
    assert "In this item" in html  # rule 1: what needs no CRM still works


def test_signing_in_connects_the_pane_to_the_org(pane, client, salesforce, sandbox, salesforce_app):
    _, report = sandbox
    done, _query = sign_in(pane, client, salesforce)
    assert done.status_code == 200 and "You are signed in" in done.get_data(as_text=True)
    assert 'data-ok="true"' in done.get_data(as_text=True)
    html = pane("/view", item=email_from(report.single_address)).get_data(as_text=True)
    contact = salesforce.record("Contact", report.single_contact_id)
    assert contact["LastName"] in html
    assert rows(salesforce_app, TokenCache) == 1 and rows(salesforce_app, PendingSignIn) == 0
    with salesforce_app.extensions["store_engine"].connect() as connection:
        sealed = connection.execute(select(TokenCache.sealed)).scalar_one()
    assert b"refresh" not in sealed and b"instance_url" not in sealed


def test_the_sandbox_login_gives_a_sandbox_environment(pane, client, sandbox_org):
    done, _ = sign_in(pane, client, sandbox_org, login="sandbox")
    assert done.status_code == 200
    html = pane("/environments").get_data(as_text=True)
    assert sandbox_org.url in html and "badge-sandbox" in html


def test_a_sign_in_link_works_once(pane, client, salesforce):
    done, query = sign_in(pane, client, salesforce)
    assert done.status_code == 200
    again = client.get(f"/sign-in/salesforce/callback?{query}")
    assert again.status_code == 400 and 'data-ok="false"' in again.get_data(as_text=True)


def test_a_forged_state_never_reaches_salesforce(client):
    answer = client.get("/sign-in/salesforce/authorize?state=made-up")
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_deny_leaves_the_rep_signed_out(pane, client, salesforce, salesforce_app):
    done, _ = sign_in(pane, client, salesforce, decision="deny")
    assert done.status_code == 200 and 'data-ok="false"' in done.get_data(as_text=True)
    assert rows(salesforce_app, TokenCache) == 0 and rows(salesforce_app, PendingSignIn) == 0
    assert "data-sign-in-with" in pane("/view").get_data(as_text=True)


def test_one_reps_sign_in_is_not_anothers(pane, client, salesforce):
    sign_in(pane, client, salesforce)
    assert "data-sign-in-with" in pane("/view", rep="sam").get_data(as_text=True)


def test_an_expired_session_is_refreshed_once(pane, client, salesforce, sandbox):
    _, report = sandbox
    sign_in(pane, client, salesforce)
    salesforce.expire_access_tokens()
    answer = pane("/view", item=email_from(report.single_address))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert salesforce.requests_served["POST /services/oauth2/token"] == 2  # code, then refresh


def test_a_revoked_sign_in_sends_the_rep_back_to_sign_in(
    pane, client, salesforce, sandbox, salesforce_app
):
    _, report = sandbox
    sign_in(pane, client, salesforce)
    assert salesforce.revoke(stored_tokens(salesforce_app).refresh_token)  # e.g. by an admin
    answer = pane("/view", item=email_from(report.single_address))
    assert answer.status_code == 401
    assert "Sign in" in answer.get_data(as_text=True)
    assert "data-sign-in-with" in pane("/view").get_data(as_text=True)


def test_signing_out_revokes_and_forgets(pane, client, salesforce, salesforce_app):
    sign_in(pane, client, salesforce)
    assert pane("/sign-out").status_code == 200
    assert salesforce.requests_served["POST /services/oauth2/revoke"] == 1
    assert rows(salesforce_app, TokenCache) == 0
    assert "data-sign-in-with" in pane("/view").get_data(as_text=True)


def test_salesforce_explains_it_does_not_save_items_being_written(pane, client, salesforce):
    sign_in(pane, client, salesforce)
    draft = pane("/view", item=email_from("someone@example.com", mode="compose"))
    html = draft.get_data(as_text=True)
    assert 'data-capability="save_drafts"' in html
    assert html.count("does not save emails while they are being written") == 1  # said once
    read = pane("/view", item=email_from("someone@example.com"))
    assert "data-capability" not in read.get_data(as_text=True)


def test_an_unknown_login_is_refused(pane):
    answer = pane("/sign-in/salesforce/start", {"login": "https://evil.example"})
    assert answer.status_code == 400
