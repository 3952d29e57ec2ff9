"""The admin page in Chromium (issue 8): consent, provisioning, settings, and who may use it.

The consent round trip goes through the Entra emulator: the Provide consent link opens its
admin-consent endpoint in a new tab, which sends the browser back to the app's return page;
the admin's own tab then shows the consent without a reload. Provisioning runs the worker's task
body in this process once the page shows "Provisioning…", on the sandbox CRM and on Dynamics 365
(Global Discovery and Dataverse emulators), whose prerequisites each test takes away in turn.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from addin import store
from addin.services import consent
from addin.store.models import ProvisioningRun, Tenant, utcnow
from tests.browser.accessibility import axe_scan
from tests.browser.pane import (
    HARNESS_CONTEXT,
    PANE_ONLY,
    open_harness,
    pane_of,
    pane_screenshot,
    wait_for_pane,
)
from tests.conftest import API_AUDIENCE
from tests.dynamics.app_config import CLIENT_SECRET, dynamics_config, register_sidepane

pytestmark = pytest.mark.browser

ADMIN_ROLE = "Sidepane.Admin"
RULE_19 = (
    "Sidepane needs application permissions. A tenant administrator must consent before it "
    "can be turned on."
)
STANDIN = "/static/harness/office.js"


@pytest.fixture
def context_options() -> dict[str, Any]:
    """Outlook's narrow pane; the Entra emulator's certificate comes from the tests' own CA."""
    return {
        "viewport": {"width": 320, "height": 900},
        "device_scale_factor": 1,
        "locale": "en-US",
        "timezone_id": "UTC",
        "color_scheme": "light",
        "ignore_https_errors": True,
    }


@pytest.fixture
def tenant() -> str:
    return str(uuid.uuid4())


def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sidepane.db'}"
    store.upgrade(url)
    return url


@pytest.fixture
def server(live_server, entra, sandbox, tmp_path: Path):
    """The app as a deployment runs it (Entra tokens, the gate on), on the sandbox CRM."""
    started = live_server(
        {
            "SECRET_KEY": "test-secret",
            "API_AUDIENCE": API_AUDIENCE,
            "ENTRA_AUTHORITY": entra.url,
            "CA_FILE": entra.ca_file,
            "DATABASE_URL": database(tmp_path),
            "SANDBOX_PATH": str(sandbox[0]),
            "INTERNAL_DOMAINS": ["contoso.example"],
            "BROKER_URL": "memory://",
            "OFFICE_JS_URL": STANDIN,
            "REQUIRE_PROVISIONING": True,
        }
    )
    entra.register_client(
        API_AUDIENCE, CLIENT_SECRET, redirect_uris=[consent.return_url(started.app.config)]
    )
    return started


@pytest.fixture
def dynamics(live_server, entra, discovery, dataverse, tenant, tmp_path: Path):
    """The app on Dynamics 365 only, the admin's tenant having one environment (Contoso)."""
    register_sidepane(entra)
    discovery.add_instance(
        "Contoso", dataverse.url, dataverse.url, organization_type=0, tenant_id=tenant
    )
    config = dynamics_config(entra, discovery, database(tmp_path))
    return live_server({**config, "OFFICE_JS_URL": STANDIN, "REQUIRE_PROVISIONING": True})


def token(entra, tenant: str, *, admin: bool = True, name: str = "Ada Admin") -> str:
    return entra.issue_token(
        tenant_id=tenant,
        oid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{name}")),
        audience=API_AUDIENCE,
        roles=[ADMIN_ROLE] if admin else [],
        name=name,
        email=name.split()[0].lower() + "@contoso.example",
    )


def open_page(page: Page, server: Any, bearer: str, path: str = "/admin") -> None:
    auth = json.dumps({"token": bearer, "requests": []})
    page.add_init_script(f"window.sidepaneStandinAuth = {auth};")
    page.goto(f"{server.url}{path}")
    expect(page.locator("#pane")).to_have_attribute("aria-busy", "false")


