"""Fixtures of the Salesforce adapter tests: an adapter on the emulator, built per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from crm_adapters.salesforce import RetryPolicy, SalesforceAdapter
from tests.emulators.salesforce import SalesforceEmulator
from tests.sleeps import Sleeps


@pytest.fixture
def make(
    salesforce: SalesforceEmulator, sleeps: Sleeps
) -> Iterator[Callable[..., SalesforceAdapter]]:
    made: list[SalesforceAdapter] = []

    def build(refresh: Callable[[], str] | None = None, **policy: float) -> SalesforceAdapter:
        retry = RetryPolicy(**{"attempts": 3, "base_delay": 0.01, "sleep": sleeps, **policy})
        adapter = SalesforceAdapter(
            salesforce.url,
            access_token=salesforce.issue_access_token(),
            refresh=refresh,
            verify=salesforce.ca_file,
            timeout=5,
            retry=retry,
        )
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()
