"""``/api/me``: the caller as the API sees them."""

from __future__ import annotations

from typing import Any

from ..auth import current_identity
from . import api


@api.get("/me")
def me() -> Any:
    """Return the caller's identity."""
    identity = current_identity()
    return {
        "tenant_id": identity.tenant_id,
        "user_oid": identity.user_oid,
        "email": identity.email,
        "name": identity.name,
        "is_admin": identity.is_admin,
    }
