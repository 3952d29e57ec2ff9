"""What the fault test's Dataverse does when it fails: which faults write, which do not.

The acceptance test (`test_fault_injection`) relies on these: the loopback emulator's own
injected faults (``fail``, ``throttle``) answer before the handler runs, so an injected 5xx or
429 never writes; `FaultyDataverse` adds the other case, an email written and then a 5xx.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.emulators.dataverse import API, DataverseEmulator
from tests.emulators.entra import EntraEmulator
from tests.workers.faults import COMMITTED_ERROR, ERROR, THROTTLE, FaultPlan, FaultyDataverse


def post_email(emulator: DataverseEmulator, entra: EntraEmulator, message_id: str) -> Any:
    token = entra.issue_token(
        tenant_id=str(uuid.uuid4()),
        oid=str(uuid.uuid4()),
        audience=emulator.url,
        scopes=("user_impersonation",),
    )
    return requests.post(
        f"{emulator.url}{API}/emails",
        json={"subject": "Delivery dates", "messageid": message_id},
        headers={"Authorization": f"Bearer {token}", "OData-Version": "4.0"},
        verify=emulator.ca_file,
        timeout=10,
    )


def written(emulator: DataverseEmulator, message_id: str) -> int:
    return sum(1 for row in emulator.rows("emails") if row["messageid"] == message_id)


@pytest.fixture
def faulty(entra: EntraEmulator) -> Iterator[FaultyDataverse]:
    with FaultyDataverse(entra=entra, plan=FaultPlan(seed=7)) as emulator:
        yield emulator


def test_an_injected_5xx_answers_before_anything_is_written(faulty, entra):
    faulty.fail(500, method="POST", path="emails")
    answer = post_email(faulty, entra, "<injected@example.com>")
    assert answer.status_code == 500
    assert written(faulty, "<injected@example.com>") == 0
    assert post_email(faulty, entra, "<next@example.com>").status_code == 204
    assert written(faulty, "<next@example.com>") == 1


@pytest.mark.parametrize(
    ("rates", "statuses", "count", "writes"),
    [
        ({"throttle_rate": 1.0}, {429}, THROTTLE, 0),
        ({"throttle_rate": 0.0, "error_rate": 1.0}, {500, 502, 503, 504}, ERROR, 0),
        (
            {"throttle_rate": 0.0, "error_rate": 0.0, "committed_error_rate": 1.0},
            {500, 502, 503, 504},
            COMMITTED_ERROR,
            1,
        ),
    ],
    ids=["429", "5xx-before", "5xx-after-writing"],
)
def test_each_random_fault_writes_or_not_as_documented(
    faulty, entra, rates, statuses, count, writes
):
    faulty.plan = FaultPlan(seed=7, **rates)
    faulty.chaos = True
    for n in range(5):
        answer = post_email(faulty, entra, f"<fault-{n}@example.com>")
        assert answer.status_code in statuses
        if answer.status_code == 429:
            assert answer.headers["Retry-After"] in ("0", "1")
        assert written(faulty, f"<fault-{n}@example.com>") == writes
    assert faulty.injected[count] == 5


def test_the_same_seed_draws_the_same_faults(entra):
    def statuses() -> list[int]:
        plan = FaultPlan(seed=11, throttle_rate=0.3, error_rate=0.3, committed_error_rate=0.5)
        with FaultyDataverse(entra=entra, plan=plan) as emulator:
            emulator.chaos = True
            return [
                post_email(emulator, entra, f"<same-{n}@example.com>").status_code
                for n in range(12)
            ]

    first = statuses()
    assert first == statuses()
    assert len(set(first)) > 2  # some throttled, some failed, some written
