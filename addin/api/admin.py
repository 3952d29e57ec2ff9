"""``/api/admin/...``: the organisation's settings, their audit trail and its status (rules 19-21).

Only an admin (the ``Sidepane.Admin`` app role in the token) may call these; anyone else gets
403 ``admin_only``. Every call works on the caller's own tenant.

``PATCH /api/admin/settings`` takes ``{"settings": {...some fields...}, "version": n}``: the
fields given are checked together by `tenant_settings.update` and saved all or none; a refused
value answers 422 ``invalid_setting`` naming the ``field``, and a ``version`` that another admin's
change has passed answers 409 ``stale_settings`` with the current ``version``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from .. import store
from ..auth import current_identity
from ..errors import ApiError
from ..identity import Identity
from ..services import consent, provisioning, tenant_settings
from ..services.tenant_settings import InvalidSetting, Settings, StaleSettings
from . import api, render
from .schemas import AUDIT_DEFAULT, AUDIT_MAX
from .validation import validated_body


def _admin() -> Identity:
    """The caller, who must be an admin of their organisation."""
    identity = current_identity()
    if not identity.is_admin:
        raise ApiError(
            403, "admin_only", "Only an admin of your organisation can see or change this."
        )
    return identity


def _settings_json(settings: Settings) -> dict[str, Any]:
    values = settings.as_json()
    version = values.pop("version")
    return {"settings": values, "version": version}


@api.get("/admin/settings")
def get_settings() -> Any:
    """Return the organisation's settings and their version."""
    identity = _admin()
    found = tenant_settings.current(store.session(), identity.tenant_id, current_app.config)
    return _settings_json(found)


@api.patch("/admin/settings")
def update_settings() -> Any:
    """Change some settings: all checked, then all saved with an audit line each, or none."""
    identity = _admin()
    body = validated_body("SettingsUpdate")
    session = store.session()
    try:
        saved = tenant_settings.update(
            session,
            identity,
            body["settings"],
            current_app.config,
            version=body.get("version"),
        )
    except InvalidSetting as error:
        session.rollback()
        raise ApiError(422, "invalid_setting", str(error), extra={"field": error.field}) from None
    except StaleSettings as error:
        session.rollback()
        raise ApiError(
            409,
            "stale_settings",
            "Another admin changed the settings since you read them. Read them again, then "
            "make your change.",
            extra={"version": error.current_version},
        ) from None
    session.commit()
    return _settings_json(saved)


@api.get("/admin/audit")
def audit() -> Any:
    """Return the latest lines of the organisation's audit trail, newest first."""
    identity = _admin()
    limit = _limit(request.args.get("limit"))
    rows = tenant_settings.audit_trail(store.session(), identity.tenant_id, limit)
    return {"audit": [render.audit_line(row) for row in rows]}


@api.get("/admin/status")
def status() -> Any:
    """Return consent, whether the CRM features are on, and the latest provisioning run."""
    identity = _admin()
    session = store.session()
    return provisioning.as_json(
        provisioning.status(session, identity.tenant_id),
        consent.state_of(session, identity.tenant_id),
    )


def _limit(raw: str | None) -> int:
    if raw is None:
        return AUDIT_DEFAULT
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= AUDIT_MAX:
        raise ApiError(
            422,
            "invalid_request",
            f"limit: give a whole number from 1 to {AUDIT_MAX}.",
        )
    return int(raw)
