"""Who is calling: every API request carries a bearer token, validated before any view runs.

Production tokens are Entra access tokens for the add-in (see `addin.identity`). In demo mode,
and only there (loopback-bound, checked at start and on every request), a token of the form
``demo:<name>`` signs the caller in as the demo rep ``<name>`` of the demo tenant, so the dev
harness can play several reps without an identity provider.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, g, request

from .config import is_loopback
from .errors import ApiError
from .identity import Identity, InvalidToken, TokenValidator

DEMO_TENANT = "00000000-0000-4000-8000-00000000demo"
DEMO_TOKEN = re.compile(r"demo:([a-z][a-z0-9-]{0,31})")
ADMIN_ROLE = "Sidepane.Admin"
#: The demo organisation's mail domain (the sandbox's seed writes its reps' mail there too).
DEMO_DOMAIN = "contoso.example"


def current_identity() -> Identity:
    """Return the identity of the caller of this request."""
    identity: Identity = g.identity
    return identity


def authenticate() -> None:
    """Validate the request's bearer token and remember the identity; refuse without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing_token", "Sign in first: this call needs a bearer token.")
    token = token.strip()
    if current_app.config["DEMO"]:
        g.identity = _demo_identity(token)
        return
    validator: TokenValidator = current_app.extensions["token_validator"]
    try:
        g.identity = validator.validate(token)
    except InvalidToken as error:
        if error.code == "keys_unavailable":
            raise ApiError(503, error.code, error.message, {"Retry-After": "30"}) from None
        raise _unauthorized(error.code, error.message) from None


def _demo_identity(token: str) -> Identity:
    match = DEMO_TOKEN.fullmatch(token)
    if match is None:
        raise _unauthorized(
            "malformed_token", "In demo mode the token is 'demo:<name>', e.g. 'demo:alex'."
        )
    if not is_loopback(request.remote_addr or ""):
        raise ApiError(403, "demo_loopback_only", "The demo identity only works on this machine.")
    name = match.group(1)
    return Identity(
        tenant_id=DEMO_TENANT,
        user_oid=f"demo-{name}",
        email=f"{name}@{DEMO_DOMAIN}",
        name=name.capitalize(),
        roles=frozenset({ADMIN_ROLE}) if name == "admin" else frozenset(),
        scopes=frozenset({"access_as_user"}),
    )


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, {"WWW-Authenticate": f'Bearer error="{code}"'})


def init_app(app: Flask) -> None:
    """Build the token validator once; demo mode needs none."""
    if app.config["DEMO"]:
        return
    tenants = app.config["ALLOWED_TENANTS"]
    app.extensions["token_validator"] = TokenValidator(
        authority=app.config["ENTRA_AUTHORITY"],
        audience=app.config["API_AUDIENCE"],
        allowed_tenants=tenants if tenants else None,
        ca_file=app.config["CA_FILE"],
    )
