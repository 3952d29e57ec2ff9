"""Who is calling: validate a Microsoft Entra access token and say whose it is.

Pure library: no Flask here. The web layer turns `InvalidToken` into a 401 (or a 503 for
``keys_unavailable``) and keeps the `Identity` for the request.

Features
--------
- RS256 only. The header's ``alg`` is checked before anything else, so ``none``, ``HS256``
  (including HS256 "signed" with the public key as the secret) and every other algorithm are
  refused without a network call.
- The signature is checked against the key named by ``kid`` in the JWKS at
  ``{authority}/common/discovery/v2.0/keys``, fetched with PyJWT's `jwt.PyJWKClient`. The key set
  is cached for ``jwks_cache_seconds``; an unknown ``kid`` refetches it once, at most once per
  ``jwks_refresh_cooldown`` seconds (so Entra's key rotation works, and a flood of tokens with
  made-up kids cannot turn into a flood of fetches).
- ``exp``, ``nbf`` and ``iat`` are required and checked with ``leeway`` seconds of clock skew.
- ``aud`` is the add-in's app (client) id, or ``api://<host>/<client id>`` / ``api://<client id>``
  (the App ID URI, which v1 tokens carry).
- ``iss`` is checked against the token's own ``tid`` (multi-tenant apps): ``{authority}/{tid}/v2.0``
  for v2 tokens (``ver`` "2.0"); for v1 tokens ``https://sts.windows.net/{tid}/`` when the
  authority is Microsoft's, or ``{authority}/{tid}/`` for any other authority (the emulator).
- ``tid`` and ``oid`` must be present: ``oid`` + ``tid`` is the user's key, ``preferred_username``
  is only for display.
- ``scp`` must contain ``required_scope``; ``allowed_tenants``, when given, limits the tenants.
- The token itself is never logged nor put into an error message.

Errors
------
Every refusal is an `InvalidToken` with a machine ``code`` and a human ``message``:

    missing_token        no token at all
    malformed_token      not a JWT, or a required claim (exp, iat, nbf, tid, oid...) is missing
    expired_token        ``exp`` is past (beyond the leeway)
    token_not_yet_valid  ``nbf`` or ``iat`` is in the future (beyond the leeway)
    bad_signature        not RS256, or the signature does not verify
    unknown_key          ``kid`` is not in the authority's key set, even after a refetch
    wrong_audience       issued for another app
    wrong_issuer         not issued by the authority for the token's tenant
    missing_scope        ``scp`` lacks the required scope
    tenant_not_allowed   the tenant is not on the allow-list
    keys_unavailable     the key set could not be fetched (the web layer answers 503)

Configuration
-------------
authority            https URL of the identity provider, e.g. ``https://login.microsoftonline.com``
audience             the add-in's Entra app (client) id
required_scope       delegated scope the token must carry (``access_as_user``)
allowed_tenants      tenant ids allowed to call, or None for any tenant
leeway               clock skew allowed on exp/nbf/iat, in seconds
ca_file              CA bundle to trust for the authority instead of the system store
jwks_cache_seconds   how long a fetched key set is trusted before it is fetched again
jwks_refresh_cooldown  least seconds between refetches caused by an unknown ``kid``

PyJWT notes
-----------
Needs PyJWT 2.14 or later (``PyJWKClient(cooldown_duration=...)``). `PyJWKClient` fetches with
urllib, which ignores ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``; a private CA is given as an
`ssl.SSLContext` built from ``ca_file``. Its fetch does not sort its failures (a reply that is not
a key set raises the same class as an unknown ``kid``; a 200 reply that is not JSON lets a bare
`ValueError` escape), so ``_KeySetClient.fetch_data`` turns every bad reply into a connection
error, i.e. ``keys_unavailable``.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import jwt

log = logging.getLogger(__name__)

ADMIN_ROLE = "Sidepane.Admin"
ALGORITHM = "RS256"
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
# v1 tokens from Microsoft's authority name the old STS as issuer, not the authority itself.
_V1_ISSUER_BASE = {MICROSOFT_AUTHORITY: "https://sts.windows.net"}
_JWKS_TIMEOUT_SECONDS = 10

TokenErrorCode = Literal[
    "missing_token",
    "malformed_token",
    "expired_token",
    "token_not_yet_valid",
    "bad_signature",
    "unknown_key",
    "wrong_audience",
    "wrong_issuer",
    "missing_scope",
    "tenant_not_allowed",
    "keys_unavailable",
]
TOKEN_ERROR_CODES: frozenset[str] = frozenset(get_args(TokenErrorCode))

_MESSAGES: dict[TokenErrorCode, str] = {
    "missing_token": "Sign in first: this call needs an access token.",
    "malformed_token": "The access token is not a valid Microsoft Entra token. Sign in again.",
    "expired_token": "The access token has expired. Sign in again.",
    "token_not_yet_valid": (
        "The access token is not valid yet. Check that this computer's clock is right, "
        "then sign in again."
    ),
    "bad_signature": "The access token's signature does not verify. Sign in again.",
    "unknown_key": (
        "The access token is signed with a key Microsoft Entra ID does not publish. Sign in again."
    ),
    "wrong_audience": (
        "The access token was issued for another application. Sign in to Sidepane again."
    ),
    "wrong_issuer": (
        "The access token was not issued by Microsoft Entra ID for your organization. "
        "Sign in again."
    ),
    "missing_scope": "The access token does not allow access to Sidepane. Sign in and consent.",
    "tenant_not_allowed": (
        "Your organization is not allowed to use this Sidepane server. Ask your administrator."
    ),
    "keys_unavailable": (
        "Sidepane cannot reach Microsoft Entra ID to check your sign-in. Try again in a minute."
    ),
}


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller, as the validated access token names them."""

    tenant_id: str
    user_oid: str
    email: str
    name: str
    roles: frozenset[str]
    scopes: frozenset[str]
    #: The validated token itself: the user assertion of the on-behalf-of grant that gets the
    #: rep's CRM tokens. Never shown, logged or compared.
    assertion: str = field(default="", repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        """Tell whether the caller holds Sidepane's admin app role."""
        return ADMIN_ROLE in self.roles


class InvalidToken(Exception):
    """The bearer token cannot be trusted; ``code`` is for machines, ``message`` for people."""

    def __init__(self, code: TokenErrorCode, message: str | None = None) -> None:
        self.code: TokenErrorCode = code
        self.message: str = message or _MESSAGES[code]
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"InvalidToken({self.code!r}, {self.message!r})"


class TokenValidator:
    """Validate Entra access tokens for one API audience against one authority."""

    def __init__(
        self,
        *,
        authority: str,
        audience: str,
        required_scope: str = "access_as_user",
        allowed_tenants: Collection[str] | None = None,
        leeway: float = 60,
        ca_file: str | None = None,
        jwks_cache_seconds: int = 3600,
        jwks_refresh_cooldown: float = 30,
    ) -> None:
        authority = authority.rstrip("/")
        if urlsplit(authority).scheme != "https":
            raise ValueError(f"The token authority must be an https URL, not {authority!r}.")
        if not audience:
            raise ValueError("The token audience (the add-in's app id) must not be empty.")
        self.authority = authority
        self.audience = audience
        self.required_scope = required_scope
        self.allowed_tenants = (
            None if allowed_tenants is None else frozenset(t.lower() for t in allowed_tenants)
        )
        self.leeway = leeway
        self.jwks_uri = f"{authority}/common/discovery/v2.0/keys"
        self._v1_issuer_base = _V1_ISSUER_BASE.get(authority, authority)
        self._jwks = _KeySetClient(
            self.jwks_uri,
            cache_jwk_set=True,
            lifespan=jwks_cache_seconds,
            timeout=_JWKS_TIMEOUT_SECONDS,
            ssl_context=ssl.create_default_context(cafile=ca_file) if ca_file else None,
            cooldown_duration=jwks_refresh_cooldown,
        )

    def validate(self, token: str) -> Identity:
        """Return the caller's identity, or raise `InvalidToken` saying why not."""
        if not token or not token.strip():
            raise InvalidToken("missing_token")
        kid = self._read_header(token)
        claims = self._verified_claims(token, self._public_key(kid))
        self._check_audience(claims.get("aud"))
        tenant_id = _required_str(claims, "tid")
        user_oid = _required_str(claims, "oid")
        self._check_issuer(claims, tenant_id)
        if self.allowed_tenants is not None and tenant_id.lower() not in self.allowed_tenants:
            raise InvalidToken("tenant_not_allowed")
        scopes = frozenset(_optional_str(claims, "scp").split())
        if self.required_scope not in scopes:
            raise InvalidToken("missing_scope")
        return Identity(
            tenant_id=tenant_id,
            user_oid=user_oid,
            email=_first_str(claims, "preferred_username", "upn", "email"),
            name=_optional_str(claims, "name"),
            roles=_roles(claims),
            scopes=scopes,
            assertion=token,
        )

    def _read_header(self, token: str) -> str:
        """Return the header's ``kid`` once the header is well formed and says RS256."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken("malformed_token") from error
        if header.get("alg") != ALGORITHM:
            # Checked before any key lookup: the algorithm is ours to choose, never the token's.
            raise InvalidToken(
                "bad_signature", "The access token is not signed with RS256. Sign in again."
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("malformed_token")
        return kid

    def _public_key(self, kid: str) -> Any:
        """Return the authority's public key named ``kid``, refetching the key set once if new."""
        try:
            return self._jwks.get_signing_key(kid).key
        except jwt.PyJWKClientConnectionError as error:
            log.warning("Cannot get the token signing keys from %s: %s", self.jwks_uri, error)
            raise InvalidToken("keys_unavailable") from error
        except jwt.PyJWKClientError as error:
            raise InvalidToken("unknown_key") from error

    def _verified_claims(self, token: str, key: Any) -> dict[str, Any]:
        """Return the claims once the signature and the token's lifetime check out."""
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                leeway=self.leeway,
                options={
                    "require": ["exp", "iat", "nbf"],
                    # Audience and issuer depend on the token's own claims: checked by us below.
                    "verify_aud": False,
                    "verify_iss": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("expired_token") from error
        except jwt.ImmatureSignatureError as error:
            raise InvalidToken("token_not_yet_valid") from error
        except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError, jwt.InvalidKeyError) as error:
            raise InvalidToken("bad_signature") from error
        except jwt.PyJWTError as error:
            raise InvalidToken("malformed_token") from error

    def _check_audience(self, aud: object) -> None:
        """Refuse a token whose ``aud`` names another app."""
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(isinstance(a, str) and self._is_our_audience(a) for a in audiences):
            raise InvalidToken("wrong_audience")

    def _is_our_audience(self, aud: str) -> bool:
        if aud == self.audience:
            return True
        # App ID URIs: api://<client id> or api://<host[:port]/path>/<client id>.
        return aud.startswith("api://") and (
            aud == f"api://{self.audience}" or aud.endswith(f"/{self.audience}")
        )

    def _check_issuer(self, claims: Mapping[str, Any], tenant_id: str) -> None:
        """Refuse a token not issued by the authority for the tenant it names."""
        issuers = {
            "2.0": f"{self.authority}/{tenant_id}/v2.0",
            "1.0": f"{self._v1_issuer_base}/{tenant_id}/",
        }
        version = claims.get("ver")
        expected = issuers.get(version) if isinstance(version, str) else None
        if expected is None or claims.get("iss") != expected:
            raise InvalidToken("wrong_issuer")


class _KeySetClient(jwt.PyJWKClient):
    """PyJWKClient whose every failure to get a usable key set is a connection error."""

    def fetch_data(self) -> Any:
        """Fetch the key set; raise `jwt.PyJWKClientConnectionError` for any bad reply."""
        # PyJWKClient raises its plain PyJWKClientError both for "no such kid" and for a reply
        # that is not a JSON object, PyJWKSetError for an empty key set, and lets ValueError
        # (a 200 reply that is not JSON) and OSError (a reset mid-body) escape. Only the first
        # means the token is at fault.
        try:
            return super().fetch_data()
        except jwt.PyJWKClientConnectionError:
            raise
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, OSError, ValueError) as error:
            raise jwt.PyJWKClientConnectionError(
                f"The key set at {self.uri} is unusable: {error}"
            ) from error


def _required_str(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidToken(
            "malformed_token",
            f"The access token has no '{name}' claim, so it does not name a user of an "
            f"organization. Sign in with a work or school account.",
        )
    return value


def _optional_str(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name, "")
    if not isinstance(value, str):
        raise InvalidToken("malformed_token")
    return value


def _first_str(claims: Mapping[str, Any], *names: str) -> str:
    for name in names:
        if value := _optional_str(claims, name):
            return value
    return ""


def _roles(claims: Mapping[str, Any]) -> frozenset[str]:
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("malformed_token")
    return frozenset(roles)
