"""A Dataverse emulator that fails at random, reproducibly: throttling, 5xx, and 5xx after a write.

`FaultyDataverse` is the loopback `DataverseEmulator` with a seeded fault source in front of it,
switched on by ``chaos = True``. Each request, in the order requests arrive, rolls the seeded
generator once:

* ``throttle_rate``: 429 with a ``Retry-After`` of 0 or 1 s and Dataverse's service protection
  code, before the handler runs (nothing is written), as `DataverseEmulator.throttle` answers;
* ``error_rate``: 500, 502, 503 or 504, also before the handler (nothing is written), as
  `DataverseEmulator.fail` answers (the base emulator's injected faults never write either);
* ``committed_error_rate``, for the creation of an email only (``POST emails``) that succeeded:
  the email IS written, then a 500, 502, 503 or 504 is answered instead of the 204, as a
  gateway that timed out after the server committed. The Dynamics transport never repeats a
  create on a 5xx (it could duplicate), so the job is retried and the adapter's
  existing-activity check (``messageid``) must find the email instead of creating a second one.

With the same seed, the same sequence of decisions is drawn; which request meets which decision
depends on how the workers' requests interleave. ``injected`` counts what was answered.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.emulators.dataverse import API, THROTTLED, DataverseEmulator
from tests.emulators.dataverse_batch import JSON_CONTENT_TYPE
from tests.emulators.loopback import Reply, Request

THROTTLE = "429 before the handler"
ERROR = "5xx before the handler"
COMMITTED_ERROR = "5xx after the email was written"


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """How often the emulator fails, and the seed of its decisions."""

    seed: int
    throttle_rate: float = 0.08
    error_rate: float = 0.05
    committed_error_rate: float = 0.08
    retry_after: tuple[int, ...] = (0, 1)
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    #: Any 5xx, 503 included: the transport never repeats a create on a 5xx, since a gateway
    #: may answer one after Dataverse committed.
    committed_statuses: tuple[int, ...] = (500, 502, 503, 504)


def throttled(retry_after: int) -> Reply:
    """Dataverse's service-protection answer (the body and headers of `throttle`)."""
    message = "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
    return Reply(
        429,
        {"error": {"code": THROTTLED, "message": message}},
        {"Retry-After": str(retry_after), "OData-Version": "4.0"},
        JSON_CONTENT_TYPE,
    )


def failed(status: int) -> Reply:
    """Dataverse's unexpected-error answer (the body and headers of `fail`)."""
    body = {"error": {"code": "0x80040216", "message": "An unexpected error occurred."}}
    return Reply(status, body, {"OData-Version": "4.0"}, JSON_CONTENT_TYPE)


class FaultyDataverse(DataverseEmulator):
    """The Dataverse emulator with seeded random faults while ``chaos`` is on."""

    def __init__(self, *, plan: FaultPlan, **options: Any) -> None:
        super().__init__(**options)
        self.plan = plan
        self.chaos = False
        self.injected: Counter[str] = Counter()
        self._random = random.Random(plan.seed)
        self._dice = threading.Lock()

    def _take_fault(self, request: Request) -> Reply | None:
        fault = super()._take_fault(request)
        if fault is not None or not self.chaos:
            return fault
        plan = self.plan
        with self._dice:
            roll = self._random.random()
            if roll < plan.throttle_rate:
                self.injected[THROTTLE] += 1
                return throttled(self._random.choice(plan.retry_after))
            if roll < plan.throttle_rate + plan.error_rate:
                self.injected[ERROR] += 1
                return failed(self._random.choice(plan.error_statuses))
        return None

    def route(self, request: Request) -> Reply:
        reply = super().route(request)
        if not (
            self.chaos
            and request.method == "POST"
            and request.path == f"{API}/emails"
            and 200 <= reply.status < 300
        ):
            return reply
        with self._dice:
            if self._random.random() >= self.plan.committed_error_rate:
                return reply
            self.injected[COMMITTED_ERROR] += 1
            return failed(self._random.choice(self.plan.committed_statuses))
