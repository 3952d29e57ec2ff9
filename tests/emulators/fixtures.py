"""Session-scoped pytest fixtures that start the loopback emulators once per test run.

Import the fixtures into ``tests/conftest.py``::

    from tests.emulators.fixtures import entra  # noqa: F401

A test that injects a fault into a shared emulator (``entra.fail_jwks(True)``) must undo it, or
start its own ``EntraEmulator()`` in a ``with`` block instead.

``dataverse`` (the Dataverse emulator, reset before each test) needs ``seeded_sandbox`` from
``tests/conftest.py``; a test module imports ``dataverse`` and ``dataverse_server`` from here.

``graph`` (the Microsoft Graph emulator, emptied before each test) checks tokens with ``entra``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .dataverse import DataverseEmulator
from .discovery import GlobalDiscoveryEmulator
from .entra import EntraEmulator
from .graph import GraphEmulator
from .salesforce import SalesforceEmulator


@pytest.fixture(scope="session")
def entra() -> Iterator[EntraEmulator]:
    """Run one Entra emulator for the whole session."""
    with EntraEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def discovery(entra: EntraEmulator) -> Iterator[GlobalDiscoveryEmulator]:
    """Run one Global Discovery emulator, checking tokens with the session's Entra emulator.

    Tests add instances under tenant ids of their own, or call ``remove_instances()`` after.
    """
    with GlobalDiscoveryEmulator(entra=entra) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def dataverse_server(
    entra: EntraEmulator, seeded_sandbox: tuple[Path, Any]
) -> Iterator[DataverseEmulator]:
    """Run one Dataverse emulator holding the session's seeded sandbox, checking Entra tokens.

    Use ``dataverse`` in tests: it resets the records (and faults, latency, counts) first.
    """
    with DataverseEmulator.from_sandbox(str(seeded_sandbox[0]), entra=entra) as emulator:
        yield emulator


@pytest.fixture
def dataverse(dataverse_server: DataverseEmulator) -> DataverseEmulator:
    """Return the session's Dataverse emulator, reset to the freshly loaded sandbox."""
    dataverse_server.reset()
    return dataverse_server


@pytest.fixture(scope="session")
def salesforce_server(seeded_sandbox: tuple[Path, Any]) -> Iterator[SalesforceEmulator]:
    """Run one Salesforce emulator (org and login host) holding the session's seeded sandbox.

    Use ``salesforce`` in tests: it resets the records (and tokens, faults, latency, counts).
    """
    with SalesforceEmulator.from_sandbox(str(seeded_sandbox[0])) as emulator:
        yield emulator


@pytest.fixture
def salesforce(salesforce_server: SalesforceEmulator) -> SalesforceEmulator:
    """Return the session's Salesforce emulator, reset to the freshly loaded sandbox."""
    salesforce_server.reset()
    return salesforce_server


@pytest.fixture(scope="session")
def graph_server(entra: EntraEmulator) -> Iterator[GraphEmulator]:
    """Run one Microsoft Graph emulator for the session, checking tokens with Entra's.

    Use ``graph`` in tests: it empties the mailboxes (and faults, latency, counts) first.
    """
    with GraphEmulator(entra=entra) as emulator:
        yield emulator


@pytest.fixture
def graph(graph_server: GraphEmulator) -> GraphEmulator:
    """Return the session's Graph emulator with empty mailboxes, no faults and no counts."""
    graph_server.reset()
    return graph_server
