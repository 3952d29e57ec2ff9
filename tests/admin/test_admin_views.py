"""The admin page through Flask's client (rules 9, 19-21): who may use it, each section's states.

The app is the suite's (Entra emulator tokens, sandbox CRM, SQLite then PostgreSQL) with the gate
of rules 19-20 on (``REQUIRE_PROVISIONING``). The Provide consent link is followed through the
real Entra emulator; the worker's part of provisioning is the task body run in this process.
"""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.request
import uuid
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from addin import create_app, store
from addin.admin import PUBLIC_ENDPOINTS
from addin.auth import DEMO_TENANT
from addin.services import consent, tenant_settings
from addin.store.models import AdminAudit, ConsentRequest, ProvisioningRun, Tenant
from tests.conftest import API_AUDIENCE, TENANT
from tests.dynamics.app_config import CLIENT_SECRET

ADMIN_ROLE = "Sidepane.Admin"
RULE_19 = (
    "Sidepane needs application permissions. A tenant administrator must consent before it "
    "can be turned on."
)
NOT_ADMIN = "Only your organisation's Sidepane admins can change these settings."
#: Routes an admin page or Entra reaches without a bearer token; every other one needs an admin.
PUBLIC = {"admin.page", "admin.consent_return"}


@pytest.fixture
def gated(app: Flask) -> Flask:
    """The suite's app with the gate of rules 19-20 on, as a deployment has it."""
    app.config["REQUIRE_PROVISIONING"] = True
    return app


@pytest.fixture
def client(gated: Flask) -> FlaskClient:
    return gated.test_client()


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth("ada", roles=[ADMIN_ROLE])


@pytest.fixture
def enqueued(monkeypatch) -> list[str]:
    """The provisioning runs the page sent to the workers (really sent, on the memory broker)."""
    import workers

    sent: list[str] = []
    original = workers.enqueue_provisioning

    def record(run_id: str) -> bool:
        sent.append(run_id)
        return original(run_id)

    monkeypatch.setattr(workers, "enqueue_provisioning", record)
    return sent


@pytest.fixture
def entra_returns(entra, gated: Flask):
    """Register the add-in with Entra, its consent return being the test app's."""
    return_url = consent.return_url(gated.config)
    entra.register_client(API_AUDIENCE, CLIENT_SECRET, redirect_uris=[return_url])
    return return_url


def post(client: FlaskClient, path: str, headers: dict[str, str], **fields: Any) -> Any:
    return client.post(
        path, json={"item": None, "fields": fields}, headers={**headers, "Accept": "text/html"}
    )


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def raw(response: Any) -> str:
    return str(response.get_data(as_text=True))


def plain(response: Any) -> str:
    """The answer's words, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def consent_href(html: str) -> str:
    found = re.search(r'<a[^>]*href="([^"]+)"[^>]*data-watch', html)
    assert found, "no consent link"
    return unescape(found.group(1))


def follow_entra(entra, href: str) -> str:
    """Open the Provide consent link on the Entra emulator; return where it sends the admin."""

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(
        Stay, urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=entra.ca_file))
    )
    try:
        opener.open(href, timeout=10).close()
    except urllib.error.HTTPError as answer:
        with answer:
            assert answer.code == 302, answer.read()
            return str(answer.headers["Location"])
    raise AssertionError("Entra did not redirect")


def back_from(client: FlaskClient, location: str) -> Any:
    """The admin's browser arriving at the consent return (no bearer token)."""
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}")


def tenant_row(app: Flask, tenant_id: str = TENANT) -> Tenant | None:
    with app.app_context():
        return store.session().get(Tenant, tenant_id)


def runs(app: Flask, tenant_id: str = TENANT) -> list[ProvisioningRun]:
    with app.app_context():
        query = select(ProvisioningRun).where(ProvisioningRun.tenant_id == tenant_id)
        return list(store.session().scalars(query))


def grant_consent(client: FlaskClient, entra, headers: dict[str, str]) -> None:
    href = consent_href(text(post(client, "/admin/view", headers)))
    answer = back_from(client, follow_entra(entra, href))
    assert answer.status_code == 200, text(answer)


def work(app: Flask) -> list[str]:
    """Do what a worker does with each queued provisioning run; return how each ended."""
    from workers import tasks

    done = []
    for run in runs(app):
        if run.status == "queued":
            with app.app_context():
                done.append(tasks.provision.run(run.id))
    return done


