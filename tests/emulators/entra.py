"""Loopback Microsoft Entra ID: OpenID discovery and signing keys over TLS, and real RS256 tokens.

Endpoints
---------
GET /{tenant}/v2.0/.well-known/openid-configuration
    issuer ``{url}/{tenant}/v2.0`` (``{url}/{tenantid}/v2.0`` literally for common,
    organizations and consumers, as Entra does), ``jwks_uri``, ``authorization_endpoint`` and
    ``token_endpoint`` (msal needs both, https).
GET /common/discovery/v2.0/keys
    the JWKS: ``kid``, ``kty``, ``use``, ``alg``, ``n``, ``e`` per key, current key first.

The token endpoint (on-behalf-of grant) and admin consent are not served yet: each will be one
handler method plus one `Route` line in ``EntraEmulator.ROUTES``.

Tokens
------
``issue_token`` signs RS256 access tokens shaped like Entra's v2 (``ver`` 2.0, issuer
``{url}/{tid}/v2.0``, ``preferred_username``) or v1 (``ver`` 1.0, issuer ``{url}/{tid}/``,
``upn``/``unique_name``) tokens for an Office add-in's ``access_as_user`` scope.

Faults and keys
---------------
``rotate_key()`` publishes a new current key; ``fail_jwks(True)`` makes the keys endpoint answer
503 until ``fail_jwks(False)``. ``requests_served`` counts calls per ``"METHOD /path"``.

Run by hand: ``python -m tests.emulators.entra --port 8443`` prints the URL and the CA file
(``--audience <app id>`` also prints a token for it, good for an hour).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import secrets
import signal
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .loopback import LoopbackServer, Reply, Request, Route

# The client id Office uses when it asks Entra for an add-in's SSO token (Office's "azp").
OFFICE_CLIENT_ID = "ea5a67f6-b6f3-4338-b240-c655ddc3cc8e"
_MULTI_TENANT_ALIASES = frozenset({"common", "organizations", "consumers"})


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


class EntraEmulator(LoopbackServer):
    """Microsoft Entra ID on 127.0.0.1: discovery, signing keys, and tokens it signs."""

    name = "Entra emulator"
    JWKS_PATH = "/common/discovery/v2.0/keys"
    ROUTES = (
        Route("GET", "/{tenant}/v2.0/.well-known/openid-configuration", "openid_configuration"),
        Route("GET", JWKS_PATH, "keys"),
    )

    def __init__(self, *, port: int = 0) -> None:
        super().__init__(port=port)
        self._state_lock = threading.Lock()
        self._keys: list[SigningKey] = [SigningKey.generate()]
        self._jwks_failing = False

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
    args = parser.parse_args(argv)
    with EntraEmulator(port=args.port) as emulator:
        print(f"Entra emulator: {emulator.url}", flush=True)
        print(f"CA file:        {emulator.ca_file}", flush=True)
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
