"""Loopback Microsoft Entra ID: OpenID discovery, signing keys, a token endpoint and admin consent.

Endpoints
---------
GET /{tenant}/v2.0/.well-known/openid-configuration
    issuer ``{url}/{tenant}/v2.0`` (``{url}/{tenantid}/v2.0`` literally for common,
    organizations and consumers, as Entra does), ``jwks_uri``, ``authorization_endpoint`` and
    ``token_endpoint`` (msal needs both, https).
GET /common/discovery/v2.0/keys
    the JWKS: ``kid``, ``kty``, ``use``, ``alg``, ``n``, ``e`` per key, current key first.
POST /{tenant}/oauth2/v2.0/token
    form-encoded, for the confidential clients a test registers (``register_client``; the secret
    in the body as msal sends it, or HTTP Basic). Grants:

    - on-behalf-of (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``,
      ``requested_token_use=on_behalf_of``): ``assertion`` is a user access token this emulator
      signed, for the client (``aud`` its id or ``api://.../<id>``), inside its validity;
      ``scope`` names one resource (``https://host:port/.default`` or ``.../user_impersonation``)
      besides ``openid profile offline_access``.
    - ``refresh_token``: a refresh token this emulator issued to the same client, for any
      resource (Entra's refresh tokens are not bound to the resource they were issued for).

    Success is Entra's v2 answer: ``token_type``, ``access_token`` (RS256, ``aud`` the resource,
    ``scp``, the user's ``oid``/``tid``/``name``/``preferred_username``, ``azp`` the client),
    ``expires_in``, ``ext_expires_in``, ``scope``, a new opaque ``refresh_token``, ``id_token``
    and ``client_info`` (base64url ``{"uid": oid, "utid": tid}``), which is what msal builds its
    account from. Errors are Entra's JSON (``error``, ``error_description`` starting with the
    ``AADSTS`` code, ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``).
GET /{tenant}/v2.0/adminconsent?client_id=&redirect_uri=&state=&scope=
    the admin "approves" at once: 302 to ``redirect_uri?admin_consent=True&tenant=<tid>&state=
    &scope=``, or for a tenant whose admin refuses, ``?error=access_denied&error_subcode=cancel&
    error_description=AADSTS65004...&admin_consent=True&tenant=&state=`` (the error answer carries
    ``admin_consent`` and ``tenant`` too, as Microsoft documents). An unknown client, a
    missing parameter or an unregistered redirect URI gets an error page and no redirect.

Tokens
------
``issue_token`` signs RS256 access tokens shaped like Entra's v2 (``ver`` 2.0, issuer
``{url}/{tid}/v2.0``, ``preferred_username``) or v1 (``ver`` 1.0, issuer ``{url}/{tid}/``,
``upn``/``unique_name``) tokens for an Office add-in's ``access_as_user`` scope: the assertion
a backend exchanges on behalf of the user. Tokens the token endpoint issues for resources are v2
(``resource_token_version = "1.0"`` makes them v1, as Dataverse's are in real tenants).

Test controls
-------------
``register_client(client_id, secret, redirect_uris=())``; ``access_token_lifetime`` (seconds,
default 3600); ``require_interaction(oid, True, claims=...)`` (that user's grants answer
``interaction_required`` with a claims challenge until ``require_interaction(oid, False)``);
``revoke_refresh_tokens(oid)``; ``consent_required(tenant, True)`` (AADSTS65001 until cleared or
an admin consents); ``admin_consent_decision(tenant, "refused")``; ``consented_tenants``;
``admin_home_tenant`` (whose admin answers a link for ``organizations``);
``fail_token_endpoint(status, times=1, retry_after=None)`` (429/5xx, or "drop" to close the
connection); ``reset_token_state()`` undoes all of these but the registered clients.

Faults and keys
---------------
``rotate_key()`` publishes a new current key; ``fail_jwks(True)`` makes the keys endpoint answer
503 until ``fail_jwks(False)``. ``requests_served`` counts calls per ``"METHOD /path"``.

Run by hand: ``python -m tests.emulators.entra --port 8443`` prints the URL and the CA file
(``--audience <app id>`` also prints a token for it, good for an hour; ``--client id:secret``
registers a confidential client for the token endpoint).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import secrets
import signal
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .loopback import DROP, LoopbackServer, Reply, Request, Route

# The client id Office uses when it asks Entra for an add-in's SSO token (Office's "azp").
OFFICE_CLIENT_ID = "ea5a67f6-b6f3-4338-b240-c655ddc3cc8e"
_MULTI_TENANT_ALIASES = frozenset({"common", "organizations", "consumers"})
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Scopes every msal request carries besides the resource's; they name no resource.
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
# A Conditional Access claims challenge, as Entra sends with interaction_required.
DEFAULT_CLAIMS_CHALLENGE = json.dumps(
    {"access_token": {"capolids": {"essential": True, "values": [str(uuid.uuid4())]}}}
)
# What the token endpoint answers for an injected fault: (error, AADSTS code, message).
_THROTTLED = ("temporarily_unavailable", 90055, "There are too many incoming requests.")
_SERVER_ERROR = ("server_error", 50000, "There was an error issuing a token.")
_TRANSIENT = ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")


def new_rsa_key() -> rsa.RSAPrivateKey:
    """Generate a 2048-bit RSA key, the size Entra signs with."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_id(key: rsa.RSAPrivateKey) -> str:
    """Return a stable ``kid`` for ``key``: base64url SHA-1 of its public key, like Entra's."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _b64url(hashlib.sha1(der).digest())


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One RSA key the emulator signs with and publishes."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """Make a fresh key."""
        key = new_rsa_key()
        return cls(key_id(key), key)

    def jwk(self, issuer: str) -> dict[str, str]:
        """Return the public half as Entra's keys endpoint lists it."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "alg": "RS256",
            "n": _b64url(_uint_bytes(numbers.n)),
            "e": _b64url(_uint_bytes(numbers.e)),
            "issuer": issuer,
        }


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """A confidential client (web API) registered with the emulator."""

    client_id: str
    secret: str
    redirect_uris: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class UserGrant:
    """Who a refresh token speaks for: one user, one client, the resource it was issued for."""

    client_id: str
    tenant_id: str
    oid: str
    name: str
    email: str
    resource: str
    issued_at: float