# --- who may use the admin page ---------------------------------------------------------------


def admin_routes(app: Flask) -> list[tuple[str, str, str]]:
    """Every admin route but the public ones: (endpoint, method, path with made-up values)."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint in PUBLIC:
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = re.sub(
                rf"<(?:[^:>]+:)?{argument}>", "00000000-0000-4000-8000-000000000000", path
            )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, path))
    return found


def test_the_public_admin_routes_are_only_the_shell_page_and_the_consent_return(gated):
    endpoints = {r.endpoint for r in gated.url_map.iter_rules() if r.endpoint.startswith("admin.")}
    assert endpoints >= PUBLIC
    assert PUBLIC_ENDPOINTS == PUBLIC  # a route let through without a token is a decision
    assert len(admin_routes(gated)) >= 6  # view, status, features, provisioning, sign-in, settings


def test_every_admin_route_needs_a_token(client, gated):
    for endpoint, method, path in admin_routes(gated):
        answer = client.open(path, method=method, json={"item": None, "fields": {}})
        assert answer.status_code == 401, (endpoint, answer.status_code)
        assert 'class="message error"' in text(answer), endpoint  # a fragment, not JSON


def test_every_admin_route_refuses_a_rep_who_is_not_an_admin(client, gated, auth):
    for headers in (auth("alex"), auth("alex", roles=["Sidepane.Reader"])):
        for endpoint, method, path in admin_routes(gated):
            answer = client.open(
                path, method=method, json={"item": None, "fields": {"on": "true"}}, headers=headers
            )
            assert answer.status_code == 403, (endpoint, answer.status_code)
            assert NOT_ADMIN in text(answer), endpoint
    assert runs(gated) == [] and tenant_row(gated) is None  # nothing was done for them


def test_the_demo_rep_is_refused_and_the_demo_admin_is_let_in(demo_client):
    for endpoint, method, path in admin_routes(demo_client.application):
        answer = demo_client.open(
            path,
            method=method,
            json={"item": None, "fields": {}},
            headers={"Authorization": "Bearer demo:alex"},
        )
        assert answer.status_code == 403, endpoint
        assert NOT_ADMIN in text(answer)
    answer = post(demo_client, "/admin/view", {"Authorization": "Bearer demo:admin"})
    assert answer.status_code == 200
    assert 'data-view="admin"' in text(answer)


def test_the_shell_page_loads_the_view_like_the_pane(client, gated):
    answer = client.get("/admin")
    assert answer.status_code == 200
    html = text(answer)
    assert 'data-start="/admin/view"' in html and "data-no-item" in html
    assert "/static/pane.js" in html and gated.config["OFFICE_JS_URL"] in html
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://*.office.com" in policy
    pane = client.get("/pane")
    assert 'data-start="/pane/view"' in text(pane) and "data-no-item" not in text(pane)


# --- consent (rule 19) ------------------------------------------------------------------------


def test_until_consent_the_page_says_so_and_links_to_the_admin_consent_page(client, admin, entra):
    answer = post(client, "/admin/view", admin)
    assert answer.status_code == 200
    html = text(answer)
    assert RULE_19 in html
    link = re.search(r"<a [^>]*data-watch[^>]*>", html)
    assert link and 'target="_blank"' in link.group(0) and 'rel="noopener"' in link.group(0)
    assert "Provide consent" in plain(answer)
    href = urlsplit(consent_href(html))
    assert f"{href.scheme}://{href.netloc}" == entra.url
    assert href.path == f"/{TENANT}/v2.0/adminconsent"
    query = parse_qs(href.query)
    assert query["client_id"] == [API_AUDIENCE]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/admin/consent/return"]
    assert len(query["state"][0]) >= 32
    # The toggle waits for consent.
    assert re.search(r'role="switch"[^>]*aria-checked="false"[^>]*disabled', html)


def test_consent_granted_through_entra_is_recorded_and_shown(
    client, gated, admin, entra, entra_returns
):
    href = consent_href(text(post(client, "/admin/view", admin)))
    location = follow_entra(entra, href)
    assert location.startswith(entra_returns + "?")
    assert parse_qs(urlsplit(location).query)["admin_consent"] == ["True"]

    answer = back_from(client, location)
    assert answer.status_code == 200
    assert "Consent granted." in plain(answer)
    assert answer.headers["Cache-Control"] == "no-store"
    assert TENANT in entra.consented_tenants
    row = tenant_row(gated)
    assert row is not None and row.consent == "granted" and row.consent_by == "Ada"

    page = post(client, "/admin/status", admin)
    words = plain(page)
    assert "Consent granted by Ada on" in words and RULE_19 not in words
    assert "Consent again" in words and "Provide consent" not in words
    assert re.search(r'role="switch"[^>]*aria-checked="false"', text(page))
    assert not re.search(r'role="switch"[^>]*disabled', text(page))  # it can be turned on now


def test_consent_refused_shows_the_providers_error(client, gated, auth, entra, entra_returns):
    tenant = str(uuid.uuid4())
    admin = auth("ada", roles=[ADMIN_ROLE], tenant_id=tenant)
    entra.admin_consent_decision(tenant, "refused")
    try:
        href = consent_href(text(post(client, "/admin/view", admin)))
        answer = back_from(client, follow_entra(entra, href))
    finally:
        entra.admin_consent_decision(tenant, "granted")
    assert answer.status_code == 200
    words = plain(answer)
    assert "Consent was refused." in words and "access_denied" in words
    assert "AADSTS65004: User declined to consent to access the app." in words

    page = plain(post(client, "/admin/view", admin))
    assert RULE_19 in page and "Provide consent" in page
    assert "Consent was refused (access_denied)." in page
    assert "AADSTS65004: User declined to consent to access the app." in page
    assert tenant_row(gated, tenant).consent == "refused"


def test_a_return_with_an_unknown_state_records_nothing(client, gated):
    for query in (
        "admin_consent=True&tenant=" + TENANT + "&state=made-up",
        "admin_consent=True&tenant=" + TENANT,
        "error=access_denied&state=" + "x" * 200,
        "state=%00abc&admin_consent=True",
    ):
        answer = client.get(f"/admin/consent/return?{query}")
        assert answer.status_code == 400, query
        assert "This consent link is not valid or has expired." in plain(answer)
        assert "Start again from Sidepane's admin settings" in plain(answer)
    assert tenant_row(gated) is None


def test_a_return_can_be_used_once(client, gated, admin, entra, entra_returns):
    href = consent_href(text(post(client, "/admin/view", admin)))
    location = follow_entra(entra, href)
    assert back_from(client, location).status_code == 200
    again = back_from(client, location)
    assert again.status_code == 400
    assert "not valid or has expired" in plain(again)
    with gated.app_context():
        audit = store.session().scalars(select(AdminAudit).where(AdminAudit.action == "consent"))
        assert len(list(audit)) == 1


def test_a_return_naming_another_tenant_records_nothing(client, gated, admin):
    href = consent_href(text(post(client, "/admin/view", admin)))
    state = parse_qs(urlsplit(href).query)["state"][0]
    other = str(uuid.uuid4())
    answer = client.get(f"/admin/consent/return?admin_consent=True&tenant={other}&state={state}")
    assert answer.status_code == 400
    assert tenant_row(gated, other) is None
    row = tenant_row(gated)
    assert row is None or row.consent == ""


# --- CRM features and provisioning (rule 20) --------------------------------------------------


def test_turning_on_without_consent_is_refused(client, gated, admin, enqueued):
    answer = post(client, "/admin/features", admin, on="true")
    assert answer.status_code == 409
    assert "Provide consent first" in plain(answer)
    assert runs(gated) == [] and enqueued == []


def test_turning_on_runs_the_checks_once_then_says_provisioning_succeeded(
    client, gated, admin, entra, entra_returns, enqueued
):
    grant_consent(client, entra, admin)
    page = plain(post(client, "/admin/status", admin))
    assert "checks Contoso, the Sandbox CRM environment you are connected to" in page

    first = post(client, "/admin/features", admin, on="true")
    second = post(client, "/admin/features", admin, on="true")  # a double click
    assert first.status_code == second.status_code == 200
    (run,) = runs(gated)
    assert enqueued == [run.id]
    assert run.status == "queued" and run.environment_id == "contoso"
    for answer in (first, second):
        assert "Provisioning…" in plain(answer)
        html = text(answer)
        assert f'data-poll="/admin/provisioning/{run.id}"' in html
        assert re.search(r'role="switch"[^>]*aria-checked="false"[^>]*disabled', html)

    assert work(gated) == ["succeeded"]
    polled = post(client, f"/admin/provisioning/{run.id}", admin)
    assert polled.status_code == 200
    assert "Provisioning succeeded" in plain(polled) and "data-poll" not in text(polled)
    assert re.search(r'role="switch"[^>]*aria-checked="true"', text(polled))
    assert tenant_row(gated).crm_features is True
    # A page left open asks again: the features are on already, nothing more is checked.
    assert post(client, "/admin/features", admin, on="true").status_code == 200
    assert len(runs(gated)) == 1 and enqueued == [run.id]


def test_turning_off_is_immediate(client, gated, admin, entra, entra_returns, enqueued):
    grant_consent(client, entra, admin)
    post(client, "/admin/features", admin, on="true")
    work(gated)
    answer = post(client, "/admin/features", admin, on="false")
    assert answer.status_code == 200
    assert re.search(r'role="switch"[^>]*aria-checked="false"', text(answer))
    assert tenant_row(gated).crm_features is False
    assert len(runs(gated)) == 1  # stopping needs no checks


def test_an_admin_signed_out_of_the_crm_signs_in_again_from_the_page(
    client, gated, admin, entra, entra_returns, enqueued
):
    grant_consent(client, entra, admin)
    assert client.post("/pane/sign-out", json={"item": None}, headers=admin).status_code == 200
    page = plain(post(client, "/admin/status", admin))
    assert "Sign in to Sandbox CRM first: the checks run as you." in page
    assert "Connect to your CRM first" in page
    refused = post(client, "/admin/features", admin, on="true")
    assert refused.status_code == 409 and runs(gated) == []
    assert "Connect to your CRM first" in plain(refused)
    answer = post(client, "/admin/sign-in", admin)
    assert answer.status_code == 200
    assert "checks Contoso, the Sandbox CRM environment you are connected to" in plain(answer)


def test_the_poll_of_another_tenants_run_is_not_found(client, gated, admin, auth, entra):
    with gated.app_context():
        store.session().add(
            ProvisioningRun(
                id=str(uuid.uuid4()),
                tenant_id="someone-else",
                user_oid="x",
                user_name="X",
                crm="sandbox",
                environment_id="contoso",
                environment="{}",
            )
        )
        store.session().commit()
    (run,) = runs(gated, "someone-else")
    assert post(client, f"/admin/provisioning/{run.id}", admin).status_code == 404


FAILURES = [
    (
        [{"name": "reachable", "ok": False, "code": "unreachable", "details": ["timed out"]}],
        ["CRM reachable", "did not answer (timed out)", "check that it is running and try again"],
    ),
    (
        [
            {"name": "reachable", "ok": True},
            {
                "name": "permissions",
                "ok": False,
                "code": "missing_privileges",
                "details": ["prvReadIncident", "prvCreateEmail"],
                "count": 3,
            },
        ],
        ["Permissions", "prvReadIncident, prvCreateEmail", "And 1 more", "security role"],
    ),
    (
        [
            {"name": "reachable", "ok": True},
            {"name": "permissions", "ok": True},
            {
                "name": "server_side_sync",
                "ok": False,
                "code": "mailboxes_not_synced",
                "details": ["a@contoso.example", "b@contoso.example"],
                "count": 7,
            },
        ],
        [
            "Server-side synchronization",
            "a@contoso.example, b@contoso.example",
            "And 5 more",
            "Set them to Server-Side Synchronization and approve them in the Power Platform",
        ],
    ),
    (
        [{"name": "permissions", "ok": False, "code": "signed_out"}],
        ["your CRM sign-in has ended. Sign in to the CRM again"],
    ),
    (
        [{"name": "server_side_sync", "ok": False, "code": "mailbox_check_denied"}],
        ["may not read the mailboxes' settings"],
    ),
]


@pytest.mark.parametrize(("checks", "said"), FAILURES)
def test_a_failed_run_names_each_missing_prerequisite_and_what_to_do(
    client, gated, admin, entra, entra_returns, enqueued, checks, said
):
    grant_consent(client, entra, admin)
    post(client, "/admin/features", admin, on="true")
    (run,) = runs(gated)
    with gated.app_context():  # what a worker records when a check fails
        row = store.session().get(ProvisioningRun, run.id)
        row.status, row.checks = "failed", json.dumps(checks)
        store.session().commit()
    answer = post(client, f"/admin/provisioning/{run.id}", admin)
    words = plain(answer)
    assert "Provisioning found what is missing in Contoso" in words
    for phrase in said:
        assert phrase.lower() in words.lower(), phrase
    assert "Provisioning succeeded" not in words and "data-poll" not in text(answer)
    # The toggle stays off, and can be tried again.
    assert re.search(r'role="switch"[^>]*aria-checked="false"', text(answer))
    assert not re.search(r'role="switch"[^>]*disabled', text(answer))
    assert tenant_row(gated).crm_features is False


# --- settings (rule 21) -----------------------------------------------------------------------


def settings_form(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    """The settings form's fields as the page renders them (what pane.js would send)."""
    html = text(post(client, "/admin/view", headers))
    form = html[html.index('data-post="/admin/settings"') :]
    fields: dict[str, Any] = {}
    for tag in re.findall(r"<input [^>]+>", form):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag).group(1)
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        if name in fields:  # a group of checkboxes: pane.js sends a list
            fields[name] = [*([fields[name]] if isinstance(fields[name], str) else fields[name])]
            fields[name].append(value)
        else:
            fields[name] = value
    for name, value in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form):
        fields[name] = value
    return fields


