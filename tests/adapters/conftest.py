"""The conformance suite's backends: every registered adapter, each with the facts it guarantees.

The suite (``test_*.py`` here) is written only against `CrmAdapter` and the `Known` facts below.
Each backend contributes a factory that returns a fresh adapter on its own data and the `Known`
facts of that data; the sandbox reads them from its seed report. Dynamics and Salesforce join
through their loopback emulators, seeded from the same sandbox data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crm_adapters import ADAPTERS, CrmAdapter
from crm_adapters.sandbox import SandboxAdapter, SeedReport
from tests.known import Known, sandbox_known


def _sandbox(sandbox: tuple[Path, SeedReport]) -> tuple[CrmAdapter, CrmAdapter, Known]:
    path, report = sandbox
    working = SandboxAdapter(path, base_url="http://127.0.0.1:8000", environment_id="sandbox")
    broken = SandboxAdapter(path.with_name("missing.db"), base_url="http://127.0.0.1:8000")
    return working, broken, sandbox_known(report)


#: Registry name -> factory(fixture values) giving (adapter, adapter whose CRM is down, facts).
BACKENDS: dict[str, Callable[..., tuple[CrmAdapter, CrmAdapter, Known]]] = {"sandbox": _sandbox}


@pytest.fixture(params=sorted(ADAPTERS))
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[CrmAdapter, CrmAdapter, Known]]:
    if request.param not in BACKENDS:
        pytest.fail(f"the {request.param!r} adapter is registered but has no conformance backend")
    working, broken, known = BACKENDS[request.param](request.getfixturevalue("sandbox"))
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
