"""Conformance: is the environment ready for Sidepane (rule 20)?

Every adapter answers its checks in the order the admin page lists them: "reachable" and
"permissions", and "server_side_sync" where the CRM needs it. The backends' CRMs start ready. A
CRM that cannot be reached raises a retryable error (the caller records the failed "reachable"
check); it never answers a check that passed.
"""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from crm_adapters import CrmError, Unavailable
from crm_adapters.models import CheckName, ReadinessCheck
from crm_adapters.sandbox import SandboxAdapter

ORDER: tuple[CheckName, ...] = typing.get_args(CheckName)
#: Round trips each adapter's readiness makes, whatever the size of the organization.
ROUND_TRIPS = {"sandbox": 1, "dynamics": 2, "salesforce": 1}


def test_every_adapter_answers_its_checks_in_order_and_all_pass(adapter):
    checks = adapter.readiness()
    wanted = ["reachable", "permissions"]
    if adapter.capabilities.needs_server_side_sync:
        wanted.append("server_side_sync")
    assert [check.name for check in checks] == wanted
    assert [check.name for check in checks] == [name for name in ORDER if name in wanted]
    assert checks == tuple(ReadinessCheck(name, True) for name in wanted)


def test_readiness_costs_a_constant_number_of_round_trips(adapter):
    before = adapter.round_trips
    adapter.readiness()
    assert adapter.round_trips - before == ROUND_TRIPS[adapter.name]
    adapter.readiness()
    assert adapter.round_trips - before == 2 * ROUND_TRIPS[adapter.name]


def test_a_crm_that_cannot_be_reached_raises_a_retryable_error(down):
    with pytest.raises(CrmError) as raised:
        down.readiness()
    assert raised.value.retryable
    assert down.round_trips >= 1


# --- the sandbox proves its file opens -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "No sandbox CRM at"),
        (b"this is no database " * 256, "is not a sandbox CRM"),
    ],
)
def test_a_sandbox_file_that_is_missing_or_not_one_is_unavailable(tmp_path: Path, content, problem):
    path = tmp_path / "sandbox.db"
    if content is not None:
        path.write_bytes(content)
    crm = SandboxAdapter(path)
    with pytest.raises(Unavailable, match=problem):
        crm.readiness()
    assert crm.round_trips == 1
    crm.close()
