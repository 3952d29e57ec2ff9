"""Shared by the mailbox tests: a rep, their Graph tokens, and a sleep that only records."""

from __future__ import annotations

import pytest

from tests.emulators.entra import EntraEmulator
from tests.emulators.graph import GraphEmulator

TENANT = "9b2f4c1e-5a6d-4e8f-a1b2-c3d4e5f60718"
REP_OID = "5d0f3a4e-1b2c-4d3e-8f4a-5b6c7d8e9f01"
REP_UPN = "alex@contoso.example"
OTHER_OID = "7e1a2b3c-4d5e-4f60-8a1b-2c3d4e5f6a7b"


class Tokens:
    """The rep's Graph token source: records ``force_refresh``; can start from a given token."""

    def __init__(self, entra: EntraEmulator, audience: str, first: str | None = None) -> None:
        self.entra, self.audience = entra, audience
        self.calls: list[bool] = []
        self.current = first

    def fresh(self, **options: object) -> str:
        return self.entra.issue_token(
            tenant_id=TENANT,
            oid=REP_OID,
            audience=self.audience,
            scopes=("Mail.Read", "Calendars.Read"),
            email=REP_UPN,
            **options,
        )

    def __call__(self, force_refresh: bool) -> str:
        self.calls.append(force_refresh)
        if force_refresh or self.current is None:
            self.current = self.fresh()
        return self.current


@pytest.fixture
def tokens(entra: EntraEmulator, graph: GraphEmulator) -> Tokens:
    return Tokens(entra, graph.url)