def test_the_form_has_every_setting(client, admin):
    fields = settings_form(client, admin)
    for field in tenant_settings.FIELDS:
        assert field in fields, field
    assert fields["version"] == "0"
    assert fields["attachment_max_bytes"] == "10"  # MB
    assert fields["email_fields"] == ["email1", "email2", "email3"]


def test_saving_the_settings_records_who_changed_what(client, gated, admin):
    fields = settings_form(client, admin)
    fields.pop("inline_contact_creation")  # unchecked
    fields["internal_domains"] = "contoso.example\nfabrikam.example"
    fields["attachment_max_bytes"] = "2.5"
    fields["search_record_types"] = "case"  # one checkbox: pane.js sends text
    answer = post(client, "/admin/settings", admin, **fields)
    assert answer.status_code == 200, plain(answer)
    assert "Settings saved." in plain(answer)
    with gated.app_context():
        saved = tenant_settings.current(store.session(), TENANT, gated.config)
    assert saved.inline_contact_creation is False
    assert saved.internal_domains == ("contoso.example", "fabrikam.example")
    assert saved.attachment_max_bytes == int(2.5 * 1024 * 1024)
    assert saved.search_record_types == ("case",)
    assert saved.version == 1
    assert 'name="version" value="1"' in text(answer)
    # Recent changes: who, which setting, old -> new.
    changes = text(answer)[text(answer).index('id="recent-changes"') :]
    words = " ".join(re.sub(r"<[^>]+>", " ", changes).split())
    assert "Create contacts in the pane On → Off Ada," in words
    assert "Largest attachment saved (MB) 10 MB → 2.5 MB Ada," in words
    assert "Your organisation's mail domains contoso.example → contoso.example, fabrikam." in words


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("internal_domains", "contoso.example\nnot a domain..", "is not a mail domain"),
        ("attachment_max_bytes", "-1", "must be a number of MB from 0 to 150"),
        ("related_items", "11", "must be a whole number from 1 to 10"),
        ("search_record_types", ["case", "invoice"], "invoice is not one of"),
        ("attachment_mime_types", "application/pdf\n<script>", "is not a content type"),
    ],
)
def test_an_invalid_setting_is_refused_naming_the_field_and_nothing_is_saved(
    client, gated, admin, field, value, said
):
    fields = settings_form(client, admin)
    fields.pop("inline_contact_creation")  # a valid change that must not be saved either
    fields[field] = value
    answer = post(client, "/admin/settings", admin, **fields)
    assert answer.status_code == 422
    html = text(answer)
    label = {
        "internal_domains": "Your organisation's mail domains",
        "attachment_max_bytes": "Largest attachment saved (MB)",
        "related_items": "Related items shown at first",
        "search_record_types": "Record types the save card searches",
        "attachment_mime_types": "Content types saved",
    }[field]
    assert f'data-invalid="{field}"' in html
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', html)
    found = re.search(rf'<p class="field-error" id="error-{field}">([^<]+)</p>', raw(answer))
    error = unescape(found.group(1)) if found else ""
    assert error.startswith(f"{label}: ") and said in error, error
    assert "Nothing was saved." in plain(answer)
    # The admin's values are shown again as they typed them, the unchecked box unchecked.
    if isinstance(value, str):
        assert value in html
    assert not re.search(r'name="inline_contact_creation" value="true" checked', html)
    with gated.app_context():
        assert tenant_settings.current(store.session(), TENANT, gated.config).version == 0
        assert store.session().scalar(select(func.count()).select_from(AdminAudit)) == 0