class OAuthError(Exception):
    """An error answer of the token endpoint, in Entra's shape."""

    def __init__(
        self, status: int, error: str, code: int, message: str, **extra: str | list[int]
    ) -> None:
        super().__init__(f"AADSTS{code}: {message}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message
        self.extra = extra

    def reply(self, correlation_id: str, error_uri: str) -> Reply:
        """Return the JSON answer Entra gives, with its trace and correlation ids."""
        trace_id = str(uuid.uuid4())
        timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        description = (
            f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        )
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"{error_uri}?code={self.code}",
        }
        headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="login.microsoftonline.com"'
        return Reply(self.status, body | self.extra, headers)


def _invalid_request(parameter: str) -> OAuthError:
    return OAuthError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{parameter}'.",
    )


class EntraEmulator(LoopbackServer):
    """Microsoft Entra ID on 127.0.0.1: discovery, signing keys, and tokens it signs."""

    name = "Entra emulator"
    JWKS_PATH = "/common/discovery/v2.0/keys"
    ROUTES = (
        Route("GET", "/{tenant}/v2.0/.well-known/openid-configuration", "openid_configuration"),
        Route("GET", JWKS_PATH, "keys"),
        Route("POST", "/{tenant}/oauth2/v2.0/token", "token"),
        Route("GET", "/{tenant}/v2.0/adminconsent", "admin_consent"),
    )

    def __init__(self, *, port: int = 0, ca: trustme.CA | None = None) -> None:
        super().__init__(port=port, ca=ca)
        self._state_lock = threading.Lock()
        self._keys: list[SigningKey] = [SigningKey.generate()]
        self._jwks_failing = False
        #: Seconds an access token from the token endpoint lives (``exp``, ``expires_in``).
        self.access_token_lifetime = 3600
        #: Shape of access tokens for resources: "2.0" (azp, preferred_username) or "1.0"
        #: (appid, upn), what a resource that never opted into v2 tokens gets.
        self.resource_token_version: Literal["1.0", "2.0"] = "2.0"
        #: The tenant of the admin who signs in when an admin consent link names
        #: "organizations" rather than a tenant.
        self.admin_home_tenant: str | None = None
        self._clients: dict[str, RegisteredClient] = {}
        self._refresh_grants: dict[str, UserGrant] = {}
        self._revoked_refresh_tokens: set[str] = set()
        self._interaction_claims: dict[str, str] = {}
        self._consent_missing: set[str] = set()
        self._consented: set[str] = set()
        self._consent_refused: set[str] = set()
        self._token_faults: list[tuple[int | Literal["drop"], int | None]] = []

    # -- test controls ------------------------------------------------------------------------

    @property
    def current_kid(self) -> str:
        """Return the ``kid`` new tokens are signed with."""
        return self._keys[0].kid

    @property
    def current_key(self) -> rsa.RSAPrivateKey:
        """Return the private key new tokens are signed with."""
        return self._keys[0].private_key

    def rotate_key(self, *, keep_old: bool = True) -> str:
        """Make a new current signing key and return its ``kid``; keep publishing the old ones."""
        new = SigningKey.generate()
        with self._state_lock:
            self._keys = [new, *self._keys] if keep_old else [new]
        return new.kid

    def fail_jwks(self, failing: bool = True) -> None:
        """Make the keys endpoint answer 503 (or, with False, answer normally again)."""
        with self._state_lock:
            self._jwks_failing = failing

    def register_client(
        self, client_id: str, secret: str, *, redirect_uris: Iterable[str] = ()
    ) -> None:
        """Register a confidential client; admin consent redirects only to ``redirect_uris``
        (none given: to any https or http://localhost URI)."""
        with self._state_lock:
            self._clients[client_id] = RegisteredClient(client_id, secret, frozenset(redirect_uris))

    def require_interaction(
        self, oid: str, required: bool = True, *, claims: str | Mapping[str, Any] | None = None
    ) -> str:
        """Make the user's grants answer ``interaction_required`` (MFA, Conditional Access)
        until called with False; return the claims challenge sent (a JSON string)."""
        if claims is None:
            challenge = DEFAULT_CLAIMS_CHALLENGE
        else:
            challenge = claims if isinstance(claims, str) else json.dumps(claims)
        with self._state_lock:
            if required:
                self._interaction_claims[oid] = challenge
            else:
                self._interaction_claims.pop(oid, None)
        return challenge

    def revoke_refresh_tokens(self, oid: str) -> int:
        """Revoke every refresh token issued so far for the user; return how many there were."""
        with self._state_lock:
            tokens = {token for token, grant in self._refresh_grants.items() if grant.oid == oid}
            self._revoked_refresh_tokens |= tokens
        return len(tokens)

    def consent_required(self, tenant: str, required: bool = True) -> None:
        """Make grants for users of ``tenant`` fail with AADSTS65001 until called with False or
        the tenant's admin consents."""
        with self._state_lock:
            if required:
                self._consent_missing.add(tenant)
            else:
                self._consent_missing.discard(tenant)

    def admin_consent_decision(
        self, tenant: str, decision: Literal["granted", "refused"] = "granted"
    ) -> None:
        """Choose what the tenant's admin answers on the admin consent page (default: grant)."""
        with self._state_lock:
            if decision == "refused":
                self._consent_refused.add(tenant)
            else:
                self._consent_refused.discard(tenant)

    @property
    def consented_tenants(self) -> frozenset[str]:
        """Return the tenants whose admin granted consent through the admin consent endpoint."""
        with self._state_lock:
            return frozenset(self._consented)

    def fail_token_endpoint(
        self,
        status: int | Literal["drop"] = 503,
        *,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` token requests answer ``status`` (429 or 5xx, with a
        ``Retry-After`` header when ``retry_after`` is given), or with "drop" close them
        unanswered."""
        with self._state_lock:
            self._token_faults.extend([(status, retry_after)] * times)

    def reset_token_state(self) -> None:
        """Forget clients' grants, challenges, consent settings, faults and lifetime changes."""
        with self._state_lock:
            self._refresh_grants.clear()
            self._revoked_refresh_tokens.clear()
            self._interaction_claims.clear()
            self._consent_missing.clear()
            self._consented.clear()
            self._consent_refused.clear()
            self._token_faults.clear()
        self.access_token_lifetime = 3600
        self.resource_token_version = "2.0"

    def issue_token(
        self,
        *,
        tenant_id: str,
        oid: str,
        audience: str,
        scopes: Iterable[str] = ("access_as_user",),
        roles: Iterable[str] = (),
        email: str = "rep@contoso.example",
        name: str = "Alex Rep",
        expires_in: int = 3600,
        not_before: float | None = None,
        version: Literal["1.0", "2.0"] = "2.0",
        kid: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        signing_key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        """Sign an access token as Entra would issue it to Office for the add-in's API.

        ``expires_in`` and ``not_before`` are seconds from now (negative for the past);
        ``not_before=None`` makes the token valid from now. ``extra_claims`` are set last, and
        a value of None removes that claim. ``signing_key`` signs with a key of your own (its
        ``kid`` is derived from it unless ``kid`` is given).
        """
        now = int(time.time())
        expires = now + expires_in
        issued = min(now, expires - 3600)
        claims = self._claims(tenant_id, oid, audience, email, name, version)
        claims |= {
            "iat": issued,
            "nbf": issued if not_before is None else now + int(not_before),
            "exp": expires,
            "scp": " ".join(scopes),
        }
        if roles := sorted(roles):
            claims["roles"] = roles
        for claim, value in (extra_claims or {}).items():
            if value is None:
                claims.pop(claim, None)
            else:
                claims[claim] = value
        key = signing_key or self.current_key
        header_kid = kid or (key_id(signing_key) if signing_key else self.current_kid)
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": header_kid, "typ": "JWT"})

    def verify_token(self, token: str, audience: str) -> dict[str, Any]:
        """Return the claims of a token this emulator signed for ``audience``, else raise.

        Other emulators (Dataverse, Global Discovery, Graph) call this to check the bearer token
        of each request in-process, as the real services check Entra's signature; it raises
        ``jwt.InvalidTokenError`` for a bad signature, a wrong audience or an expired token.
        """
        kid = jwt.get_unverified_header(token).get("kid")
        with self._state_lock:
            keys = {key.kid: key.private_key.public_key() for key in self._keys}
        if kid not in keys:
            raise jwt.InvalidTokenError(f"unknown signing key {kid!r}")
        claims: dict[str, Any] = jwt.decode(
            token, keys[kid], algorithms=["RS256"], audience=audience, leeway=0
        )
        return claims

    def _claims(
        self, tenant_id: str, oid: str, audience: str, email: str, name: str, version: str
    ) -> dict[str, Any]:
        """Return the identity claims of a v1 or v2 access token."""
        common = {
            "aud": audience,
            "aio": _random_id(),
            "name": name,
            "oid": oid,
            # Entra's sub is pairwise: stable per user and app, unrelated to oid.
            "sub": _b64url(hashlib.sha256(f"{oid}|{audience}".encode()).digest()[:32]),
            "tid": tenant_id,
            "uti": _random_id(),
            "ver": version,
        }
        if version == "2.0":
            v2 = {"iss": f"{self.url}/{tenant_id}/v2.0", "azp": OFFICE_CLIENT_ID, "azpacr": "0"}
            return common | v2 | ({"preferred_username": email} if email else {})
        v1 = {
            "iss": f"{self.url}/{tenant_id}/",
            "appid": OFFICE_CLIENT_ID,
            "appidacr": "0",
            "amr": ["pwd"],
        }
        return common | v1 | ({"upn": email, "unique_name": email} if email else {})

    # -- endpoints ----------------------------------------------------------------------------

    def openid_configuration(self, request: Request, tenant: str) -> Reply:
        """Serve the tenant's OpenID Connect discovery document."""
        issuer_tenant = "{tenantid}" if tenant in _MULTI_TENANT_ALIASES else tenant
        return Reply(
            200,
            {
                "issuer": f"{self.url}/{issuer_tenant}/v2.0",
                "authorization_endpoint": f"{self.url}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.url}/{tenant}/oauth2/v2.0/token",
                "jwks_uri": f"{self.url}{self.JWKS_PATH}",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
            },
        )

    def keys(self, request: Request) -> Reply:
        """Serve the signing keys, or 503 while ``fail_jwks`` is on."""
        with self._state_lock:
            failing, keys = self._jwks_failing, list(self._keys)
        if failing:
            return Reply(
                503,
                {
                    "error": "temporarily_unavailable",
                    "error_description": "AADSTS90033: A transient error has occurred.",
                },
                {"Retry-After": "5"},
            )
        issuer = f"{self.url}/{{tenantid}}/v2.0"
        return Reply(
            200,
            {"keys": [key.jwk(issuer) for key in keys]},
            {"Cache-Control": "max-age=86400, private"},
        )

    def token(self, request: Request, tenant: str) -> Reply:
        """Serve the token endpoint: the on-behalf-of and refresh token grants."""
        correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        error_uri = f"{self.url}/error"
        with self._state_lock:
            fault = self._token_faults.pop(0) if self._token_faults else None
        if fault is not None:
            status, retry_after = fault
            if status == "drop":
                return DROP
            reply = self._fault(status).reply(correlation_id, error_uri)
            if retry_after is None:
                return reply
            return Reply(
                reply.status, reply.body, {**reply.headers, "Retry-After": str(retry_after)}
            )
        try:
            form = request.form()
            client_id = self._authenticate_client(request, form, tenant)
            grant_type = form.get("grant_type", "")
            if grant_type == JWT_BEARER_GRANT:
                return self._on_behalf_of(form, tenant, client_id)
            if grant_type == "refresh_token":
                return self._refresh(form, client_id)
            if not grant_type:
                raise _invalid_request("grant_type")
            raise OAuthError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        except OAuthError as error:
            return error.reply(correlation_id, error_uri)

    def admin_consent(self, request: Request, tenant: str) -> Reply:
        """Let the tenant's admin grant (or refuse) consent at once, and redirect back."""
        query = {name: values[-1] for name, values in request.query.items()}
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        for parameter in ("client_id", "redirect_uri", "scope"):
            if not query.get(parameter):
                return _error_page(_invalid_request(parameter))
        with self._state_lock:
            client = self._clients.get(client_id)
        if client is None:
            return _error_page(_unknown_client(client_id, tenant))
        if not _redirect_allowed(client, redirect_uri):
            return _error_page(
                OAuthError(
                    400,
                    "invalid_request",
                    50011,
                    f"The redirect URI '{redirect_uri}' specified in the request does not match"
                    f" the redirect URIs configured for the application '{client_id}'.",
                )
            )
        tenant_id = self.admin_home_tenant if tenant == "organizations" else tenant
        if tenant_id is None or tenant_id in _MULTI_TENANT_ALIASES:
            return _error_page(
                OAuthError(
                    400,
                    "invalid_request",
                    90130,
                    f"Admin consent needs a tenant, not '{tenant}' (for 'organizations' the"
                    " emulator needs admin_home_tenant set).",
                )
            )
        with self._state_lock:
            refused = tenant_id in self._consent_refused
            if not refused:
                self._consented.add(tenant_id)
                self._consent_missing.discard(tenant_id)
        state = {"state": query["state"]} if "state" in query else {}
        if refused:
            params = {
                "error": "access_denied",
                "error_subcode": "cancel",
                "error_description": "AADSTS65004: User declined to consent to access the app.",
                "admin_consent": "True",
                "tenant": tenant_id,
            } | state
        else:
            params = (
                {"admin_consent": "True", "tenant": tenant_id} | state | {"scope": query["scope"]}
            )
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return Reply(302, None, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"})

    # -- the token endpoint, step by step --------------------------------------------------------

    @staticmethod
    def _fault(status: int) -> OAuthError:
        error, code, message = (
            _THROTTLED if status == 429 else _TRANSIENT if status == 503 else _SERVER_ERROR
        )
        return OAuthError(status, error, code, message)

    def _authenticate_client(self, request: Request, form: Mapping[str, str], tenant: str) -> str:
        """Return the client id, or raise for a missing, unknown or wrong client credential."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(basic[6:], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, secret = client_id or basic_id, basic_secret
        if not client_id:
            raise _invalid_request("client_id")
        with self._state_lock:
            client = self._clients.get(client_id)
        if client is None:
            raise _unknown_client(client_id, tenant)
        if secret is None:
            raise OAuthError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or"
                " 'client_secret'.",
            )
        if not secrets.compare_digest(secret.encode(), client.secret.encode()):
            raise OAuthError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is"
                f" the client secret value, not the client secret ID, for a secret added to app"
                f" '{client_id}'.",
            )
        return client_id

    def _on_behalf_of(self, form: Mapping[str, str], tenant: str, client_id: str) -> Reply:
        if form.get("requested_token_use") != "on_behalf_of":
            raise _invalid_request("requested_token_use")
        if not form.get("assertion"):
            raise _invalid_request("assertion")
        claims = self._check_assertion(form["assertion"], client_id, tenant)
        resource, prefix, permissions = _resource_scope(form.get("scope", ""))
        user = UserGrant(
            client_id=client_id,
            tenant_id=claims["tid"],
            oid=claims["oid"],
            name=claims.get("name", ""),
            email=claims.get("preferred_username") or claims.get("upn") or "",
            resource=resource,
            issued_at=time.time(),
        )
        self._check_user(user)
        return self._grant_tokens(user, prefix, permissions)

    def _refresh(self, form: Mapping[str, str], client_id: str) -> Reply:
        token = form.get("refresh_token", "")
        if not token:
            raise _invalid_request("refresh_token")
        with self._state_lock:
            grant = self._refresh_grants.get(token)
            revoked = token in self._revoked_refresh_tokens
        if grant is None:
            raise OAuthError(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity."
                " Send a new interactive authorization request for this user and resource.",
            )
        if grant.client_id != client_id:
            raise OAuthError(
                400,
                "invalid_grant",
                70000,
                "Provided grant is invalid or malformed: the refresh token was issued to a"
                " different client.",
            )
        if revoked:
            raise OAuthError(
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is"
                " needed. The user might have changed or reset their password.",
                suberror="bad_token",
            )
        resource, prefix, permissions = _resource_scope(form.get("scope", ""))
        # Entra's refresh tokens serve any resource the client may call for the same user.
        user = replace(grant, resource=resource, issued_at=time.time())
        self._check_user(user)
        return self._grant_tokens(user, prefix, permissions)

    def _check_assertion(self, assertion: str, client_id: str, tenant: str) -> dict[str, Any]:
        """Return the claims of a user token this emulator signed for the client, else raise."""
        try:
            kid = jwt.get_unverified_header(assertion).get("kid")
            with self._state_lock:
                keys = {key.kid: key.private_key.public_key() for key in self._keys}
            if kid not in keys:
                raise jwt.InvalidTokenError("The key was not found.")
            claims: dict[str, Any] = jwt.decode(
                assertion,
                keys[kid],
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
            )
        except jwt.InvalidTokenError as error:
            reason = f"Assertion failed signature validation. [Reason - {error}]"
            raise _bad_assertion(reason) from error
        if not (isinstance(claims.get("oid"), str) and isinstance(claims.get("tid"), str)):
            raise _bad_assertion("Assertion contains no user (oid and tid claims).")
        now = time.time()
        expires, not_before = claims.get("exp"), claims.get("nbf", 0)
        if not isinstance(expires, int | float) or expires <= now or not_before > now:
            raise OAuthError(
                400,
                "invalid_grant",
                500133,
                "Assertion is not within its valid time range. Ensure that the access token is"
                " not expired before using it for user assertion, or request a new token."
                f" Current time: {_iso(now)}, expiry time of assertion"
                f" {_iso(expires) if isinstance(expires, int | float) else 'none'}.",
            )
        audience = claims.get("aud")
        if not _audience_is_client(audience, client_id):
            raise _bad_assertion(
                "Assertion audience does not match the Client app presenting the assertion. The"
                f" audience in the assertion was '{audience}' and the expected audience is"
                f" '{client_id}' or one of the Application Id URIs of this application."
            )
        tid = claims["tid"]
        issuers = {f"{self.url}/{tid}/v2.0", f"{self.url}/{tid}/"}
        if claims.get("iss") not in issuers:
            raise _bad_assertion(f"Assertion contains an invalid issuer '{claims.get('iss')}'.")
        if tenant not in _MULTI_TENANT_ALIASES and tenant != tid:
            raise _bad_assertion(
                f"Assertion was issued in tenant '{tid}', not in tenant '{tenant}' of the request."
            )
        return claims

    def _check_user(self, user: UserGrant) -> None:
        """Raise when the tenant has not consented or the user must sign in interactively."""
        with self._state_lock:
            no_consent = user.tenant_id in self._consent_missing
            claims = self._interaction_claims.get(user.oid)
        if no_consent:
            raise OAuthError(
                400,
                "invalid_grant",
                65001,
                "The user or administrator has not consented to use the application with ID"
                f" '{user.client_id}' named '{user.client_id}'. Send an interactive authorization"
                " request for this user and resource.",
                suberror="consent_required",
            )
        if claims is not None:
            raise OAuthError(
                400,
                "interaction_required",
                50076,
                "Due to a configuration change made by your administrator, or because you moved"
                " to a new location, you must use multi-factor authentication to access"
                f" '{user.resource}'.",
                suberror="basic_action",
                claims=claims,
            )

    def _grant_tokens(self, user: UserGrant, prefix: str, permissions: list[str]) -> Reply:
        """Answer a grant: an access token for the resource, a new refresh token, an id token."""
        now = int(time.time())
        lifetime = self.access_token_lifetime
        scp = " ".join(p for p in permissions if p != ".default") or "user_impersonation"
        granted = [f"{prefix}/{p}" for p in scp.split()]
        if ".default" in permissions:
            granted.append(f"{prefix}/.default")
        access_claims = self._claims(
            user.tenant_id,
            user.oid,
            user.resource,
            user.email,
            user.name,
            self.resource_token_version,
        )
        client_claim = "azp" if self.resource_token_version == "2.0" else "appid"
        access_claims |= {
            client_claim: user.client_id,
            f"{client_claim}acr": "1",  # the client authenticated with a secret
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "scp": scp,
            "idtyp": "user",
        }
        id_claims = {
            "aud": user.client_id,
            "iss": f"{self.url}/{user.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.email,
            "sub": _b64url(hashlib.sha256(f"{user.oid}|{user.client_id}".encode()).digest()[:32]),
            "tid": user.tenant_id,
            "ver": "2.0",
        }
        refresh_token = f"1.A{secrets.token_urlsafe(96)}"
        with self._state_lock:
            self._refresh_grants[refresh_token] = user
        headers = {"kid": self.current_kid, "typ": "JWT"}
        client_info = json.dumps({"uid": user.oid, "utid": user.tenant_id}).encode()
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "scope": " ".join(granted),
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": jwt.encode(
                    access_claims, self.current_key, algorithm="RS256", headers=headers
                ),
                "refresh_token": refresh_token,
                "id_token": jwt.encode(
                    id_claims, self.current_key, algorithm="RS256", headers=headers
                ),
                "client_info": _b64url(client_info),
            },
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
        )


def _unknown_client(client_id: str, tenant: str) -> OAuthError:
    return OAuthError(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'."
        " This can happen if the application has not been installed by the administrator of the"
        " tenant or consented to by any user in the tenant.",
    )


def _bad_assertion(message: str) -> OAuthError:
    return OAuthError(400, "invalid_grant", 50013, message)


def _audience_is_client(audience: object, client_id: str) -> bool:
    """Whether a token's ``aud`` is the client: its id, or an ``api://`` URI ending in it."""
    if not isinstance(audience, str):
        return False
    return audience == client_id or (
        audience.startswith("api://") and audience.endswith(f"/{client_id}")
    )


def _resource_scope(scope: str) -> tuple[str, str, list[str]]:
    """Split a requested ``scope`` into the resource (its ``aud``), the scope prefix as the
    client wrote it, and the permissions; raise ``invalid_scope`` unless exactly one resource
    is named."""
    requested = [item for item in scope.split() if item not in OIDC_SCOPES]
    by_resource: dict[str, tuple[str, list[str]]] = {}
    for item in requested:
        prefix, _, permission = item.rpartition("/")
        parts = urlsplit(prefix)
        if not permission or parts.scheme not in ("https", "api") or not parts.netloc:
            raise _invalid_scope(scope, f"The scope '{item}' is not valid.")
        by_resource.setdefault(prefix.rstrip("/"), (prefix, []))[1].append(permission)
    if not by_resource:
        raise _invalid_scope(scope, "The scope names no resource.")
    if len(by_resource) > 1:
        raise OAuthError(
            400,
            "invalid_scope",
            28000,
            "Provided value for the input parameter scope is not valid because it contains more"
            f" than one resource. Scope {scope} is not valid.",
        )
    ((resource, (prefix, permissions)),) = by_resource.items()
    if ".default" in permissions and len(permissions) > 1:
        raise _invalid_scope(scope, "The .default scope can't be combined with other scopes.")
    return resource, prefix, permissions


def _invalid_scope(scope: str, reason: str) -> OAuthError:
    return OAuthError(
        400,
        "invalid_scope",
        70011,
        f"The provided value for the input parameter 'scope' is not valid. {reason}"
        f" (scope: '{scope}')",
    )


def _redirect_allowed(client: RegisteredClient, redirect_uri: str) -> bool:
    if client.redirect_uris:
        return redirect_uri in client.redirect_uris
    parts = urlsplit(redirect_uri)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname == "localhost")


def _error_page(error: OAuthError) -> Reply:
    """Answer as Entra's sign-in page does when it cannot redirect: an HTML error, no Location."""
    page = f"<!DOCTYPE html><title>Sign in</title><p>AADSTS{error.code}: {error.message}</p>"
    return Reply(error.status, page.encode("utf-8"))


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%m/%d/%Y %H:%M:%S")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _random_id() -> str:
    return secrets.token_urlsafe(16)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the emulator in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators.entra", description=main.__doc__
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--audience", help="also print a token for this app (client) id")
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="register a confidential client for the token endpoint (repeatable)",
    )
    args = parser.parse_args(argv)
    with EntraEmulator(port=args.port) as emulator:
        print(f"Entra emulator: {emulator.url}", flush=True)
        print(f"CA file:        {emulator.ca_file}", flush=True)
        print(f"Token endpoint: {emulator.url}/<tenant>/oauth2/v2.0/token", flush=True)
        for client in args.client:
            client_id, _, secret = client.partition(":")
            emulator.register_client(client_id, secret)
            print(f"Client:         {client_id}", flush=True)
        if args.audience:
            token = emulator.issue_token(
                tenant_id="11111111-1111-4111-8111-111111111111",
                oid="22222222-2222-4222-8222-222222222222",
                audience=args.audience,
            )
            print(f"Token:          {token}", flush=True)
        # Stop cleanly (certificate files removed) on Ctrl-C and on kill alike.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
