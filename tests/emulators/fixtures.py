"""Session-scoped pytest fixtures that start the loopback emulators once per test run.

Import the fixtures into ``tests/conftest.py``::

    from tests.emulators.fixtures import entra  # noqa: F401

A test that injects a fault into a shared emulator (``entra.fail_jwks(True)``) must undo it, or
start its own ``EntraEmulator()`` in a ``with`` block instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .entra import EntraEmulator


@pytest.fixture(scope="session")
def entra() -> Iterator[EntraEmulator]:
    """Run one Entra emulator for the whole session."""
    with EntraEmulator() as emulator:
        yield emulator