def consented(server: Any, tenant: str) -> None:
    """Record the tenant's consent, as an earlier visit to the consent page did."""
    with server.app.app_context():
        store.session().add(
            Tenant(tenant_id=tenant, consent="granted", consent_by="Ada Admin", consent_at=utcnow())
        )
        store.session().commit()


def work(server: Any) -> list[str]:
    """Do what a worker does with each queued provisioning run; return how each ended."""
    from workers import tasks

    with server.app.app_context():
        queued = store.session().scalars(
            select(ProvisioningRun.id).where(ProvisioningRun.status == "queued")
        )
        ids = list(queued)
    done = []
    for run_id in ids:
        with server.app.app_context():
            done.append(tasks.provision.run(run_id))
    return done


def switch(page: Page):
    return page.get_by_role("switch", name="CRM features")


def turn_on(page: Page, server: Any) -> None:
    """Turn the features on: "Provisioning…" while the worker has not run, then run it."""
    expect(switch(page)).to_be_enabled()
    switch(page).click()
    expect(page.locator("[data-provisioning]")).to_have_text("Provisioning…")
    expect(switch(page)).to_have_attribute("aria-checked", "false")
    expect(switch(page)).to_be_disabled()
    assert len(work(server)) == 1


# --- consent (rule 19) ------------------------------------------------------------------------


def test_consent_round_trip_through_entra_shows_on_the_admin_tab(
    page: Page, server, entra, tenant, screenshot
):
    open_page(page, server, token(entra, tenant))
    expect(page.get_by_text(RULE_19)).to_be_visible()
    expect(switch(page)).to_be_disabled()
    screenshot(page, "admin-consent-needed")
    assert axe_scan(page) == []

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Provide consent").click()
    returned = opened.value
    returned.wait_for_load_state()
    assert returned.url.startswith(f"{server.url}/admin/consent/return?admin_consent=True")
    expect(returned.locator("#consent-result")).to_contain_text("Consent granted.")
    expect(returned.locator("#consent-result")).to_contain_text("Go back to Sidepane")
    screenshot(returned, "admin-consent-return")
    assert tenant in entra.consented_tenants

    page.bring_to_front()  # the admin comes back: no reload
    expect(page.get_by_text("Consent granted by Ada Admin on")).to_be_visible()
    expect(page.get_by_text(RULE_19)).to_have_count(0)
    expect(page.get_by_role("link", name="Consent again")).to_be_visible()
    expect(switch(page)).to_be_enabled()
    screenshot(page, "admin-consent-granted")


def test_the_page_shows_a_consent_recorded_elsewhere_when_it_gets_the_focus_back(
    page: Page, server, entra, tenant
):
    open_page(page, server, token(entra, tenant))
    expect(page.get_by_text(RULE_19)).to_be_visible()
    consented(server, tenant)  # e.g. another admin, in another browser
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(page.get_by_text("Consent granted by Ada Admin on")).to_be_visible()
    expect(switch(page)).to_be_enabled()


def test_consent_refused_shows_the_providers_error(page: Page, server, entra, tenant, screenshot):
    entra.admin_consent_decision(tenant, "refused")
    try:
        open_page(page, server, token(entra, tenant))
        with page.context.expect_page() as opened:
            page.get_by_role("link", name="Provide consent").click()
        returned = opened.value
        returned.wait_for_load_state()
        expect(returned.locator("#consent-result")).to_contain_text("Consent was refused.")
        expect(returned.locator("#consent-result")).to_contain_text(
            "AADSTS65004: User declined to consent to access the app."
        )
    finally:
        entra.admin_consent_decision(tenant, "granted")
    page.bring_to_front()
    refusal = page.locator("[data-consent-error]")
    expect(refusal).to_contain_text("Consent was refused (access_denied).")
    expect(refusal).to_contain_text("AADSTS65004: User declined to consent to access the app.")
    expect(page.get_by_role("link", name="Provide consent")).to_be_visible()
    expect(switch(page)).to_be_disabled()
    screenshot(page, "admin-consent-refused")


