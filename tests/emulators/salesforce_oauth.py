"""Salesforce's OAuth 2.0 web-server flow with PKCE, its tokens and its identity service.

Endpoints (under the login host, which the emulator also is)
-------------------------------------------------------------
GET  /services/oauth2/authorize   the login and consent page: a form with the username filled
                                  in and the buttons ``Allow`` and ``Deny``
                                  (``<button name="decision" value="allow">``). An unknown
                                  ``client_id`` or an unregistered ``redirect_uri`` is an error
                                  on the page (never a redirect); a wrong ``response_type`` or
                                  ``code_challenge_method`` redirects with the error.
POST /services/oauth2/authorize   the form: Allow → ``302 {redirect_uri}?code=...&state=...``;
                                  Deny → ``error=access_denied&error_description=end-user
                                  denied authorization&state=...``
POST /services/oauth2/token       ``authorization_code`` (the code is single-use and lives
                                  ``code_lifetime`` seconds; PKCE S256 checked; the
                                  ``redirect_uri`` must be the authorize one) and
                                  ``refresh_token`` (a new access token, no new refresh token)
POST /services/oauth2/revoke      ``token=``: a refresh token (with its access tokens) or one
                                  access token
GET  /id/<org>/<user>             the identity of the bearer token's user

Token answers carry ``access_token``, ``refresh_token`` (when the scope has ``refresh_token``,
``offline_access`` or ``full``), ``instance_url``, ``id``, ``token_type``, ``issued_at`` (ms),
``signature`` (HMAC-SHA256 of ``id`` + ``issued_at`` with the client secret) and ``scope``.
Errors are ``{"error", "error_description"}`` with Salesforce's words (``invalid_grant`` /
``expired access/refresh token``, ``invalid_client_id`` / ``client identifier invalid``...).

`Sessions` holds the tokens; the emulator checks REST calls with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from .loopback import Reply, Request

REFRESH_SCOPES = frozenset({"refresh_token", "offline_access", "full"})


@dataclass(frozen=True, slots=True)
class ConnectedApp:
    """A connected app: its consumer key and secret and where it may redirect to."""

    client_id: str
    secret: str
    redirect_uris: tuple[str, ...]
    name: str = "Sidepane"


@dataclass(slots=True)
class _Access:
    user_id: str
    refresh_token: str | None
    expires_at: float


@dataclass(slots=True)
class _Grant:
    client_id: str
    user_id: str
    scope: str


@dataclass(slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    user_id: str
    scope: str
    challenge: str | None
    expires_at: float


@dataclass(slots=True)
class _Pending:
    """An authorize request waiting for the user's decision on the page."""

    app: ConnectedApp
    redirect_uri: str
    state: str | None
    scope: str
    challenge: str | None


