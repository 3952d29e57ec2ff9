"""CRM adapters: one interface (`CrmAdapter`), one module per CRM.

The registry below names every adapter as ``"module:Class"`` and imports it only when asked for,
so a deployment that uses Salesforce never imports the Dataverse code and vice versa.
To add a CRM: write ``crm_adapters/<name>.py`` with a `CrmAdapter` subclass, add it here, and
add it to the conformance suite's parameters in ``tests/adapters/conftest.py``.
"""

from __future__ import annotations

import difflib
import importlib

from .base import CrmAdapter
from .errors import (
    Conflict,
    ConsentRequired,
    CrmError,
    NotFound,
    NotSignedIn,
    RateLimited,
    Rejected,
    Unavailable,
)

ADAPTERS: dict[str, str] = {
    "sandbox": "crm_adapters.sandbox:SandboxAdapter",
    "dynamics": "crm_adapters.dynamics:DynamicsAdapter",
    "salesforce": "crm_adapters.salesforce:SalesforceAdapter",
}


class UnknownAdapter(LookupError):
    """No adapter is registered under that name."""


def load_adapter(name: str) -> type[CrmAdapter]:
    """Import and return the adapter class registered as ``name``."""
    try:
        target = ADAPTERS[name]
    except KeyError:
        close = difflib.get_close_matches(name, ADAPTERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(ADAPTERS))
        raise UnknownAdapter(f"No CRM adapter named {name!r} (known: {known}).{hint}") from None
    module_name, _, class_name = target.partition(":")
    adapter_class: type[CrmAdapter] = getattr(importlib.import_module(module_name), class_name)
    return adapter_class


__all__ = [
    "ADAPTERS",
    "Conflict",
    "ConsentRequired",
    "CrmAdapter",
    "CrmError",
    "NotFound",
    "NotSignedIn",
    "RateLimited",
    "Rejected",
    "Unavailable",
    "UnknownAdapter",
    "load_adapter",
]