def test_settings_read_before_another_admin_saved_are_refused(client, gated, admin, auth):
    stale = settings_form(client, admin)
    other = auth("bo", roles=[ADMIN_ROLE])
    fields = settings_form(client, other)
    fields["related_items"] = "5"
    assert post(client, "/admin/settings", other, **fields).status_code == 200
    stale["related_items"] = "7"
    answer = post(client, "/admin/settings", admin, **stale)
    assert answer.status_code == 409
    assert "Another admin changed the settings while you had them open." in plain(answer)
    html = text(answer)
    assert re.search(r'name="related_items"[^>]*value="5"', html)  # the current values
    assert 'name="version" value="1"' in html
    with gated.app_context():
        assert tenant_settings.current(store.session(), TENANT, gated.config).related_items == 5


def test_a_deployment_without_the_gate_says_the_switch_does_not_hold_reps_back(app, auth):
    app.config["REQUIRE_PROVISIONING"] = False
    answer = post(app.test_client(), "/admin/status", auth("ada", roles=[ADMIN_ROLE]))
    assert "data-gate-off" in text(answer)
    assert "This deployment does not wait for provisioning" in plain(answer)


def test_with_the_gate_the_page_does_not_say_so(client, admin):
    assert "data-gate-off" not in text(post(client, "/admin/status", admin))