# --- provisioning (rule 20) -------------------------------------------------------------------


def test_provisioning_succeeds_on_the_sandbox_and_the_reps_pane_works(
    page: Page, server, entra, tenant, screenshot
):
    consented(server, tenant)
    open_page(page, server, token(entra, tenant))
    expect(page.locator("#features-help")).to_contain_text("checks Contoso")
    switch(page).click()
    expect(page.locator("[data-provisioning]")).to_have_text("Provisioning…")
    screenshot(page, "admin-provisioning")
    assert work(server) == ["succeeded"]
    expect(page.locator("[data-provisioning]")).to_have_text("Provisioning succeeded")
    expect(switch(page)).to_have_attribute("aria-checked", "true")
    screenshot(page, "admin-provisioning-succeeded")
    assert axe_scan(page) == []

    # Turning off is immediate.
    switch(page).click()
    expect(switch(page)).to_have_attribute("aria-checked", "false")
    expect(page.locator("#features .notice")).to_contain_text("CRM features are off")
    with server.app.app_context():
        assert store.session().get(Tenant, tenant).crm_features is False


def test_until_provisioned_a_rep_is_told_to_ask_the_admin(page: Page, server, entra, tenant):
    open_page(page, server, token(entra, tenant, admin=False, name="Alex Rep"), "/pane")
    page.evaluate(
        "item => Office.standin.selectItem(item)",
        {
            "itemType": "message",
            "mode": "read",
            "subject": "Hello",
            "from": {"displayName": "Someone", "emailAddress": "someone@example.com"},
            "to": [{"displayName": "Alex", "emailAddress": "alex@contoso.example"}],
            "internetMessageId": "<gate@example.com>",
            "body": "Thanks,\nSomeone Else\nBuyer, Example Ltd\n+39 02 1234 5678",
        },
    )
    expect(page.locator("[data-turned-off]")).to_have_text(
        "Your organisation has not turned on Sidepane's CRM features yet. "
        "Ask your admin to turn them on."
    )
    expect(page.get_by_role("link", name="Admin settings")).to_have_count(0)
    # Rule 1: what needs no CRM still works.
    expect(page.get_by_role("heading", name="From the sender's signature")).to_be_visible()


@pytest.mark.parametrize(
    ("missing", "said"),
    [
        ("nothing", ""),
        ("reachable", "the environment did not answer"),
        ("permissions", "your CRM user lacks prvReadIncident, prvCreateActivity."),
        ("server_side_sync", "not synchronized by Server-Side Synchronization: "),
    ],
)
def test_dynamics_provisioning_names_the_missing_prerequisite_and_the_toggle_stays_off(
    page: Page, dynamics, entra, dataverse, tenant, screenshot, missing, said
):
    consented(dynamics, tenant)
    open_page(page, dynamics, token(entra, tenant))
    expect(page.locator("#features-help")).to_contain_text("checks Contoso")
    if missing == "reachable":
        dataverse.fail(503, times=8, path="WhoAmI")
    elif missing == "permissions":
        dataverse.deny_privileges("prvReadIncident", "prvCreateActivity")
    elif missing == "server_side_sync":
        for name in ("Noor", "Olli"):
            rep = dataverse.add_systemuser(f"{name} Rep", f"{name.lower()}@contoso.example")
            dataverse.set_mailbox(server_side_sync=False, user_id=rep)
    turn_on(page, dynamics)

    if missing == "nothing":
        expect(page.locator("[data-provisioning]")).to_have_text("Provisioning succeeded")
        expect(switch(page)).to_have_attribute("aria-checked", "true")
        return
    failure = page.locator("[data-provisioning=failed]")
    expect(failure).to_contain_text("Provisioning found what is missing in Contoso")
    check = failure.locator(f"[data-check={missing}]")
    expect(check).to_contain_text(said)
    if missing == "reachable":
        expect(check).to_contain_text("Check that it is running and try again.")
    elif missing == "permissions":
        expect(check).to_contain_text("security role that has them")
    else:
        expect(check).to_contain_text("noor@contoso.example, olli@contoso.example")
        expect(check).to_contain_text("approve them in the Power Platform admin center")
    expect(switch(page)).to_have_attribute("aria-checked", "false")
    expect(switch(page)).to_be_enabled()  # fix it, then try again
    screenshot(page, f"admin-provisioning-{missing}")
    assert axe_scan(page) == []
    with dynamics.app.app_context():
        assert store.session().get(Tenant, tenant).crm_features is False


