"""The conformance suite's backends: every registered adapter, each with the facts it guarantees.

The suite (``test_*.py`` here) is written only against `CrmAdapter` and the `Known` facts below.
Each backend contributes a factory that returns a fresh adapter on its own data and the `Known`
facts of that data; the sandbox reads them from its seed report. Dynamics and Salesforce join
through their loopback emulators, seeded from the same sandbox data.

A factory takes the test's ``request`` and asks it for the fixtures it needs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from crm_adapters import ADAPTERS, CrmAdapter
from crm_adapters.dynamics import DynamicsAdapter, RetryPolicy
from crm_adapters.salesforce import RetryPolicy as SalesforceRetryPolicy
from crm_adapters.salesforce import SalesforceAdapter
from crm_adapters.sandbox import SandboxAdapter
from tests.emulators.dataverse import DataverseEmulator
from tests.emulators.entra import EntraEmulator
from tests.emulators.salesforce import SalesforceEmulator
from tests.known import Known, sandbox_known

TENANT = "9b2f4c1e-5a6d-4e8f-a1b2-c3d4e5f60718"
REP_OID = "0c9e8f7a-6b5d-4c3e-9f1a-2b3c4d5e6f70"


def _sandbox(request: pytest.FixtureRequest) -> tuple[CrmAdapter, CrmAdapter, Known]:
    path, report = request.getfixturevalue("sandbox")
    working = SandboxAdapter(path, base_url="http://127.0.0.1:8000", environment_id="sandbox")
    broken = SandboxAdapter(path.with_name("missing.db"), base_url="http://127.0.0.1:8000")
    return working, broken, sandbox_known(report)


def dataverse_token(entra: EntraEmulator, emulator: DataverseEmulator) -> Callable[[bool], str]:
    """Return a token source as the app's msal wiring is: cached, fresh when forced."""
    issued: list[str] = []

    def token(force_refresh: bool) -> str:
        if force_refresh or not issued:
            issued[:] = [
                entra.issue_token(
                    tenant_id=TENANT,
                    oid=REP_OID,
                    audience=emulator.url,
                    scopes=("user_impersonation",),
                )
            ]
        return issued[0]

    return token


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _dynamics(request: pytest.FixtureRequest) -> tuple[CrmAdapter, CrmAdapter, Known]:
    _, report = request.getfixturevalue("sandbox")  # the emulator holds the same seeded data
    entra: EntraEmulator = request.getfixturevalue("entra")
    emulator: DataverseEmulator = request.getfixturevalue("dataverse")
    working = DynamicsAdapter(
        emulator.url,
        token=dataverse_token(entra, emulator),
        environment_id="conformance",
        verify=emulator.ca_file,
        retry=RetryPolicy(attempts=2, base_delay=0.01),
    )
    broken = DynamicsAdapter(
        f"https://127.0.0.1:{closed_port()}",
        token=lambda force_refresh: "no-server-to-ask",
        verify=emulator.ca_file,
        timeout=2,
        retry=RetryPolicy(attempts=2, base_delay=0.001),
    )
    return working, broken, sandbox_known(report)


def _salesforce(request: pytest.FixtureRequest) -> tuple[CrmAdapter, CrmAdapter, Known]:
    _, report = request.getfixturevalue("sandbox")  # the emulator holds the same seeded data
    emulator: SalesforceEmulator = request.getfixturevalue("salesforce")
    working = SalesforceAdapter(
        emulator.url,
        access_token=emulator.issue_access_token(),
        refresh=emulator.issue_access_token,
        environment_id="conformance",
        verify=emulator.ca_file,
        retry=SalesforceRetryPolicy(attempts=2, base_delay=0.01),
    )
    broken = SalesforceAdapter(
        f"https://127.0.0.1:{closed_port()}",
        access_token="no-server-to-ask",
        verify=emulator.ca_file,
        timeout=2,
        retry=SalesforceRetryPolicy(attempts=2, base_delay=0.001),
    )
    return working, broken, sandbox_known(report)


#: Registry name -> factory(the test's request) giving (adapter, adapter whose CRM is down, facts).
BACKENDS: dict[str, Callable[[pytest.FixtureRequest], tuple[CrmAdapter, CrmAdapter, Known]]] = {
    "sandbox": _sandbox,
    "dynamics": _dynamics,
    "salesforce": _salesforce,
}


@pytest.fixture(params=sorted(ADAPTERS))
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[CrmAdapter, CrmAdapter, Known]]:
    if request.param not in BACKENDS:
        pytest.fail(f"the {request.param!r} adapter is registered but has no conformance backend")
    working, broken, known = BACKENDS[request.param](request)
    yield working, broken, known
    working.close()
    broken.close()


@pytest.fixture
def adapter(backend: tuple[CrmAdapter, CrmAdapter, Known]) -> CrmAdapter:
    return backend[0]


@pytest.fixture
def down(backend: tuple[CrmAdapter, CrmAdapter, Known]) -> CrmAdapter:
    """An adapter of the same kind whose CRM cannot be reached."""
    return backend[1]


@pytest.fixture
def known(backend: tuple[CrmAdapter, CrmAdapter, Known]) -> Known:
    return backend[2]
