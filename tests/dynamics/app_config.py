"""The app configured for Dynamics 365 against the loopback emulators (API and browser tests)."""

from __future__ import annotations

from typing import Any

from tests.conftest import API_AUDIENCE
from tests.emulators.discovery import GlobalDiscoveryEmulator
from tests.emulators.entra import EntraEmulator

#: The add-in app's client secret, registered with the Entra emulator by `register_sidepane`.
CLIENT_SECRET = "sidepane-test-secret"


def register_sidepane(entra: EntraEmulator) -> None:
    """Register the add-in's app with Entra as the confidential client of the OBO exchange."""
    entra.register_client(API_AUDIENCE, CLIENT_SECRET)


def dynamics_config(
    entra: EntraEmulator, discovery: GlobalDiscoveryEmulator, database_url: str
) -> dict[str, Any]:
    """Return the production-like configuration: Entra tokens, Dynamics only, no demo identity."""
    assert discovery.ca_file == entra.ca_file, "the emulators share one test CA"
    return {
        "SECRET_KEY": "test-secret",
        "API_AUDIENCE": API_AUDIENCE,
        "ENTRA_AUTHORITY": entra.url,
        "ENTRA_CLIENT_SECRET": CLIENT_SECRET,
        "CA_FILE": entra.ca_file,
        "DATABASE_URL": database_url,
        "CRMS": ["dynamics"],
        "DYNAMICS_DISCOVERY_URL": discovery.url,
        "INTERNAL_DOMAINS": ["contoso.example"],
        "BROKER_URL": "memory://",
    }
