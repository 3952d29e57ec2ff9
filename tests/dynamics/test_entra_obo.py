"""Real msal against the loopback Entra token endpoint: on-behalf-of, refresh, consent, faults.

Each test builds its own ``ConfidentialClientApplication``: msal caches 400s for 60 s and 429/5xx
for ``Retry-After`` seconds per app (notes 0.6), which would leak between tests. Tests that
change the emulator's state use ``own_entra``; the others share the session's ``entra`` with
a fresh user (oid) each.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msal
import pytest
import requests

from tests.emulators.entra import EntraEmulator, new_rsa_key

CLIENT_ID = "8a3f2d61-77c4-4e0b-9a51-0f6e2c9d4b17"
SECRET = "backend-secret~1"
TENANT = "5f1d9c2e-3b4a-4c6d-8e7f-9a0b1c2d3e4f"
OTHER_TENANT = "0e9d8c7b-6a5f-4e4d-9c3b-2a1f0e9d8c7b"
DATAVERSE = "https://contoso.crm.dynamics.com"
OTHER_RESOURCE = "https://fabrikam.crm4.dynamics.com"
REDIRECT_URI = "https://sidepane.example/admin/consented"


class TrustingSession(requests.Session):
    """A session that trusts the emulators' CA per request, where REQUESTS_CA_BUNDLE cannot
    override it (notes 0.3)."""

    def __init__(self, ca_file: str) -> None:
        super().__init__()
        self.ca_file = ca_file

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["verify"] = self.ca_file
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def own_entra() -> Iterator[EntraEmulator]:
    """An emulator of the test's own, for tests that change lifetimes, consent or faults."""
    with EntraEmulator() as emulator:
        emulator.register_client(CLIENT_ID, SECRET, redirect_uris=[REDIRECT_URI])
        yield emulator


@pytest.fixture
def shared_entra(entra: EntraEmulator) -> EntraEmulator:
    entra.register_client(CLIENT_ID, SECRET, redirect_uris=[REDIRECT_URI])
    return entra


@pytest.fixture
def http(entra: EntraEmulator) -> Iterator[TrustingSession]:
    with TrustingSession(entra.ca_file) as session:  # one CA for every emulator
        yield session


@pytest.fixture
def oid() -> str:
    return str(uuid.uuid4())


def make_app(
    entra: EntraEmulator,
    http: requests.Session,
    *,
    client_id: str = CLIENT_ID,
    secret: str = SECRET,
    tenant: str = TENANT,
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret,
        authority=f"{entra.url}/{tenant}",
        instance_discovery=False,
        http_client=http,
    )


def user_token(entra: EntraEmulator, oid: str, **overrides: Any) -> str:
    """The add-in's SSO token: what the backend exchanges on behalf of the user."""
    claims: dict[str, Any] = {
        "tenant_id": TENANT,
        "oid": oid,
        "audience": CLIENT_ID,
        "email": "alex@contoso.example",
        "name": "Alex Wilber",
    }
    return entra.issue_token(**(claims | overrides))


def token_calls(entra: EntraEmulator, tenant: str = TENANT) -> int:
    return entra.requests_served[f"POST /{tenant}/oauth2/v2.0/token"]


def obo(
    entra: EntraEmulator, http: requests.Session, oid: str, scopes: list[str] | None = None
) -> tuple[msal.ConfidentialClientApplication, dict[str, Any]]:
    app = make_app(entra, http)
    result = app.acquire_token_on_behalf_of(
        user_token(entra, oid), scopes or [f"{DATAVERSE}/.default"]
    )
    return app, result


def assert_error(result: dict[str, Any] | None, error: str, code: int) -> dict[str, Any]:
    assert result is not None and "access_token" not in result, result
    assert result["error"] == error
    assert result["error_codes"] == [code]
    assert result["error_description"].startswith(f"AADSTS{code}: ")
    return result


