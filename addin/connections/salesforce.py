"""Salesforce as a directory: the org a rep signed in to, by OAuth from the pane (rule 4).

Features
--------
* Manual sign-in, always: the rep chooses the production or the sandbox login, allows Sidepane
  on Salesforce's page and comes back; `start_sign_in` and `finish_sign_in` are the two halves
  (the pane's dialog or popup runs between them, see ``addin/pane/salesforce.py``).
* The rep's tokens are sealed in the store (`TokenCacheStore`, provider ``salesforce``); the one
  environment is the org they signed in to, at the instance URL Salesforce gave.
* Adapters refresh an expired session once with the refresh token; a revoked refresh token
  forgets the tokens and sends the rep back to sign-in with a clear message.
* Signing out revokes the refresh token at Salesforce and forgets it here.
* A pending sign-in is bound to the rep who started it, used once, and expires after
  ``SIGN_IN_SECONDS``; only the SHA-256 of its state is stored, and the PKCE verifier is sealed.

Configuration
-------------
SALESFORCE_EMAIL_FIELDS  our email fields → the org's Contact fields (``{"email1": "Email"}``;
                         add e.g. ``"email2": "Email2__c"`` where the org has such fields).
plus `addin.connections.salesforce_oauth`'s keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_adapters.errors import NotSignedIn
from crm_adapters.models import Environment, EnvironmentKind
from crm_adapters.salesforce import SalesforceAdapter

from .. import store
from ..identity import Identity
from ..store.models import PendingSignIn, utcnow
from ..store.sealed import Sealer
from ..store.token_caches import TokenCacheStore
from . import SignInFailed
from .salesforce_oauth import LOGINS, SalesforceApp, SalesforceTokens, new_verifier, pkce_challenge

PROVIDER = "salesforce"
SIGN_IN_SECONDS = 600


class SalesforceDirectory:
    """The rep's Salesforce org and adapters on it."""

    crm = "salesforce"
    label = "Salesforce"
    automatic_sign_in = False

    def __init__(
        self,
        app: SalesforceApp,
        caches: TokenCacheStore,
        sealer: Sealer,
        *,
        email_fields: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.caches = caches
        self.sealer = sealer
        self.email_fields = dict(email_fields or {"email1": "Email"})

    @classmethod
    def from_app(cls, app: Flask) -> SalesforceDirectory:
        config: Mapping[str, Any] = app.config
        return cls(
            SalesforceApp.from_config(config),
            store.token_cache_store(app),
            Sealer.from_config(config),
            email_fields=config.get("SALESFORCE_EMAIL_FIELDS"),
        )

    # --- the rep's tokens ---------------------------------------------------------------------

    def tokens(self, identity: Identity) -> SalesforceTokens | None:
        saved = self.caches.load(identity.tenant_id, identity.user_oid, PROVIDER)
        return SalesforceTokens.from_json(saved) if saved else None

    def _save(self, identity_key: tuple[str, str], tokens: SalesforceTokens) -> None:
        self.caches.save(*identity_key, PROVIDER, tokens.to_json())

    # --- the Directory protocol ---------------------------------------------------------------

    def environments(self, identity: Identity) -> list[Environment]:
        tokens = self.tokens(identity)
        if tokens is None:
            return []
        host = urlsplit(tokens.instance_url).hostname or tokens.instance_url
        kind: EnvironmentKind = "sandbox" if tokens.login == "sandbox" else "production"
        return [
            Environment(
                tokens.org_id, host, kind, tokens.instance_url, self.crm, tokens.instance_url
            )
        ]

    def adapter(
        self, environment: Environment, identity: Identity | None = None
    ) -> SalesforceAdapter:
        if identity is None:
            raise ValueError("a Salesforce adapter acts for a rep: pass their identity")
        tokens = self.tokens(identity)
        if tokens is None or tokens.org_id != environment.id:
            raise NotSignedIn("Sign in to Salesforce from the pane first.")
        key = (identity.tenant_id, identity.user_oid)
        current = [tokens]

        def refresh() -> str:
            try:
                current[0] = self.app.refresh(current[0])
            except NotSignedIn:
                self.caches.forget(*key, PROVIDER)
                raise
            self._save(key, current[0])
            return current[0].access_token

        return SalesforceAdapter(
            tokens.instance_url,
            access_token=tokens.access_token,
            refresh=refresh,
            environment_id=tokens.org_id,
            email_fields=self.email_fields,
            verify=self.app.ca_file or True,
        )

    def sign_out(self, identity: Identity) -> None:
        tokens = self.tokens(identity)
        if tokens is not None:
            self.app.revoke(tokens)
        self.caches.forget(identity.tenant_id, identity.user_oid, PROVIDER)

    # --- signing in ---------------------------------------------------------------------------

    def start_sign_in(self, session: Session, identity: Identity, login: str) -> str:
        """Record a pending sign-in for the rep; return its state (for our authorize URL)."""
        if login not in LOGINS:
            raise ValueError(f"unknown Salesforce login {login!r}")
        state = secrets.token_urlsafe(32)
        verifier = new_verifier()
        session.execute(delete(PendingSignIn).where(PendingSignIn.created_at < _oldest()))
        session.add(
            PendingSignIn(
                state_hash=_hash(state),
                tenant_id=identity.tenant_id,
                user_oid=identity.user_oid,
                crm=self.crm,
                login=login,
                sealed_verifier=self.sealer.seal(verifier),
            )
        )
        session.flush()
        return state

    def authorize_url(self, session: Session, state: str) -> str:
        """Return Salesforce's login URL for a pending sign-in (the dialog is sent there)."""
        pending = self._pending(session, state)
        verifier = self.sealer.open(pending.sealed_verifier)
        if verifier is None:
            raise SignInFailed("This sign-in can no longer be finished. Start it again.")
        return self.app.authorize_url(pending.login, state, pkce_challenge(verifier))

    def finish_sign_in(self, session: Session, state: str, code: str) -> tuple[str, str]:
        """Exchange the code of a pending sign-in, keep the tokens; return (tenant, rep)."""
        pending = self._pending(session, state)
        session.delete(pending)  # used once, whatever happens next
        session.flush()
        verifier = self.sealer.open(pending.sealed_verifier)
        if verifier is None:
            raise SignInFailed("This sign-in can no longer be finished. Start it again.")
        tokens = self.app.exchange_code(pending.login, code, verifier)
        key = (pending.tenant_id, pending.user_oid)
        self._save(key, tokens)
        return key

    def cancel_sign_in(self, session: Session, state: str) -> None:
        """Forget a pending sign-in the rep declined."""
        session.execute(delete(PendingSignIn).where(PendingSignIn.state_hash == _hash(state)))

    def _pending(self, session: Session, state: str) -> PendingSignIn:
        pending = session.scalar(
            select(PendingSignIn).where(
                PendingSignIn.state_hash == _hash(state), PendingSignIn.crm == self.crm
            )
        )
        if pending is None or _aware(pending.created_at) < _oldest():
            raise SignInFailed(
                "This sign-in link has expired or was already used. Start again from the pane."
            )
        return pending


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def _oldest() -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=SIGN_IN_SECONDS)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
