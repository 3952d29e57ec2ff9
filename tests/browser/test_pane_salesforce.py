"""Signing in to Salesforce from the pane in Chromium: the popup, Salesforce's page, and back.

The harness plays Outlook (a browser has no Office dialog, so the pane opens a popup); the
Salesforce emulator is the login host and the org. The browser context accepts the emulator's
test certificate as a real browser accepts Salesforce's.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pane import HARNESS_CONTEXT, open_harness

pytestmark = pytest.mark.browser

CLIENT_ID = "3MVG9sidepane.browser.connected.app"
CLIENT_SECRET = "salesforce-browser-secret"


@pytest.fixture
def context_options() -> dict[str, Any]:
    return {**HARNESS_CONTEXT, "ignore_https_errors": True}


@pytest.fixture
def server(live_server, demo_app_config, salesforce):
    server = live_server(
        {
            **demo_app_config,
            "CRMS": ["salesforce"],
            "SALESFORCE_CLIENT_ID": CLIENT_ID,
            "SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
            "SALESFORCE_LOGIN_URL": salesforce.url,
            "SALESFORCE_SANDBOX_LOGIN_URL": salesforce.url,
            "SALESFORCE_EMAIL_FIELDS": {"email1": "Email", "email2": "Email2__c"},
            "CA_FILE": salesforce.ca_file,
        }
    )
    callback = f"{server.url}/sign-in/salesforce/callback"
    salesforce.register_connected_app(CLIENT_ID, CLIENT_SECRET, [callback])
    return server


def test_a_rep_signs_in_to_salesforce_in_a_popup_and_the_pane_connects(
    page: Page, server, salesforce, sandbox
):
    _, report = sandbox
    pane = open_harness(page, server, "known-sender")
    sign_in = pane.get_by_role("button", name="Sign in to Salesforce")
    expect(sign_in).to_be_visible()
    expect(pane.get_by_role("button", name="Sign in to a sandbox")).to_be_visible()
    with page.expect_popup() as opened:
        sign_in.click()
    popup = opened.value
    allow = popup.get_by_role("button", name="Allow")
    expect(allow).to_be_visible()
    assert popup.url.startswith(f"{salesforce.url}/services/oauth2/authorize")
    with popup.expect_event("close"):
        allow.click()  # Salesforce sends the popup to our callback, which tells the pane
    contact = salesforce.record("Contact", report.single_contact_id)
    expect(pane.get_by_text(contact["LastName"]).first).to_be_visible()
    expect(pane.get_by_role("button", name="Sign in to Salesforce")).to_have_count(0)


def test_denying_access_keeps_the_pane_signed_out_and_says_why(page: Page, server, salesforce):
    pane = open_harness(page, server, "known-sender")
    with page.expect_popup() as opened:
        pane.get_by_role("button", name="Sign in to Salesforce").click()
    popup = opened.value
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Deny").click()
    expect(pane.get_by_role("alert")).to_contain_text("did not allow")
    expect(pane.get_by_role("button", name="Sign in to Salesforce")).to_be_visible()