# -- on-behalf-of ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="v2-client-id-audience"),
        pytest.param({"audience": f"api://sidepane.example/{CLIENT_ID}"}, id="app-id-uri"),
        pytest.param({"version": "1.0", "audience": f"api://{CLIENT_ID}"}, id="v1"),
    ],
)
def test_obo_returns_a_token_for_the_resource(
    shared_entra: EntraEmulator, http: requests.Session, oid: str, overrides: dict[str, Any]
) -> None:
    before = token_calls(shared_entra)
    app = make_app(shared_entra, http)

    result = app.acquire_token_on_behalf_of(
        user_token(shared_entra, oid, **overrides), [f"{DATAVERSE}/.default"]
    )

    assert result["token_type"] == "Bearer"
    assert result["token_source"] == "identity_provider"
    assert result["expires_in"] == 3600
    assert set(result["scope"].split()) == {
        f"{DATAVERSE}/user_impersonation",
        f"{DATAVERSE}/.default",
    }
    claims = shared_entra.verify_token(result["access_token"], audience=DATAVERSE)
    assert claims["scp"] == "user_impersonation"
    assert (claims["oid"], claims["tid"], claims["azp"]) == (oid, TENANT, CLIENT_ID)
    assert claims["name"] == "Alex Wilber"
    assert claims["preferred_username"] == "alex@contoso.example"
    assert claims["exp"] - claims["iat"] == 3600
    assert result["id_token_claims"]["aud"] == CLIENT_ID
    assert result["id_token_claims"]["oid"] == oid
    assert token_calls(shared_entra) == before + 1


