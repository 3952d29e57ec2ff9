"""The rep's Microsoft tokens: on-behalf-of the pane's token, then silently from the store.

Features
--------
* `EntraTokens.get(resource)` returns an access token for ``{resource}/.default`` (Dataverse,
  Global Discovery, later Graph). It asks msal's cache first (a valid token, else the refresh
  token), and only when that fails exchanges the pane's own token with the on-behalf-of grant.
* The rep's msal cache lives in the store, sealed (`addin.store.token_caches`), so a worker can
  act for the rep later with no pane open; only the refresh token's owner can use it.
* Failures become the adapters' errors, so the pane and workers handle them like any CRM's:
  ``interaction_required`` (MFA, conditional access, a revoked session) and an expired refresh
  token are `NotSignedIn`, carrying Entra's ``claims`` for the pane to ask Office with; missing
  admin consent is `ConsentRequired` (the rep cannot fix it, an administrator can); Entra down
  or throttling is `Unavailable`; a rejected client secret is `Rejected` (a misconfiguration).
* msal fetches the authority's OpenID configuration once per thread (a per-thread http cache),
  not once per request; the cache never holds anything of a rep (msal keys its 400-cache by the
  whole request).

Configuration
-------------
API_AUDIENCE          the add-in's app (client) id: the pane's tokens are for it, and it is the
                      confidential client that asks on the rep's behalf.
ENTRA_CLIENT_SECRET   that app's client secret (never logged).
ENTRA_AUTHORITY       https://login.microsoftonline.com (the Entra emulator in tests).
CA_FILE               extra CA bundle for a private authority (tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msal
import requests

from crm_adapters.errors import ConsentRequired, NotSignedIn, Rejected, Unavailable

from ..identity import Identity
from ..store.token_caches import TokenCacheStore

log = logging.getLogger(__name__)

PROVIDER = "entra"
_NEEDS_THE_REP = {"interaction_required", "login_required", "invalid_grant", "consent_required"}
_per_thread = threading.local()


class CaBundleSession(requests.Session):
    """A requests session that trusts ``ca_file`` on every request.

    Setting ``Session.verify`` is not enough: ``REQUESTS_CA_BUNDLE`` in the environment overrides
    it (a long-standing requests quirk), but a per-request ``verify`` wins.
    """

    def __init__(self, ca_file: str | None) -> None:
        super().__init__()
        self._ca_file = ca_file

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if self._ca_file and "verify" not in kwargs:
            kwargs["verify"] = self._ca_file
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True, slots=True)
class EntraClient:
    """The add-in's confidential client registration."""

    client_id: str
    client_secret: str = ""
    authority: str = "https://login.microsoftonline.com"
    ca_file: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EntraClient:
        return cls(
            client_id=config["API_AUDIENCE"],
            client_secret=config.get("ENTRA_CLIENT_SECRET") or "",
            authority=config["ENTRA_AUTHORITY"].rstrip("/"),
            ca_file=config.get("CA_FILE"),
        )

    def application(
        self, tenant_id: str, cache: msal.SerializableTokenCache
    ) -> msal.ConfidentialClientApplication:
        """Build msal's client for one tenant around one rep's cache."""
        return msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=self.client_secret,
            authority=f"{self.authority}/{tenant_id}",
            # The authority is configured, never taken from a request; skip msal's online
            # instance discovery (it cannot reach a private authority, and adds a round trip).
            instance_discovery=False,
            token_cache=cache,
            http_client=_thread_http_client(self.ca_file),
            http_cache=_thread_http_cache(),
            timeout=15,
        )


class EntraTokens:
    """One rep's Microsoft tokens for any resource, kept in the store between requests."""

    def __init__(self, client: EntraClient, caches: TokenCacheStore, identity: Identity) -> None:
        self._client = client
        self._caches = caches
        self._identity = identity

    def get(self, resource: str, *, force_refresh: bool = False) -> str:
        """Return an access token for ``resource`` (an https origin), or raise a CRM error."""
        scopes = [f"{resource.rstrip('/')}/.default"]
        identity = self._identity
        cache = msal.SerializableTokenCache()
        saved = self._caches.load(identity.tenant_id, identity.user_oid, PROVIDER)
        if saved:
            cache.deserialize(saved)
        try:
            app = self._client.application(identity.tenant_id, cache)
            result = self._silently(app, scopes, force_refresh)
            if (result is None or "access_token" not in result) and identity.assertion:
                result = app.acquire_token_on_behalf_of(identity.assertion, scopes)
        except (msal.exceptions.MsalServiceError, requests.RequestException, ValueError) as error:
            log.warning("Entra did not answer for %s: %s", resource, type(error).__name__)
            raise Unavailable(
                "Microsoft sign-in does not answer right now. Try again in a moment."
            ) from None
        finally:
            if cache.has_state_changed:
                self._caches.save(
                    identity.tenant_id, identity.user_oid, PROVIDER, cache.serialize()
                )
        return _token_or_raise(result)

    def forget(self) -> None:
        """Sign the rep out: delete their tokens from this server."""
        self._caches.forget(self._identity.tenant_id, self._identity.user_oid, PROVIDER)

    def _silently(
        self, app: msal.ConfidentialClientApplication, scopes: list[str], force_refresh: bool
    ) -> dict[str, Any] | None:
        home = f"{self._identity.user_oid}.{self._identity.tenant_id}"
        account = next((a for a in app.get_accounts() if a.get("home_account_id") == home), None)
        if account is None:
            return None
        result: dict[str, Any] | None = app.acquire_token_silent_with_error(
            scopes, account, force_refresh=force_refresh
        )
        return result


def _token_or_raise(result: Mapping[str, Any] | None) -> str:
    if result is not None and "access_token" in result:
        token: str = result["access_token"]
        return token
    if result is None:
        raise NotSignedIn("Sign in to Dynamics 365 from the pane first.")
    error = str(result.get("error", ""))
    description = str(result.get("error_description", ""))
    # Only Entra's error code goes to the log: descriptions may name the rep.
    log.info("Entra refused a token: %s %s", error, result.get("error_codes"))
    if "AADSTS65001" in description or error == "consent_required":
        raise ConsentRequired(
            "Your organisation has not allowed Sidepane to reach Dynamics 365 yet. "
            "Ask a tenant administrator to give consent on Sidepane's admin page."
        )
    if error in _NEEDS_THE_REP:
        raise NotSignedIn(
            "Microsoft needs you to sign in again before Sidepane can reach Dynamics 365.",
            claims=result.get("claims"),
        )
    if error in {"invalid_client", "unauthorized_client"}:
        raise Rejected(
            "Sidepane's registration with Microsoft Entra is not set up right "
            "(client id or secret). Tell your administrator."
        )
    if error in {"temporarily_unavailable", "server_error"} or "Retry-After" in description:
        raise Unavailable("Microsoft sign-in is busy. Try again in a moment.")
    raise NotSignedIn("Microsoft did not let Sidepane sign you in. Sign in again from the pane.")


def _thread_http_client(ca_file: str | None) -> CaBundleSession:
    sessions: dict[str | None, CaBundleSession] = _per_thread.__dict__.setdefault("sessions", {})
    if ca_file not in sessions:
        sessions[ca_file] = CaBundleSession(ca_file)
    return sessions[ca_file]


def _thread_http_cache() -> dict[str, Any]:
    cache: dict[str, Any] = _per_thread.__dict__.setdefault("http_cache", {})
    return cache