def test_a_settings_post_without_a_version_is_a_bad_request(client, admin):
    assert post(client, "/admin/settings", admin, related_items="5").status_code == 400


# --- the gate: reps wait for their admin (rules 19-20) ----------------------------------------


def test_until_provisioned_a_rep_is_told_to_ask_the_admin_and_the_api_refuses(client, auth, entra):
    rep = auth("alex")
    item = {
        "type": "message",
        "mode": "read",
        "subject": "Hello",
        "mailbox": "alex@contoso.example",
        "from": {"address": "someone@example.com", "name": "Someone"},
        "to": [{"address": "alex@contoso.example", "name": ""}],
        "internet_message_id": "<m1@example.com>",
    }
    answer = client.post("/pane/view", json={"item": item, "fields": {}}, headers=rep)
    assert answer.status_code == 200
    words = plain(answer)
    assert "Your organisation has not turned on Sidepane's CRM features yet." in words
    assert "Ask your admin to turn them on." in words
    assert "CRM features off" in words and "Admin settings" not in words
    assert 'data-load="/pane/signature"' in text(answer)  # what needs no CRM still works
    resolve = {k: item[k] for k in ("type", "mailbox", "from", "to")}
    api = client.post("/api/items/resolve", json={"item": resolve}, headers=rep)
    assert api.status_code == 409 and api.get_json()["error"] == "crm_features_off"

    admin = auth("ada", roles=[ADMIN_ROLE])
    answer = client.post("/pane/view", json={"item": item, "fields": {}}, headers=admin)
    words = plain(answer)
    assert "Ask your admin" not in words and "Open admin settings" in words
    assert 'href="/admin"' in text(answer)


