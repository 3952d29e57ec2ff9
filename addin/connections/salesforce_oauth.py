"""Salesforce's OAuth 2.0 web-server flow with PKCE: the app's side of the wire.

Features
--------
* `SalesforceApp.authorize_url` sends the rep to the production or the sandbox login host (only
  the two configured ones, never a host from a request) with ``state`` and an S256 PKCE
  challenge; `exchange_code` trades the code and the verifier for tokens.
* `refresh` gets a new access token with the refresh token (Salesforce keeps the refresh token);
  ``invalid_grant`` means the rep revoked it or an admin did: `NotSignedIn`, sign in again.
* `revoke` revokes the refresh token (and with it every access token) when the rep signs out.
* The instance URL and the org come from the token answer of the configured login host; they
  are kept with the tokens and are the only Salesforce URLs the app calls for that rep (rule 5).

Configuration
-------------
SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET   the connected app's consumer key and secret.
SALESFORCE_LOGIN_URL          https://login.salesforce.com (production orgs).
SALESFORCE_SANDBOX_LOGIN_URL  https://test.salesforce.com (sandboxes).
BASE_URL                      the callback is ``{BASE_URL}/sign-in/salesforce/callback``
                              (register it in the connected app).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import requests

from crm_adapters.errors import NotSignedIn, Rejected, Unavailable

from .entra import CaBundleSession

log = logging.getLogger(__name__)

Login = Literal["production", "sandbox"]
LOGINS: tuple[Login, ...] = ("production", "sandbox")
#: What Sidepane asks for: the REST API, and a refresh token so workers can save later.
SCOPES = "api refresh_token"


@dataclass(frozen=True, slots=True)
class SalesforceTokens:
    """A rep's Salesforce sign-in, as kept (sealed) in the store."""

    access_token: str
    refresh_token: str
    instance_url: str
    org_id: str
    user_id: str
    login: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> SalesforceTokens | None:
        try:
            values = json.loads(text)
            return cls(**{name: str(values[name]) for name in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError):
            return None


def new_verifier() -> str:
    """Return a fresh PKCE code verifier (86 characters of the allowed alphabet)."""
    return secrets.token_urlsafe(64)


def pkce_challenge(verifier: str) -> str:
    """Return the S256 challenge of a PKCE verifier: base64url SHA-256, no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class SalesforceApp:
    """The connected app, and the two login hosts reps may choose between."""

    client_id: str
    client_secret: str
    login_urls: Mapping[str, str]
    redirect_uri: str
    ca_file: str | None = None
    timeout: float = 15

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SalesforceApp:
        return cls(
            client_id=config["SALESFORCE_CLIENT_ID"],
            client_secret=config["SALESFORCE_CLIENT_SECRET"],
            login_urls={
                "production": config["SALESFORCE_LOGIN_URL"].rstrip("/"),
                "sandbox": config["SALESFORCE_SANDBOX_LOGIN_URL"].rstrip("/"),
            },
            redirect_uri=f"{config['BASE_URL']}/sign-in/salesforce/callback",
            ca_file=config.get("CA_FILE"),
        )

    def login_url(self, login: str) -> str:
        if login not in LOGINS:
            raise ValueError(f"unknown Salesforce login {login!r}")
        return self.login_urls[login]

    def authorize_url(self, login: str, state: str, challenge: str) -> str:
        """Return the login host's authorize URL for this sign-in."""
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "login consent",
        }
        return f"{self.login_url(login)}/services/oauth2/authorize?{urlencode(query)}"

    def exchange_code(self, login: str, code: str, verifier: str) -> SalesforceTokens:
        """Trade the authorization code for the rep's tokens."""
        answer = self._token_request(
            login,
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
        )
        instance_url = str(answer.get("instance_url", "")).rstrip("/")
        identity = str(answer.get("id", ""))
        parts = urlsplit(identity).path.strip("/").split("/")
        if urlsplit(instance_url).scheme != "https" or len(parts) < 3 or parts[0] != "id":
            raise Unavailable("Salesforce answered the sign-in with something Sidepane cannot use.")
        if not answer.get("refresh_token"):
            raise Rejected(
                "Salesforce did not grant a refresh token. Ask your Salesforce admin to allow "
                "the 'refresh_token' scope for Sidepane's connected app."
            )
        return SalesforceTokens(
            access_token=str(answer["access_token"]),
            refresh_token=str(answer["refresh_token"]),
            instance_url=instance_url,
            org_id=parts[1],
            user_id=parts[2],
            login=login,
        )

    def refresh(self, tokens: SalesforceTokens) -> SalesforceTokens:
        """Return the tokens with a new access token, or raise `NotSignedIn` when revoked."""
        answer = self._token_request(
            tokens.login,
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        return SalesforceTokens(
            access_token=str(answer["access_token"]),
            refresh_token=str(answer.get("refresh_token") or tokens.refresh_token),
            instance_url=tokens.instance_url,
            org_id=tokens.org_id,
            user_id=tokens.user_id,
            login=tokens.login,
        )

    def revoke(self, tokens: SalesforceTokens) -> None:
        """Revoke the refresh token (and its access tokens); a failure is logged, not raised."""
        try:
            with CaBundleSession(self.ca_file) as session:
                session.post(
                    f"{self.login_url(tokens.login)}/services/oauth2/revoke",
                    data={"token": tokens.refresh_token},
                    timeout=self.timeout,
                ).close()
        except requests.RequestException as error:
            log.warning("Revoking a Salesforce token failed: %s", type(error).__name__)

    def _token_request(self, login: str, form: Mapping[str, str]) -> dict[str, Any]:
        url = f"{self.login_url(login)}/services/oauth2/token"
        try:
            with CaBundleSession(self.ca_file) as session:
                response = session.post(url, data=dict(form), timeout=self.timeout)
                status, text = response.status_code, response.text
        except requests.RequestException as error:
            log.warning("Salesforce sign-in did not answer: %s", type(error).__name__)
            raise Unavailable(
                "Salesforce does not answer right now. Try again in a moment."
            ) from None
        try:
            answer: dict[str, Any] = json.loads(text)
        except ValueError:
            answer = {}
        if status == 200 and answer.get("access_token"):
            return answer
        refusal = str(answer.get("error", ""))
        log.info("Salesforce refused a token request: %s (%s)", refusal, status)
        if refusal in {"invalid_grant", "invalid_request"} and status < 500:
            raise NotSignedIn(
                "Your Salesforce sign-in has expired or was revoked. Sign in to Salesforce again."
            )
        if refusal in {"invalid_client", "invalid_client_id", "redirect_uri_mismatch"}:
            raise Rejected(
                "Sidepane's connected app in Salesforce is not set up right (consumer key, "
                "secret or callback URL). Tell your administrator."
            )
        raise Unavailable("Salesforce could not sign you in right now. Try again in a moment.")
