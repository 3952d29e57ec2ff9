"""discover_environments against the loopback Global Discovery emulator, with Entra tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from crm_adapters.dynamics.discovery import (
    GLOBAL_DISCOVERY_URL,
    discover_environments,
    discovery_scope,
    environment_kind,
)
from crm_adapters.errors import NotSignedIn, RateLimited, Rejected, Unavailable
from crm_adapters.models import Environment
from tests.emulators.discovery import INSTANCES_PATH, GlobalDiscoveryEmulator
from tests.emulators.entra import EntraEmulator
from tests.emulators.loopback import Reply

TENANT = "7c6b5a49-3827-4165-9d4c-3b2a1f0e9d8c"
OTHER_TENANT = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
OID = "4e3d2c1b-0a9f-4e8d-b7c6-5a4f3e2d1c0b"
OTHER_OID = "9f8e7d6c-5b4a-4392-a1f0-e9d8c7b6a5f4"
LISTED = f"GET {INSTANCES_PATH}"


@pytest.fixture
def disco(discovery: GlobalDiscoveryEmulator) -> Iterator[GlobalDiscoveryEmulator]:
    """The session's emulator, emptied of instances and faults after each test."""
    yield discovery
    discovery.remove_instances()
    discovery.clear_faults()


def token(entra: EntraEmulator, disco: GlobalDiscoveryEmulator, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "tenant_id": TENANT,
        "oid": OID,
        "audience": disco.url,
        "scopes": ("user_impersonation",),
    }
    return entra.issue_token(**(claims | overrides))


def discover(disco: GlobalDiscoveryEmulator, access_token: str) -> list[Environment]:
    return discover_environments(access_token, base_url=disco.url, verify=disco.ca_file)


def add(disco: GlobalDiscoveryEmulator, name: str, **kwargs: Any) -> dict[str, Any]:
    host = name.lower().replace(" ", "-")
    kwargs.setdefault("tenant_id", TENANT)
    return disco.add_instance(
        name, f"https://{host}.crm.dynamics.com/", f"https://{host}.api.crm.dynamics.com", **kwargs
    )


def test_instances_become_environments_sorted_by_name(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator
) -> None:
    contoso = add(disco, "Contoso", organization_type=0)
    uat = add(disco, "contoso UAT", organization_type=5)
    berlin = add(disco, "Berlin", organization_type=4)
    trial = add(disco, "Demo", organization_type="6")
    named = add(disco, "Amsterdam", organization_type="Secondary")

    environments = discover(disco, token(entra, disco))

    assert environments == [
        Environment(
            id=named["Id"],
            name="Amsterdam",
            kind="production",
            url="https://amsterdam.crm.dynamics.com",
            crm="dynamics",
            api_url="https://amsterdam.api.crm.dynamics.com",
        ),
        Environment(
            berlin["Id"],
            "Berlin",
            "production",
            "https://berlin.crm.dynamics.com",
            "dynamics",
            "https://berlin.api.crm.dynamics.com",
        ),
        Environment(
            contoso["Id"],
            "Contoso",
            "production",
            "https://contoso.crm.dynamics.com",
            "dynamics",
            "https://contoso.api.crm.dynamics.com",
        ),
        Environment(
            uat["Id"],
            "contoso UAT",
            "sandbox",
            "https://contoso-uat.crm.dynamics.com",
            "dynamics",
            "https://contoso-uat.api.crm.dynamics.com",
        ),
        Environment(
            trial["Id"],
            "Demo",
            "sandbox",
            "https://demo.crm.dynamics.com",
            "dynamics",
            "https://demo.api.crm.dynamics.com",
        ),
    ]
    assert disco.requests_served[LISTED] >= 1


def test_users_see_only_instances_they_are_enabled_in(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator
) -> None:
    add(disco, "Everyone")
    add(disco, "Mine", users={OID})
    add(disco, "Theirs", users={OTHER_OID})

    mine = discover(disco, token(entra, disco))
    theirs = discover(disco, token(entra, disco, oid=OTHER_OID))

    assert [env.name for env in mine] == ["Everyone", "Mine"]
    assert [env.name for env in theirs] == ["Everyone", "Theirs"]


def test_tenants_are_isolated(entra: EntraEmulator, disco: GlobalDiscoveryEmulator) -> None:
    add(disco, "Contoso")
    add(disco, "Fabrikam", tenant_id=OTHER_TENANT)

    assert [env.name for env in discover(disco, token(entra, disco))] == ["Contoso"]
    other = discover(disco, token(entra, disco, tenant_id=OTHER_TENANT))
    assert [env.name for env in other] == ["Fabrikam"]


def test_disabled_and_non_https_instances_are_skipped(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator
) -> None:
    add(disco, "Enabled")
    add(disco, "Disabled", state=1)
    disco.add_instance(
        "Plain", "http://plain.crm.dynamics.com/", "https://plain.api.crm.dynamics.com"
    )
    disco.add_instance("Plain API", "https://p.crm.dynamics.com/", "http://p.api.crm.dynamics.com")
    disco.add_instance("No API", "https://n.crm.dynamics.com/", "")
    disco.add_instance("Ftp", "ftp://f.crm.dynamics.com/", "https://f.api.crm.dynamics.com")

    names = [env.name for env in discover(disco, token(entra, disco))]

    assert names == ["Enabled"]


