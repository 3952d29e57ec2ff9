"""``/api/admin/...``: the settings, their audit trail and the status, for admins only.

Through Flask's client on the suite's app (Entra emulator tokens, sandbox CRM, SQLite then
PostgreSQL); consent and provisioning are done through their services, the worker's part by the
task's own body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addin import crm, store
from addin.identity import Identity
from addin.services import consent, provisioning
from tests.conftest import TENANT
from tests.known import sandbox_known
from workers.tasks import open_admin_adapter

ADMIN_ROLE = "Sidepane.Admin"
OTHER_TENANT = "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a"
#: Every operation of the admin API, as a test calls it.
OPERATIONS = [
    ("GET", "/api/admin/settings", None),
    ("PATCH", "/api/admin/settings", {"settings": {"related_items": 5}}),
    ("GET", "/api/admin/audit", None),
    ("GET", "/api/admin/status", None),
]

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def admin(auth: Headers) -> dict[str, str]:
    return auth("ada", roles=[ADMIN_ROLE])


def call(client: FlaskClient, method: str, path: str, headers: dict[str, str], body: Any = None):
    return client.open(path, method=method, json=body, headers=headers)


def settings_of(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.get("/api/admin/settings", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


def patch(client: FlaskClient, headers: dict[str, str], body: Any):
    return client.patch("/api/admin/settings", json=body, headers=headers)


def audit_of(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[dict]:
    answer = client.get(f"/api/admin/audit{query}", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    lines: list[dict] = answer.get_json()["audit"]
    return lines


# --- who may call -------------------------------------------------------------------------------


def test_the_operations_here_are_every_admin_route(app: Flask):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/admin")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes == {(method, path) for method, path, _body in OPERATIONS}


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_a_rep_who_is_not_an_admin_is_refused(client, auth, method, path, body):
    answer = call(client, method, path, auth("alex"), body)
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "admin_only"
    assert set(answer.get_json()) == {"error", "message"}


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_a_call_without_a_token_is_refused(client, method, path, body):
    answer = call(client, method, path, {}, body)
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "missing_token"


def test_a_rep_cannot_change_a_setting(client, auth, admin):
    assert patch(client, auth("alex"), {"settings": {"related_items": 9}}).status_code == 403
    assert settings_of(client, admin)["settings"]["related_items"] == 3
    assert audit_of(client, admin) == []


# --- reading and changing the settings ----------------------------------------------------------


def test_the_settings_start_as_the_deployments_defaults(client, admin):
    found = settings_of(client, admin)
    assert found["version"] == 0
    assert found["settings"] == {
        "inline_contact_creation": True,
        "email_fields": ["email1", "email2", "email3"],
        "search_record_types": ["account", "case", "opportunity", "contact"],
        "shown_record_types": ["opportunity", "case", "activity"],
        "attachment_max_bytes": 10 * 1024 * 1024,
        "attachment_extensions": found["settings"]["attachment_extensions"],
        "attachment_mime_types": found["settings"]["attachment_mime_types"],
        "auto_save_replies": True,
        "related_items": 3,
        "internal_domains": ["contoso.example"],
    }
    assert "pdf" in found["settings"]["attachment_extensions"]
    assert "application/pdf" in found["settings"]["attachment_mime_types"]


def test_a_change_is_saved_in_its_one_form_and_audited(client, admin):
    answer = patch(
        client,
        admin,
        {
            "settings": {
                "inline_contact_creation": False,
                "attachment_extensions": [".PDF", "csv"],
                "internal_domains": ["@Contoso.com"],
            },
            "version": 0,
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    saved = answer.get_json()
    assert saved["version"] == 1
    assert saved["settings"]["inline_contact_creation"] is False
    assert saved["settings"]["attachment_extensions"] == ["pdf", "csv"]
    assert saved["settings"]["internal_domains"] == ["contoso.com"]
    assert settings_of(client, admin) == saved

    lines = audit_of(client, admin)
    assert [(line["action"], line["field"]) for line in lines] == [
        ("setting", "internal_domains"),
        ("setting", "attachment_extensions"),
        ("setting", "inline_contact_creation"),
    ]
    assert lines[0]["old"] == ["contoso.example"] and lines[0]["new"] == ["contoso.com"]
    assert lines[2]["old"] is True and lines[2]["new"] is False
    assert {line["who"] for line in lines} == {"Ada"}
    assert all(line["at"].endswith("+00:00") for line in lines)
    assert len(audit_of(client, admin, "?limit=1")) == 1


def test_an_invalid_value_is_refused_naming_the_field_and_nothing_is_saved(client, admin):
    answer = patch(
        client,
        admin,
        {"settings": {"related_items": 7, "internal_domains": ["contoso..com"]}},
    )
    assert answer.status_code == 422
    refused = answer.get_json()
    assert refused["error"] == "invalid_setting"
    assert refused["field"] == "internal_domains"
    assert refused["message"] == (
        "internal_domains: contoso..com is not a mail domain (like contoso.com)."
    )
    assert settings_of(client, admin)["settings"]["related_items"] == 3  # not half-saved
    assert settings_of(client, admin)["version"] == 0
    assert audit_of(client, admin) == []


@pytest.mark.parametrize(
    ("settings", "field", "said"),
    [
        ({"attachment_max_bytes": -1}, "attachment_max_bytes", "must be a whole number"),
        ({"search_record_types": ["invoice"]}, "search_record_types", "invoice is not one of"),
        ({"inline_contact_creation": "no"}, "inline_contact_creation", "must be true or false"),
        ({"attachment_mime_types": ["pdf"]}, "attachment_mime_types", "is not a content type"),
    ],
)
def test_each_refusal_names_its_field(client, admin, settings, field, said):
    answer = patch(client, admin, {"settings": settings})
    assert answer.status_code == 422
    assert answer.get_json()["field"] == field
    assert (
        answer.get_json()["message"].startswith(f"{field}: ")
        and said in answer.get_json()["message"]
    )


def test_unknown_settings_are_refused_naming_them(client, admin):
    answer = patch(client, admin, {"settings": {"related_items": 5, "colour": "red", "font": 1}})
    assert answer.status_code == 422
    refused = answer.get_json()
    assert (refused["error"], refused["field"]) == ("invalid_setting", "colour")
    assert "colour: is not a setting, nor is font" in refused["message"]
    assert settings_of(client, admin)["settings"]["related_items"] == 3


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"settings": ["related_items"]},
        {"settings": {}, "version": "1"},
        {"settings": {}, "version": -1},
        {"settings": {}, "extra": True},
    ],
)
def test_a_body_that_is_not_a_settings_change_is_refused(client, admin, body):
    answer = patch(client, admin, body)
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "invalid_request"


def test_a_body_that_is_not_json_is_refused(client, admin):
    not_json = client.patch("/api/admin/settings", data="related_items=5", headers=admin)
    assert not_json.status_code == 415
    broken = client.patch(
        "/api/admin/settings",
        data="{",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400


def test_a_change_made_on_an_older_version_is_refused_with_the_current_one(client, auth, admin):
    ben = auth("ben", roles=[ADMIN_ROLE])
    assert patch(client, ben, {"settings": {"related_items": 5}, "version": 0}).status_code == 200
    answer = patch(client, admin, {"settings": {"related_items": 8}, "version": 0})
    assert answer.status_code == 409
    assert answer.get_json()["error"] == "stale_settings"
    assert answer.get_json()["version"] == 1
    assert settings_of(client, admin)["settings"]["related_items"] == 5
    again = patch(client, admin, {"settings": {"related_items": 8}, "version": 1})
    assert again.status_code == 200 and again.get_json()["version"] == 2
    assert [line["who"] for line in audit_of(client, admin)] == ["Ada", "Ben"]


@pytest.mark.parametrize("limit", ["0", "501", "abc", "-1", "1.5", "²"])
def test_a_bad_audit_limit_is_refused(client, admin, limit):
    answer = client.get(f"/api/admin/audit?limit={limit}", headers=admin)
    assert answer.status_code == 422
    assert answer.get_json()["message"].startswith("limit: ")


def test_another_organisations_admin_sees_their_own_settings(client, auth, admin):
    patch(client, admin, {"settings": {"inline_contact_creation": False}})
    olga = auth("olga", roles=[ADMIN_ROLE], tenant_id=OTHER_TENANT)
    theirs = settings_of(client, olga)
    assert theirs["version"] == 0 and theirs["settings"]["inline_contact_creation"] is True
    assert audit_of(client, olga) == []


# --- the pane and the API obey the settings at once ---------------------------------------------


def resolve(client: FlaskClient, headers: dict[str, str], *addresses: str) -> dict[str, str]:
    item = {"type": "message", "to": [{"address": a} for a in addresses]}
    answer = client.post("/api/items/resolve", json={"item": item}, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {a["address"]: a["status"] for a in answer.get_json()["addresses"]}


def test_resolving_uses_the_organisations_email_fields_and_domains(client, auth, admin, sandbox):
    known = sandbox_known(sandbox[1])
    alex = auth("alex")
    addresses = (known.single_address, known.second_field_address, "pat@fabrikam.example")
    assert resolve(client, alex, *addresses) == {
        known.single_address: "matched",
        known.second_field_address: "matched",
        "pat@fabrikam.example": "unsaved",
    }
    changed = patch(
        client,
        admin,
        {"settings": {"email_fields": ["email1"], "internal_domains": ["fabrikam.example"]}},
    )
    assert changed.status_code == 200
    assert resolve(client, alex, *addresses) == {
        known.single_address: "matched",
        known.second_field_address: "unsaved",  # its address is in the 2nd field, not searched
        "pat@fabrikam.example": "internal",
    }


# --- the organisation's status ------------------------------------------------------------------


def test_the_status_says_consent_features_and_the_latest_run(app: Flask, client, admin):
    before = client.get("/api/admin/status", headers=admin)
    assert before.status_code == 200
    assert before.get_json() == {
        "consent": {
            "status": "missing",
            "error": None,
            "error_description": None,
            "by": None,
            "at": None,
        },
        "crm_features": False,
        "provisioning": None,
    }

    ada = Identity(TENANT, "ada-oid", "ada@contoso.example", "Ada", frozenset(), frozenset())
    with app.app_context():
        session = store.session()
        link = consent.consent_link(session, ada, app.config)
        state = parse_qs(urlsplit(link).query)["state"][0]
        consent.finish(session, {"admin_consent": "True", "tenant": TENANT, "state": state})
        run, _created = provisioning.turn_on(session, ada, crm.sandbox_directory().primary())
        session.commit()
        run_id = run.id
    checking = client.get("/api/admin/status", headers=admin).get_json()
    assert checking["consent"]["status"] == "granted" and checking["consent"]["by"] == "Ada"
    assert checking["provisioning"]["status"] == "queued"
    assert checking["provisioning"]["checks"] == [] and checking["crm_features"] is False

    with app.app_context():
        assert provisioning.run_checks(store.session(), run_id, open_admin_adapter)[0] == (
            "succeeded"
        )
    done = client.get("/api/admin/status", headers=admin).get_json()
    assert done["crm_features"] is True
    assert done["provisioning"]["id"] == run_id
    assert done["provisioning"]["status"] == "succeeded"
    assert done["provisioning"]["environment"] == "Contoso"
    assert done["provisioning"]["requested_by"] == "Ada"
    assert [(c["name"], c["ok"]) for c in done["provisioning"]["checks"]] == [
        ("reachable", True),
        ("permissions", True),
    ]
    assert [line["action"] for line in audit_of(client, admin)] == [
        "crm_features",
        "provisioning",
        "consent",
    ]