def test_once_provisioned_reps_use_the_crm_and_admins_see_the_admin_link(
    client, gated, admin, auth, entra, entra_returns, enqueued
):
    grant_consent(client, entra, admin)
    post(client, "/admin/features", admin, on="true")
    assert work(gated) == ["succeeded"]
    rep = client.post("/pane/view", json={"item": None, "fields": {}}, headers=auth("alex"))
    assert "Contoso" in plain(rep) and "turned on" not in plain(rep)
    assert "Admin settings" not in plain(rep)
    mine = client.post("/pane/view", json={"item": None, "fields": {}}, headers=admin)
    assert re.search(r'<a class="bar-link" href="/admin">Admin settings</a>', text(mine))


# --- the demo: the harness plays Entra, the first run is ready to use ------------------------


@pytest.fixture
def demo_app(sandbox, tmp_path) -> Any:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    store.upgrade(url)
    application = create_app(
        {
            "TESTING": True,
            "DEMO": True,
            "BROKER_URL": "memory://",
            "DATABASE_URL": url,
            "SANDBOX_PATH": str(sandbox[0]),
            "REQUIRE_PROVISIONING": True,
        }
    )
    yield application
    application.extensions["store_engine"].dispose()


@pytest.fixture
def demo_client(demo_app: Flask) -> FlaskClient:
    return demo_app.test_client()


