"""The pane signed in to Dynamics 365 in Chromium: Entra, Global Discovery and Dataverse emulators.

The app runs as in production (no demo identity): the Office.js stand-in hands the pane a real
Entra token, the server exchanges it on the rep's behalf and reads the Dataverse emulator. When
Entra asks for interaction, the pane says so and its Sign in button passes Entra's claims
challenge back to Office, then repeats what the rep was doing.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from addin import store
from tests.conftest import API_AUDIENCE
from tests.dynamics.app_config import dynamics_config, register_sidepane

pytestmark = pytest.mark.browser


@pytest.fixture
def rep_tenant(entra: Any) -> str:
    register_sidepane(entra)
    return str(uuid.uuid4())


@pytest.fixture
def server(live_server, entra, discovery, dataverse, rep_tenant, tmp_path: Path):
    database_url = f"sqlite:///{tmp_path / 'sidepane.db'}"
    store.upgrade(database_url)
    discovery.add_instance(
        "Contoso", dataverse.url, dataverse.url, organization_type=0, tenant_id=rep_tenant
    )
    config = dynamics_config(entra, discovery, database_url)
    return live_server({**config, "OFFICE_JS_URL": "/static/harness/office.js"})


def open_pane(page: Page, server: Any, token: str) -> None:
    auth = json.dumps({"token": token, "requests": []})
    page.add_init_script(f"window.sidepaneStandinAuth = {auth};")
    page.goto(f"{server.url}/pane")


def select_email(page: Page, sender: str) -> None:
    item = {
        "itemType": "message",
        "mode": "read",
        "subject": "Delivery dates",
        "from": {"displayName": "", "emailAddress": sender},
        "to": [{"displayName": "Alex", "emailAddress": "alex@contoso.example"}],
        "internetMessageId": "<dynamics-browser@example.com>",
    }
    page.evaluate("item => Office.standin.selectItem(item)", item)


def test_a_rep_signs_in_again_when_entra_asks_and_the_pane_carries_on(
    page: Page, server, entra, dataverse, rep_tenant, sandbox
):
    _, report = sandbox
    oid = str(uuid.uuid4())
    token = entra.issue_token(tenant_id=rep_tenant, oid=oid, audience=API_AUDIENCE)
    contact = dataverse.record("contacts", report.single_contact_id)
    challenge = entra.require_interaction(oid)
    try:
        open_pane(page, server, token)
        select_email(page, report.single_address)
        error = page.locator('[data-error="crm_sign_in_required"]')
        expect(error).to_be_visible()
        sign_in = error.get_by_role("button", name="Sign in")
        expect(sign_in).to_be_visible()
    finally:
        entra.require_interaction(oid, False)  # the rep completed MFA in Office's dialog
    sign_in.click()
    expect(page.get_by_text(contact["lastname"]).first).to_be_visible()
    expect(page.locator("#pane").get_by_text("Connected to Contoso")).to_be_visible()
    requests = page.evaluate("window.sidepaneStandinAuth.requests")
    assert [r.get("authChallenge") for r in requests].count(challenge) == 1
    assert all(r["allowSignInPrompt"] for r in requests)