# --- who may use it ---------------------------------------------------------------------------


def test_a_rep_who_is_not_an_admin_is_refused(page: Page, server, entra, tenant, screenshot):
    open_page(page, server, token(entra, tenant, admin=False, name="Alex Rep"))
    expect(page.locator("[data-error=admin_only]")).to_have_text(
        "Only your organisation's Sidepane admins can change these settings."
    )
    expect(page.get_by_role("switch")).to_have_count(0)
    screenshot(page, "admin-refused")


# --- settings (rules 9, 21) in the harness ----------------------------------------------------


class TestInHarness:
    @pytest.fixture
    def context_options(self) -> dict[str, Any]:
        return dict(HARNESS_CONTEXT)

    @pytest.fixture
    def demo(self, live_server, demo_app_config):
        return live_server(demo_app_config)

    def test_inline_creation_turned_off_sends_add_to_crm_to_the_crms_form(self, page: Page, demo):
        pane = open_harness(page, demo, "unknown-signature", rep="alex")
        add = pane.get_by_role("button", name="Add to CRM").first
        expect(add).to_be_visible()  # our New contact form, by default

        pane = open_harness(page, demo, "unknown-signature", rep="admin")
        pane.get_by_role("link", name="Admin settings").click()
        expect(pane.get_by_role("heading", name="Sidepane for your organisation")).to_be_visible()
        inline = pane.get_by_label("Create contacts in the pane")
        expect(inline).to_be_checked()
        inline.uncheck()
        pane.get_by_role("button", name="Save settings").click()
        expect(pane.locator("#pane .notice")).to_have_text("Settings saved.")
        changes = pane.locator("#recent-changes")
        expect(changes).to_contain_text("Create contacts in the pane")
        expect(changes).to_contain_text("On → Off")
        expect(changes).not_to_contain_text("Email fields to match")  # all three were sent
        pane_screenshot(page, "admin-settings-saved")

        pane.get_by_role("link", name="Back to the pane").click()
        expect(pane.locator("[data-view=admin]")).to_have_count(0)
        wait_for_pane(page)
        expect(pane.get_by_role("link", name="Admin settings")).to_be_visible()

        pane = open_harness(page, demo, "unknown-signature", rep="alex")
        add = pane.get_by_role("link", name="Add to CRM").first
        expect(add).to_be_visible()
        assert "/sandbox/" in (add.get_attribute("href") or "")  # the CRM's own form
        expect(add).to_have_attribute("target", "_blank")
        expect(pane.get_by_role("button", name="Add to CRM")).to_have_count(0)

    def test_an_invalid_setting_is_marked_and_named(self, page: Page, demo):
        open_harness(page, demo, rep="admin")
        pane = pane_of(page)
        pane.get_by_role("link", name="Admin settings").click()
        domains = pane.get_by_label("Your organisation's mail domains")
        domains.fill("contoso.example\nnot a domain..")
        pane.get_by_role("button", name="Save settings").click()
        domains = pane.get_by_label("Your organisation's mail domains")
        expect(domains).to_have_attribute("aria-invalid", "true")
        expect(domains).to_have_value("contoso.example\nnot a domain..")
        expect(pane.locator("#error-internal_domains")).to_contain_text(
            "Your organisation's mail domains: "
        )
        expect(pane.locator("#error-internal_domains")).to_contain_text("is not a mail domain")
        pane_screenshot(page, "admin-settings-invalid")
        assert axe_scan(page, context=PANE_ONLY) == []