DEMO_ADMIN = {"Authorization": "Bearer demo:admin"}


def test_the_harness_plays_entras_admin_consent_page(demo_client):
    href = consent_href(text(post(demo_client, "/admin/view", DEMO_ADMIN)))
    parts = urlsplit(href)
    assert parts.path == f"/harness/entra/{DEMO_TENANT}/v2.0/adminconsent"
    page = demo_client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    words = plain(page)
    assert "Permissions requested" in words and "Sidepane" in words
    assert "https://graph.microsoft.com/.default" in words
    assert "Accept" in words and "Cancel" in words
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    cancel = demo_client.post(parts.path, data={**query, "answer": "cancel"})
    assert cancel.status_code == 302
    location = urlsplit(cancel.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "http://127.0.0.1:8000/admin/consent/return"
    )
    assert parse_qs(location.query) == {
        "error": ["access_denied"],
        "error_subcode": ["cancel"],
        "error_description": ["AADSTS65004: User declined to consent to access the app."],
        "admin_consent": ["True"],
        "tenant": [DEMO_TENANT],
        "state": [query["state"]],
    }

    accept = demo_client.post(parts.path, data={**query, "answer": "accept"})
    location = urlsplit(accept.headers["Location"])
    assert parse_qs(location.query) == {
        "admin_consent": ["True"],
        "tenant": [DEMO_TENANT],
        "state": [query["state"]],
        "scope": ["https://graph.microsoft.com/.default"],
    }
    answer = demo_client.get(f"{location.path}?{location.query}")
    assert answer.status_code == 200 and "Consent granted." in plain(answer)


def test_the_harness_consent_page_refuses_another_redirect_uri(demo_client):
    href = consent_href(text(post(demo_client, "/admin/view", DEMO_ADMIN)))
    parts = urlsplit(href)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    evil = {**query, "redirect_uri": "https://evil.example/steal"}
    page = demo_client.get(parts.path, query_string=evil)
    assert page.status_code == 400 and "AADSTS50011" in plain(page)
    answer = demo_client.post(parts.path, data={**evil, "answer": "accept"})
    assert answer.status_code == 400 and "Location" not in answer.headers
    other_app = demo_client.get(parts.path, query_string={**query, "client_id": "someone"})
    assert other_app.status_code == 400 and "AADSTS700016" in plain(other_app)


def test_the_harness_consent_page_is_demo_only(client):
    assert client.get(f"/harness/entra/{TENANT}/v2.0/adminconsent").status_code == 404


def test_a_first_demo_starts_consented_and_provisioned_and_a_later_one_keeps_the_admins_choice(
    demo_app, demo_client
):
    from addin.cli import prepare_demo_tenant

    with demo_app.app_context():
        assert prepare_demo_tenant() is True
    row = tenant_row(demo_app, DEMO_TENANT)
    assert row.consent == "granted" and row.crm_features is True
    with demo_app.app_context():
        trail = tenant_settings.audit_trail(store.session(), DEMO_TENANT)
    assert {(a.action, a.user_name) for a in trail} == {
        ("consent", "Sidepane demo"),
        ("crm_features", "Sidepane demo"),
    }
    rep = post(demo_client, "/pane/view", {"Authorization": "Bearer demo:alex"})
    assert "Contoso" in plain(rep) and "turned on" not in plain(rep)

    # The demo admin turns the features off; the next demo start leaves it so.
    post(demo_client, "/admin/features", DEMO_ADMIN, on="false")
    with demo_app.app_context():
        assert prepare_demo_tenant() is False
    assert tenant_row(demo_app, DEMO_TENANT).crm_features is False
    page = plain(post(demo_client, "/admin/view", DEMO_ADMIN))
    assert "Consent granted by Sidepane demo" in page and "Consent again" in page
    assert "CRM features On → Off Admin," in page


def test_consent_requests_are_kept_per_admin_and_reused(client, gated, admin):
    first = consent_href(text(post(client, "/admin/view", admin)))
    again = consent_href(text(post(client, "/admin/status", admin)))
    assert first == again  # a reload or a refresh does not make a new state each time
    with gated.app_context():
        assert store.session().scalar(select(func.count()).select_from(ConsentRequest)) == 1


def test_the_page_fragments_answer_html_errors(client, admin):
    answer = client.post("/admin/features", data="nope", headers={**admin, "Accept": "text/html"})
    assert answer.status_code == 400 and 'class="message error"' in text(answer)