def test_no_instances_is_an_empty_list(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator
) -> None:
    assert discover(disco, token(entra, disco)) == []


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda entra, disco: "", id="no-token"),
        pytest.param(lambda entra, disco: "not-a-jwt", id="garbage"),
        pytest.param(lambda entra, disco: token(entra, disco, audience="api://x"), id="audience"),
        pytest.param(lambda entra, disco: token(entra, disco, expires_in=-60), id="expired"),
    ],
)
def test_refused_token_means_sign_in_again(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator, make_token: Any
) -> None:
    add(disco, "Contoso")

    with pytest.raises(NotSignedIn):
        discover(disco, make_token(entra, disco))


def test_429_is_rate_limited_without_a_retry(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator
) -> None:
    disco.fail_next(429, retry_after=7)
    before = disco.requests_served[LISTED]

    with pytest.raises(RateLimited) as caught:
        discover(disco, token(entra, disco))

    assert caught.value.retry_after == 7
    assert disco.requests_served[LISTED] == before + 1


def test_one_server_error_is_retried(entra: EntraEmulator, disco: GlobalDiscoveryEmulator) -> None:
    add(disco, "Contoso")
    disco.fail_next(503)
    before = disco.requests_served[LISTED]

    assert [env.name for env in discover(disco, token(entra, disco))] == ["Contoso"]
    assert disco.requests_served[LISTED] == before + 2


@pytest.mark.parametrize("fault", ["500", "503", "drop"])
def test_persistent_failure_is_unavailable(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator, fault: str
) -> None:
    if fault == "drop":
        disco.drop_next(times=2)
    else:
        disco.fail_next(int(fault), times=2)

    with pytest.raises(Unavailable):
        discover(disco, token(entra, disco))


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply(200, b"<html>Sign in to the Wi-Fi</html>"), id="html"),
        pytest.param(Reply(200, {"values": []}), id="no-value"),
        pytest.param(Reply(200, [1, 2]), id="not-an-object"),
    ],
)
def test_malformed_answer_is_unavailable(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator, reply: Reply
) -> None:
    disco.inject(reply, path=INSTANCES_PATH)

    with pytest.raises(Unavailable):
        discover(disco, token(entra, disco))


def test_other_client_errors_are_rejected(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator
) -> None:
    disco.inject(Reply(400, {"error": {"code": "0x0", "message": "Bad"}}), path=INSTANCES_PATH)

    with pytest.raises(Rejected):
        discover(disco, token(entra, disco))


def test_untrusted_certificate_is_unavailable(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator
) -> None:
    with pytest.raises(Unavailable):
        discover_environments(token(entra, disco), base_url=disco.url, verify=True)


def test_caller_session_is_used_and_left_open(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator
) -> None:
    add(disco, "Contoso")
    with requests.Session() as session:
        first = discover_environments(
            token(entra, disco), base_url=disco.url, verify=disco.ca_file, session=session
        )
        second = discover_environments(
            token(entra, disco), base_url=disco.url, verify=disco.ca_file, session=session
        )

    assert first == second and len(first) == 1


def test_plain_http_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="https"):
        discover_environments("token", base_url="http://127.0.0.1:1")


def test_discovery_scope() -> None:
    assert discovery_scope(GLOBAL_DISCOVERY_URL) == "https://globaldisco.crm.dynamics.com/.default"
    assert discovery_scope("https://127.0.0.1:8443/") == "https://127.0.0.1:8443/.default"


@pytest.mark.parametrize(
    ("organization_type", "kind"),
    [
        (0, "production"),
        (4, "production"),
        (12, "production"),
        (15, "production"),
        (5, "sandbox"),
        (6, "sandbox"),
        (13, "sandbox"),
        (14, "sandbox"),
        (99, "sandbox"),
        ("0", "production"),
        (" 4 ", "production"),
        ("Customer", "production"),
        ("customertest", "sandbox"),
        ("5", "sandbox"),
        (None, "sandbox"),
        (True, "sandbox"),
    ],
)
def test_environment_kind(organization_type: object, kind: str) -> None:
    assert environment_kind(organization_type) == kind


# -- the emulator's own OData surface -------------------------------------------------------------


@pytest.fixture
def http(disco: GlobalDiscoveryEmulator) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(
    http: requests.Session, disco: GlobalDiscoveryEmulator, path: str, bearer: str, **params: str
) -> requests.Response:
    return http.get(
        f"{disco.url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {bearer}"} if bearer else {},
        verify=disco.ca_file,
    )


def test_emulator_select_and_keys(
    entra: EntraEmulator, disco: GlobalDiscoveryEmulator, http: requests.Session
) -> None:
    instance = add(disco, "Contoso", unique_name="contoso1")
    bearer = token(entra, disco)

    with get(http, disco, INSTANCES_PATH, bearer, **{"$select": "Id,Url"}) as response:
        body = response.json()
    assert body["@odata.context"] == f"{disco.url}/api/discovery/v2.0/$metadata#Instances"
    assert body["value"] == [{"Id": instance["Id"], "Url": instance["Url"]}]

    for key in (instance["Id"], "UniqueName='contoso1'"):
        with get(http, disco, f"{INSTANCES_PATH}({key})", bearer) as response:
            assert response.status_code == 200
            assert response.json()["FriendlyName"] == "Contoso"
            assert response.json()["OrganizationType"] == 0
    with get(http, disco, f"{INSTANCES_PATH}({uuid.uuid4()})", bearer) as response:
        assert response.status_code == 404
    with get(http, disco, INSTANCES_PATH, bearer, **{"$select": "Nope"}) as response:
        assert response.status_code == 400


def test_emulator_challenges_without_a_token(
    disco: GlobalDiscoveryEmulator, http: requests.Session
) -> None:
    with get(http, disco, INSTANCES_PATH, "") as response:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")
        assert f'resource_id="{disco.url}"' in response.headers["WWW-Authenticate"]
