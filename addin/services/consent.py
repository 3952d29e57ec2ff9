"""Admin consent (rule 19): the Provide consent link, and the identity provider's answer to it.

Sidepane needs application permissions that only a tenant administrator can grant. The admin page
links to Entra's admin-consent endpoint (``{authority}/{tenant}/v2.0/adminconsent``) with a
``state`` we made and stored; Entra sends the admin's browser back to ``/admin/consent/return``
with ``admin_consent=True&tenant=...&state=...`` or ``error=...&error_description=...``.

That return carries no bearer token (it is a plain browser navigation in a new tab), so the state
is what ties it to the admin who asked: it is random, stored, single-use, expires after
`STATE_SECONDS`, and the tenant Entra names must be the one the state was made for. A forged,
replayed, expired or cross-tenant return records nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from ..identity import Identity
from ..store.models import ConsentRequest, Tenant, utcnow
from .tenant_settings import record, tenant_row

#: How long a Provide consent link can be used (the admin may read the permissions a while).
STATE_SECONDS = 3600
#: A link newer than this is handed out again instead of a new one (page reloads, polling).
REUSE_SECONDS = 600
#: The longest provider error text kept (Entra's descriptions carry trace ids and timestamps).
DESCRIPTION_MAX = 1000

GRANTED = "granted"
REFUSED = "refused"


class InvalidReturn(ValueError):
    """The return from the consent page cannot be trusted or used; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class ConsentState:
    """What the admin page shows about consent."""

    status: str  # "", "granted" or "refused"
    error: str = ""
    error_description: str = ""
    by: str = ""
    at: dt.datetime | None = None

    @property
    def granted(self) -> bool:
        return self.status == GRANTED


def state_of(session: Session, tenant_id: str) -> ConsentState:
    """Return what is recorded about the tenant's consent."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        return ConsentState("")
    return ConsentState(
        tenant.consent,
        tenant.consent_error,
        tenant.consent_error_description,
        tenant.consent_by,
        _aware(tenant.consent_at),
    )


def consent_link(session: Session, identity: Identity, config: Mapping[str, Any]) -> str:
    """Return the admin-consent URL for the admin's tenant, with a state stored for its return."""
    now = utcnow()
    request = (
        session.query(ConsentRequest)
        .filter(
            ConsentRequest.tenant_id == identity.tenant_id,
            ConsentRequest.user_oid == identity.user_oid,
            ConsentRequest.used_at.is_(None),
            ConsentRequest.created_at > now - dt.timedelta(seconds=REUSE_SECONDS),
        )
        .order_by(ConsentRequest.created_at.desc())
        .first()
    )
    if request is None:
        request = ConsentRequest(
            state=secrets.token_urlsafe(32),
            tenant_id=identity.tenant_id,
            user_oid=identity.user_oid,
            user_name=identity.name or identity.email or identity.user_oid,
            created_at=now,
        )
        session.add(request)
        _forget_expired(session, now)
    query = urlencode(
        {
            "client_id": client_id(config),
            "scope": config["ADMIN_CONSENT_SCOPE"],
            "redirect_uri": return_url(config),
            "state": request.state,
        }
    )
    authority = str(config["ENTRA_AUTHORITY"]).rstrip("/")
    return f"{authority}/{identity.tenant_id}/v2.0/adminconsent?{query}"


def client_id(config: Mapping[str, Any]) -> str:
    """The add-in's Entra application: the app the admin consents to."""
    return str(config["API_AUDIENCE"] or "sidepane-demo")


def return_url(config: Mapping[str, Any]) -> str:
    """Where Entra sends the admin back (registered as a redirect URI of the app)."""
    return f"{config['BASE_URL']}/admin/consent/return"


def finish(session: Session, answer: Mapping[str, str]) -> tuple[str, ConsentState]:
    """Check the provider's answer and record it for the state's tenant; (tenant id, state).

    Raises `InvalidReturn` when the answer cannot be tied to a link we handed out. A refusal
    never undoes a consent granted before: Entra keeps the grant when an admin cancels a later
    attempt, so the record does too (the audit trail has the refusal).
    """
    if any("\x00" in value for value in answer.values()):
        raise InvalidReturn("malformed")  # no text we store can hold it (PostgreSQL cannot)
    state = answer.get("state", "")
    if not state or len(state) > 64:
        raise InvalidReturn("missing_state")
    request = session.get(ConsentRequest, state, with_for_update=True)
    if request is None:
        raise InvalidReturn("unknown_state")
    if request.used_at is not None:
        raise InvalidReturn("used_state")
    now = utcnow()
    created = _aware(request.created_at)
    if created is None or created < now - dt.timedelta(seconds=STATE_SECONDS):
        raise InvalidReturn("expired_state")
    tenant_named = answer.get("tenant", "")
    if tenant_named and tenant_named.lower() != request.tenant_id.lower():
        raise InvalidReturn("other_tenant")
    request.used_at = now
    tenant = tenant_row(session, request.tenant_id, lock=True)
    admin = Identity(
        tenant_id=request.tenant_id,
        user_oid=request.user_oid,
        email="",
        name=request.user_name,
        roles=frozenset(),
        scopes=frozenset(),
    )
    error = answer.get("error", "")
    if error:
        description = answer.get("error_description", "")[:DESCRIPTION_MAX]
        record(session, admin, "consent", "", tenant.consent or None, REFUSED)
        if tenant.consent != GRANTED:
            tenant.consent = REFUSED
            tenant.consent_error = error[:200]
            tenant.consent_error_description = description
            tenant.consent_by, tenant.consent_at = request.user_name, now
        return request.tenant_id, ConsentState(REFUSED, error[:200], description)
    if answer.get("admin_consent", "").lower() != "true":
        raise InvalidReturn("no_answer")
    record(session, admin, "consent", "", tenant.consent or None, GRANTED)
    tenant.consent, tenant.consent_error, tenant.consent_error_description = GRANTED, "", ""
    tenant.consent_by, tenant.consent_at = request.user_name, now
    tenant.updated_at = now
    return request.tenant_id, state_of(session, request.tenant_id)


def _forget_expired(session: Session, now: dt.datetime) -> None:
    cutoff = now - dt.timedelta(seconds=STATE_SECONDS)
    session.query(ConsentRequest).filter(ConsentRequest.created_at < cutoff).delete(
        synchronize_session=False
    )


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)