class OAuthError(Exception):
    """A refusal of the token endpoint: ``{"error", "error_description"}``, HTTP 400."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def reply(self) -> Reply:
        return Reply(self.status, {"error": self.error, "error_description": self.description})


def _expired_token() -> OAuthError:
    return OAuthError("invalid_grant", "expired access/refresh token")


class Sessions:
    """Access and refresh tokens of one org: issued, checked, expired and revoked."""

    def __init__(self, organization_id: str, access_lifetime: float) -> None:
        self.organization_id = organization_id
        self.access_lifetime = access_lifetime
        self._lock = threading.Lock()
        self._access: dict[str, _Access] = {}
        self._grants: dict[str, _Grant] = {}

    def issue(self, user_id: str, refresh_token: str | None = None) -> str:
        """Return a new access token for ``user_id`` (of a refresh token's grant, if given)."""
        token = f"{self.organization_id[:15]}!{secrets.token_urlsafe(48)}"
        with self._lock:
            self._access[token] = _Access(
                user_id, refresh_token, time.monotonic() + self.access_lifetime
            )
        return token

    def user_of(self, token: str) -> str | None:
        """Return the user of a valid access token, None if unknown, revoked or expired."""
        with self._lock:
            access = self._access.get(token)
            if access is None or access.expires_at <= time.monotonic():
                return None
            return access.user_id

    def grant(self, client_id: str, user_id: str, scope: str) -> tuple[str, str | None]:
        """Return a new access token and, when the scope allows, a new refresh token."""
        refresh = None
        if REFRESH_SCOPES & set(scope.split()) or not scope:
            refresh = f"5Aep861{secrets.token_urlsafe(60)}"
            with self._lock:
                self._grants[refresh] = _Grant(client_id, user_id, scope)
        return self.issue(user_id, refresh), refresh

    def refresh(self, refresh_token: str, client_id: str) -> tuple[str, _Grant]:
        """Return a new access token of a live refresh token, or raise ``invalid_grant``."""
        with self._lock:
            grant = self._grants.get(refresh_token)
        if grant is None or grant.client_id != client_id:
            raise _expired_token()
        return self.issue(grant.user_id, refresh_token), grant

    def expire_all(self) -> int:
        """Make every current access token invalid (refresh tokens still work)."""
        with self._lock:
            count = len(self._access)
            self._access.clear()
        return count

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token and its access tokens, or one access token."""
        with self._lock:
            if self._grants.pop(token, None) is not None:
                self._access = {
                    key: access
                    for key, access in self._access.items()
                    if access.refresh_token != token
                }
                return True
            return self._access.pop(token, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._access.clear()
            self._grants.clear()


class Org(Protocol):
    """What the login service needs to know of the org it signs users in to."""

    @property
    def url(self) -> str: ...

    organization_id: str
    org_name: str
    kind: str
    default_user_id: str

    def user(self, user_id: str) -> Mapping[str, Any] | None: ...
    def user_by_username(self, username: str) -> Mapping[str, Any] | None: ...


@dataclass
class Login:
    """The org's login host: connected apps, the authorize page, codes, tokens, identity."""

    org: Org
    sessions: Sessions
    code_lifetime: float = 900.0
    apps: dict[str, ConnectedApp] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, app: ConnectedApp) -> None:
        with self._lock:
            self.apps[app.client_id] = app

    def clear(self) -> None:
        """Forget codes and pending authorizations (connected apps stay)."""
        with self._lock:
            self._codes.clear()
            self._pending.clear()

    # -- authorize ----------------------------------------------------------------------------

    def authorize_page(self, request: Request) -> Reply:
        query = {name: values[-1] for name, values in request.query.items()}
        with self._lock:
            app = self.apps.get(query.get("client_id", ""))
        if app is None:
            return self._error_page("invalid_client_id", "client identifier invalid")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in app.redirect_uris:
            return self._error_page(
                "redirect_uri_mismatch", "redirect_uri must match configuration"
            )
        state = query.get("state")
        if query.get("response_type") != "code":
            return _redirect(
                redirect_uri,
                {
                    "error": "unsupported_response_type",
                    "error_description": "response type not supported",
                },
                state,
            )
        challenge = query.get("code_challenge") or None
        if challenge and query.get("code_challenge_method", "S256") != "S256":
            return _redirect(
                redirect_uri,
                {"error": "invalid_request", "error_description": "invalid code_challenge_method"},
                state,
            )
        pending = _Pending(app, redirect_uri, state, query.get("scope", ""), challenge)
        request_id = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[request_id] = pending
        return self._login_page(request_id, pending)

    def authorize_decision(self, request: Request) -> Reply:
        form = request.form()
        with self._lock:
            pending = self._pending.get(form.get("request_id", ""))
        if pending is None:
            return self._error_page("invalid_request", "the authorization request has expired")
        if form.get("decision") != "allow":
            with self._lock:
                self._pending.pop(form["request_id"], None)
            return _redirect(
                pending.redirect_uri,
                {"error": "access_denied", "error_description": "end-user denied authorization"},
                pending.state,
            )
        user = self.org.user_by_username(form.get("username", ""))
        if user is None or not user.get("IsActive", True):
            return self._login_page(
                form["request_id"],
                pending,
                "Please check your username and password. If you still can't log in, contact"
                " your Salesforce administrator.",
                form.get("username", ""),
            )
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._pending.pop(form["request_id"], None)
            self._codes[code] = _Code(
                pending.app.client_id,
                pending.redirect_uri,
                str(user["Id"]),
                pending.scope,
                pending.challenge,
                time.monotonic() + self.code_lifetime,
            )
        return _redirect(pending.redirect_uri, {"code": code}, pending.state)

    # -- token, revoke, identity --------------------------------------------------------------

    def token(self, request: Request) -> Reply:
        form = request.form()
        try:
            app = self._client(form)
            grant_type = form.get("grant_type", "")
            if grant_type == "authorization_code":
                return self._code_grant(app, form)
            if grant_type == "refresh_token":
                access, grant = self.sessions.refresh(form.get("refresh_token", ""), app.client_id)
                return Reply(200, self._answer(app, access, None, grant.user_id, grant.scope))
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        except OAuthError as error:
            return error.reply()

    def revoke(self, request: Request) -> Reply:
        token = request.form().get("token") or (request.query.get("token") or [""])[-1]
        if not self.sessions.revoke(token):
            return OAuthError("unsupported_token_type", "this token type is not supported").reply()
        return Reply(200, None)

    def identity(self, request: Request, org: str, user: str) -> Reply:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user_id = self.sessions.user_of(token.strip()) if scheme.lower() == "bearer" else None
        if user_id is None:
            return Reply(403, b"Bad_OAuth_Token", content_type="text/plain")
        if org != self.org.organization_id or user.lower() != user_id.lower():
            return Reply(403, b"Bad_Id", content_type="text/plain")
        row = self.org.user(user_id) or {}
        base = self.org.url
        urls = {
            name: f"{base}/services/data/v{{version}}/{path}"
            for name, path in (
                ("rest", ""),
                ("sobjects", "sobjects/"),
                ("search", "search/"),
                ("query", "query/"),
                ("recent", "recent/"),
            )
        }
        urls["profile"] = f"{base}/{user_id}"
        return Reply(
            200,
            {
                "id": self.identity_url(user_id),
                "asserted_user": True,
                "user_id": user_id,
                "organization_id": self.org.organization_id,
                "username": row.get("Username"),
                "nick_name": str(row.get("Username") or "").split("@")[0],
                "display_name": row.get("Name"),
                "email": row.get("Email"),
                "email_verified": True,
                "first_name": row.get("FirstName"),
                "last_name": row.get("LastName"),
                "active": bool(row.get("IsActive", True)),
                "user_type": "STANDARD",
                "language": "en_US",
                "locale": "en_US",
                "utcOffset": 0,
                "urls": urls,
            },
        )

    def identity_url(self, user_id: str) -> str:
        return f"{self.org.url}/id/{self.org.organization_id}/{user_id}"

    # -- steps --------------------------------------------------------------------------------

    def _client(self, form: Mapping[str, str]) -> ConnectedApp:
        with self._lock:
            app = self.apps.get(form.get("client_id", ""))
        if app is None:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        secret = form.get("client_secret")
        if app.secret and not hmac.compare_digest(secret or "", app.secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        return app

    def _code_grant(self, app: ConnectedApp, form: Mapping[str, str]) -> Reply:
        with self._lock:
            code = self._codes.pop(form.get("code", ""), None)  # single use, even when refused
        if code is None or code.client_id != app.client_id:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if code.expires_at <= time.monotonic():
            raise OAuthError("invalid_grant", "expired authorization code")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            if not verifier or not hmac.compare_digest(computed, code.challenge):
                raise OAuthError("invalid_grant", "invalid code verifier")
        access, refresh = self.sessions.grant(app.client_id, code.user_id, code.scope)
        return Reply(200, self._answer(app, access, refresh, code.user_id, code.scope))

    def _answer(
        self, app: ConnectedApp, access: str, refresh: str | None, user_id: str, scope: str
    ) -> dict[str, Any]:
        issued_at = str(int(time.time() * 1000))
        identity = self.identity_url(user_id)
        signature = hmac.new(
            app.secret.encode("utf-8"), (identity + issued_at).encode("utf-8"), hashlib.sha256
        ).digest()
        answer: dict[str, Any] = {"access_token": access}
        if refresh is not None:
            answer["refresh_token"] = refresh
        return answer | {
            "signature": base64.b64encode(signature).decode("ascii"),
            "scope": scope or "api refresh_token",
            "instance_url": self.org.url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }

    # -- pages --------------------------------------------------------------------------------

    def _login_page(
        self,
        request_id: str,
        pending: _Pending,
        problem: str | None = None,
        username: str | None = None,
    ) -> Reply:
        if username is None:
            default = self.org.user(self.org.default_user_id) or {}
            username = str(default.get("Username") or "")
        scopes = ", ".join(pending.scope.split()) or "the app's default scopes"
        badge = " (Sandbox)" if self.org.kind == "sandbox" else ""
        error = f'<p class="error" role="alert">{html.escape(problem)}</p>' if problem else ""
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Login | Salesforce</title></head>
<body><main>
<h1>{html.escape(self.org.org_name)}{badge}</h1>
{error}<form method="post" action="/services/oauth2/authorize">
<input type="hidden" name="request_id" value="{html.escape(request_id)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username"
 value="{html.escape(username)}">
<p><strong>{html.escape(pending.app.name)}</strong> is asking to access:
 {html.escape(scopes)}</p>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></main></body></html>
"""
        return Reply(200, page.encode("utf-8"))

    def _error_page(self, error: str, description: str) -> Reply:
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Login | Salesforce</title></head><body><main>"
            f'<p class="error" role="alert">error={html.escape(error)}'
            f"&amp;error_description={html.escape(description)}</p></main></body></html>"
        )
        return Reply(400, page.encode("utf-8"))


def _redirect(redirect_uri: str, params: dict[str, str], state: str | None) -> Reply:
    if state is not None:
        params = params | {"state": state}
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return Reply(302, None, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"})
