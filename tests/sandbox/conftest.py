"""Fixtures of the sandbox's own tests: the suite-wide seeded file, an adapter on it, tiny seeds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_adapters.sandbox import SandboxAdapter, SeedReport


@pytest.fixture
def report(sandbox: tuple[Path, SeedReport]) -> SeedReport:
    """What the seed of this test's private sandbox copy guarantees."""
    return sandbox[1]


@pytest.fixture
def crm(sandbox: tuple[Path, SeedReport]) -> Iterator[SandboxAdapter]:
    """An adapter on this test's private copy of the seeded sandbox."""
    adapter = SandboxAdapter(sandbox[0], base_url="http://crm.test", environment_id="env-1")
    yield adapter
    adapter.close()