def test_named_permission_and_trailing_slash_resource(
    shared_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    _, result = obo(shared_entra, http, oid, [f"{DATAVERSE}//user_impersonation"])

    assert result["scope"] == f"{DATAVERSE}//user_impersonation"
    claims = shared_entra.verify_token(result["access_token"], audience=DATAVERSE)
    assert claims["scp"] == "user_impersonation"


def test_v1_resource_tokens(own_entra: EntraEmulator, http: requests.Session, oid: str) -> None:
    own_entra.resource_token_version = "1.0"

    _, result = obo(own_entra, http, oid)

    claims = own_entra.verify_token(result["access_token"], audience=DATAVERSE)
    assert (claims["ver"], claims["appid"], claims["upn"]) == (
        "1.0",
        CLIENT_ID,
        "alex@contoso.example",
    )
    assert claims["iss"] == f"{own_entra.url}/{TENANT}/"


# -- the token cache and the refresh grant --------------------------------------------------------


def test_cache_holds_the_account_and_serves_the_token(
    shared_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    app, result = obo(shared_entra, http, oid)
    before = token_calls(shared_entra)

    (account,) = app.get_accounts()
    cached = app.acquire_token_silent([f"{DATAVERSE}/.default"], account)

    assert account["home_account_id"] == f"{oid}.{TENANT}"
    assert account["username"] == "alex@contoso.example"
    assert cached is not None
    assert cached["access_token"] == result["access_token"]
    assert cached["token_source"] == "cache"
    assert token_calls(shared_entra) == before


def test_expired_token_is_refreshed_through_the_emulator(
    own_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    own_entra.access_token_lifetime = 60  # msal treats under 5 minutes as expired
    app, first = obo(own_entra, http, oid)
    (account,) = app.get_accounts()

    refreshed = app.acquire_token_silent([f"{DATAVERSE}/.default"], account)

    assert refreshed is not None
    assert refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["expires_in"] == 60
    claims = own_entra.verify_token(refreshed["access_token"], audience=DATAVERSE)
    assert (claims["oid"], claims["tid"], claims["azp"]) == (oid, TENANT, CLIENT_ID)
    assert claims["exp"] - claims["iat"] == 60
    assert token_calls(own_entra) == 2


def test_force_refresh_rotates_the_refresh_token(
    shared_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    app, first = obo(shared_entra, http, oid)
    (account,) = app.get_accounts()
    before = token_calls(shared_entra)

    refreshed = app.acquire_token_silent([f"{DATAVERSE}/.default"], account, force_refresh=True)

    assert refreshed is not None and refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != first["access_token"]
    assert token_calls(shared_entra) == before + 1
    (rt,) = list(app.token_cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN))
    assert rt["secret"] != first["refresh_token"]


def test_second_resource_comes_from_the_refresh_token(
    shared_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    app, _ = obo(shared_entra, http, oid)
    (account,) = app.get_accounts()

    other = app.acquire_token_silent([f"{OTHER_RESOURCE}/user_impersonation"], account)

    assert other is not None and other["token_source"] == "identity_provider"
    claims = shared_entra.verify_token(other["access_token"], audience=OTHER_RESOURCE)
    assert (claims["oid"], claims["scp"]) == (oid, "user_impersonation")
    # Both tokens are now cached side by side.
    again = app.acquire_token_silent([f"{DATAVERSE}/.default"], account)
    assert again is not None and again["token_source"] == "cache"


def test_revoked_refresh_token_fails_silently(
    shared_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    app, _ = obo(shared_entra, http, oid)
    (account,) = app.get_accounts()

    assert shared_entra.revoke_refresh_tokens(oid) == 1
    scopes = [f"{DATAVERSE}/.default"]

    assert app.acquire_token_silent(scopes, account, force_refresh=True) is None
    error = app.acquire_token_silent_with_error(scopes, account, force_refresh=True)
    assert_error(error, "invalid_grant", 50173)
    # A new OBO exchange issues a refresh token that works again.
    assert "access_token" in obo(shared_entra, http, oid)[1]


def test_unknown_refresh_token_and_other_clients_token(
    shared_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    _, result = obo(shared_entra, http, oid)
    other_client = str(uuid.uuid4())
    shared_entra.register_client(other_client, "other-secret")
    url = f"{shared_entra.url}/{TENANT}/oauth2/v2.0/token"
    form = {"grant_type": "refresh_token", "scope": f"{DATAVERSE}/.default offline_access"}

    with http.post(url, data=form | {"refresh_token": "1.Anope"}, auth=(CLIENT_ID, SECRET)) as r:
        assert (r.status_code, r.json()["error_codes"]) == (400, [70008])
    stolen = form | {"refresh_token": result["refresh_token"]}
    with http.post(url, data=stolen, auth=(other_client, "other-secret")) as r:
        assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
    with http.post(url, data=stolen, auth=(CLIENT_ID, SECRET)) as r:  # HTTP Basic works too
        assert r.status_code == 200
        assert r.headers["Cache-Control"].startswith("no-store")


# -- errors msal hands back as dicts --------------------------------------------------------------


def test_interaction_required_carries_the_claims_challenge(
    own_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    app, _ = obo(own_entra, http, oid)
    (account,) = app.get_accounts()
    challenge = own_entra.require_interaction(
        oid, claims={"access_token": {"acrs": {"values": ["c1"]}}}
    )

    _, refused = obo(own_entra, http, oid)
    silent = app.acquire_token_silent_with_error(
        [f"{DATAVERSE}/.default"], account, force_refresh=True
    )

    for result in (refused, silent):
        assert_error(result, "interaction_required", 50076)
        assert result is not None
        assert result["suberror"] == "basic_action"
        assert json.loads(result["claims"]) == {"access_token": {"acrs": {"values": ["c1"]}}}
        assert result["claims"] == challenge
    own_entra.require_interaction(oid, False)
    assert "access_token" in obo(own_entra, http, oid)[1]


def test_consent_required_until_the_admin_consents(
    own_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    own_entra.consent_required(TENANT)

    _, refused = obo(own_entra, http, oid)

    assert_error(refused, "invalid_grant", 65001)
    assert refused["suberror"] == "consent_required"
    assert "has not consented to use the application" in refused["error_description"]
    location = admin_consent(own_entra, http, TENANT, state="s-1")
    assert location.startswith(f"{REDIRECT_URI}?")
    assert own_entra.consented_tenants == {TENANT}
    assert "access_token" in obo(own_entra, http, oid)[1]


@pytest.mark.parametrize(
    ("app_kwargs", "error", "code"),
    [
        pytest.param({"secret": "wrong"}, "invalid_client", 7000215, id="wrong-secret"),
        pytest.param(
            {"client_id": "00000000-0000-4000-8000-00000000dead"},
            "unauthorized_client",
            700016,
            id="unknown-client",
        ),
    ],
)
def test_client_credentials_are_checked(
    shared_entra: EntraEmulator,
    http: requests.Session,
    oid: str,
    app_kwargs: dict[str, str],
    error: str,
    code: int,
) -> None:
    app = make_app(shared_entra, http, **app_kwargs)

    result = app.acquire_token_on_behalf_of(
        user_token(shared_entra, oid), [f"{DATAVERSE}/.default"]
    )

    assert_error(result, error, code)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"audience": str(uuid.uuid4())}, 50013, id="other-app"),
        pytest.param({"audience": f"api://x/{CLIENT_ID}x"}, 50013, id="audience-suffix"),
        pytest.param({"expires_in": -60}, 500133, id="expired"),
        pytest.param({"not_before": 600}, 500133, id="not-yet-valid"),
        pytest.param({"signing_key": new_rsa_key()}, 50013, id="unknown-key"),
        pytest.param({"tenant_id": OTHER_TENANT}, 50013, id="other-tenant"),
    ],
)
def test_bad_assertions_are_invalid_grants(
    shared_entra: EntraEmulator,
    http: requests.Session,
    oid: str,
    overrides: dict[str, Any],
    code: int,
) -> None:
    app = make_app(shared_entra, http)

    result = app.acquire_token_on_behalf_of(
        user_token(shared_entra, oid, **overrides), [f"{DATAVERSE}/.default"]
    )

    assert_error(result, "invalid_grant", code)


@pytest.mark.parametrize(
    ("scopes", "code"),
    [
        pytest.param([f"{DATAVERSE}/.default", f"{OTHER_RESOURCE}/.default"], 28000, id="two"),
        pytest.param(["User.Read"], 70011, id="no-resource"),
        pytest.param([f"{DATAVERSE}/.default", f"{DATAVERSE}/other"], 70011, id="default-plus"),
    ],
)
def test_scope_must_name_one_resource(
    shared_entra: EntraEmulator, http: requests.Session, oid: str, scopes: list[str], code: int
) -> None:
    _, result = obo(shared_entra, http, oid, scopes)

    assert_error(result, "invalid_scope", code)


# -- faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_raise_msal_service_error(
    own_entra: EntraEmulator, http: requests.Session, oid: str, status: int
) -> None:
    own_entra.fail_token_endpoint(status)

    with pytest.raises(msal.exceptions.MsalServiceError, match=f"HTTP Error: {status}"):
        obo(own_entra, http, oid)
    assert "access_token" in obo(own_entra, http, oid)[1]  # a fresh app: no throttle memory


def test_429_comes_back_as_a_dict_and_msal_then_throttles(
    own_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    own_entra.fail_token_endpoint(429, retry_after=7)
    app = make_app(own_entra, http)
    assertion = user_token(own_entra, oid)

    first = app.acquire_token_on_behalf_of(assertion, [f"{DATAVERSE}/.default"])
    second = app.acquire_token_on_behalf_of(assertion, [f"{DATAVERSE}/.default"])

    assert_error(first, "temporarily_unavailable", 90055)
    assert second["error"] == "temporarily_unavailable"
    assert token_calls(own_entra) == 1  # the second answer came from msal's throttle cache


def test_dropped_connection_raises(
    own_entra: EntraEmulator, http: requests.Session, oid: str
) -> None:
    own_entra.fail_token_endpoint("drop")

    with pytest.raises(requests.ConnectionError):
        obo(own_entra, http, oid)


# -- admin consent --------------------------------------------------------------------------------


def admin_consent(entra: EntraEmulator, http: requests.Session, tenant: str, **params: str) -> str:
    query = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": f"{DATAVERSE}/.default",
    } | params
    with http.get(
        f"{entra.url}/{tenant}/v2.0/adminconsent", params=query, allow_redirects=False
    ) as response:
        assert response.status_code == 302, response.text
        return str(response.headers["Location"])


def test_admin_consent_granted_redirects_with_tenant_and_state(
    own_entra: EntraEmulator, http: requests.Session
) -> None:
    location = admin_consent(own_entra, http, TENANT, state="abc 123")

    query = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{REDIRECT_URI}?")
    assert query == {
        "admin_consent": ["True"],
        "tenant": [TENANT],
        "state": ["abc 123"],
        "scope": [f"{DATAVERSE}/.default"],
    }
    assert own_entra.consented_tenants == {TENANT}


def test_admin_consent_refused_redirects_with_an_error(
    own_entra: EntraEmulator, http: requests.Session
) -> None:
    own_entra.admin_consent_decision(TENANT, "refused")
    own_entra.consent_required(TENANT)

    location = admin_consent(own_entra, http, TENANT, state="xyz")

    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["access_denied"]
    assert query["error_description"][0].startswith("AADSTS65004: User declined to consent")
    assert query["state"] == ["xyz"]
    assert own_entra.consented_tenants == frozenset()


def test_admin_consent_through_organizations_uses_the_admins_tenant(
    own_entra: EntraEmulator, http: requests.Session
) -> None:
    own_entra.admin_home_tenant = OTHER_TENANT

    location = admin_consent(own_entra, http, "organizations")

    assert parse_qs(urlsplit(location).query)["tenant"] == [OTHER_TENANT]


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"redirect_uri": "https://evil.example/cb"}, id="unregistered-redirect"),
        pytest.param({"client_id": str(uuid.uuid4())}, id="unknown-client"),
        pytest.param({"scope": ""}, id="no-scope"),
    ],
)
def test_admin_consent_never_redirects_a_bad_request(
    shared_entra: EntraEmulator, http: requests.Session, params: dict[str, str]
) -> None:
    query = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "scope": "x/.default"} | params

    with http.get(
        f"{shared_entra.url}/{TENANT}/v2.0/adminconsent", params=query, allow_redirects=False
    ) as response:
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert b"AADSTS" in response.content
