"""TokenValidator against the loopback Entra emulator: real TLS, real JWKS, real RS256 tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from addin.identity import TOKEN_ERROR_CODES, Identity, InvalidToken, TokenValidator
from tests.emulators.entra import EntraEmulator, new_rsa_key
from tests.emulators.loopback import Reply, Request

AUDIENCE = "0b7d6a51-3c2e-4f1a-9d8b-5e6f7a8b9c0d"
TENANT = "3f9e8d7c-6b5a-4e3d-8c2b-1a0f9e8d7c6b"
OTHER_TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
OID = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
KEYS = f"GET {EntraEmulator.JWKS_PATH}"


@pytest.fixture
def validator(entra: EntraEmulator) -> TokenValidator:
    return TokenValidator(authority=entra.url, audience=AUDIENCE, ca_file=entra.ca_file)


@pytest.fixture
def own_entra() -> Iterator[EntraEmulator]:
    """Start an emulator of the test's own, for tests that rotate keys or break the JWKS."""
    with EntraEmulator() as emulator:
        yield emulator


def issue(entra: EntraEmulator, **overrides: Any) -> str:
    claims: dict[str, Any] = {"tenant_id": TENANT, "oid": OID, "audience": AUDIENCE}
    return entra.issue_token(**(claims | overrides))


def refusal(validator: TokenValidator, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        validator.validate(token)
    assert caught.value.code in TOKEN_ERROR_CODES
    if token:
        assert token not in caught.value.message
    return caught.value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(token: str, header: dict[str, Any], sign: Callable[[bytes], bytes] | None) -> str:
    """Return ``token``'s payload under a new header, signed by ``sign`` (None: unsigned)."""
    payload = token.split(".")[1]
    signing_input = f"{_b64(json.dumps(header).encode())}.{payload}"
    signature = _b64(sign(signing_input.encode())) if sign else ""
    return f"{signing_input}.{signature}"


def test_valid_v2_token_yields_identity(entra: EntraEmulator, validator: TokenValidator) -> None:
    token = issue(
        entra,
        roles=("Sidepane.Admin",),
        scopes=("access_as_user", "Other.Scope"),
        email="alex@contoso.example",
        name="Alex Wilber",
    )

    identity = validator.validate(token)

    assert identity == Identity(
        tenant_id=TENANT,
        user_oid=OID,
        email="alex@contoso.example",
        name="Alex Wilber",
        roles=frozenset({"Sidepane.Admin"}),
        scopes=frozenset({"access_as_user", "Other.Scope"}),
    )
    assert identity.is_admin


@pytest.mark.parametrize("audience", [f"api://localhost:3000/{AUDIENCE}", f"api://{AUDIENCE}"])
def test_v1_token_with_app_id_uri_audience_is_accepted(
    entra: EntraEmulator, validator: TokenValidator, audience: str
) -> None:
    token = issue(entra, version="1.0", audience=audience, email="ben@contoso.example")

    identity = validator.validate(token)

    assert (identity.tenant_id, identity.user_oid) == (TENANT, OID)
    assert identity.email == "ben@contoso.example"  # from upn: v1 tokens have no preferred_username
    assert not identity.is_admin


def test_expiry_within_leeway_is_accepted(entra: EntraEmulator, validator: TokenValidator) -> None:
    assert validator.validate(issue(entra, expires_in=-30)).user_oid == OID


@pytest.mark.parametrize(
    ("code", "overrides"),
    [
        pytest.param("expired_token", {"expires_in": -120}, id="expired"),
        pytest.param("token_not_yet_valid", {"not_before": 600}, id="not-yet-valid"),
        pytest.param("wrong_audience", {"audience": OTHER_TENANT}, id="other-app"),
        pytest.param("wrong_audience", {"audience": "api://x/other"}, id="other-app-id-uri"),
        pytest.param("wrong_audience", {"audience": f"{AUDIENCE}x"}, id="audience-prefix"),
        pytest.param("missing_scope", {"scopes": ("Mail.Read",)}, id="missing-scope"),
        pytest.param("missing_scope", {"scopes": ()}, id="no-scp"),
        pytest.param("malformed_token", {"extra_claims": {"oid": None}}, id="no-oid"),
        pytest.param("malformed_token", {"extra_claims": {"tid": None}}, id="no-tid"),
        pytest.param("malformed_token", {"extra_claims": {"exp": None}}, id="no-exp"),
        pytest.param("wrong_issuer", {"extra_claims": {"ver": "3.0"}}, id="unknown-version"),
    ],
)
def test_claim_failures_have_their_code(
    entra: EntraEmulator,
    validator: TokenValidator,
    caplog: pytest.LogCaptureFixture,
    code: str,
    overrides: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    token = issue(entra, **overrides)

    assert refusal(validator, token).code == code
    assert token not in caplog.text


@pytest.mark.parametrize(
    "issuer",
    [
        pytest.param("{url}/{other}/v2.0", id="other-tenant"),
        pytest.param("https://login.microsoftonline.com/{tid}/v2.0", id="other-authority"),
        pytest.param("{url}/{tid}/", id="v1-issuer-on-v2-token"),
    ],
)
def test_wrong_issuer(entra: EntraEmulator, validator: TokenValidator, issuer: str) -> None:
    iss = issuer.format(url=entra.url, tid=TENANT, other=OTHER_TENANT)

    assert refusal(validator, issue(entra, extra_claims={"iss": iss})).code == "wrong_issuer"


def test_alg_none_is_refused(entra: EntraEmulator, validator: TokenValidator) -> None:
    token = forge(issue(entra), {"alg": "none", "typ": "JWT", "kid": entra.current_kid}, None)
    fetched = entra.requests_served[KEYS]

    assert refusal(validator, token).code == "bad_signature"
    assert entra.requests_served[KEYS] == fetched  # refused on the header alone


def test_hs256_signed_with_the_public_key_is_refused(
    entra: EntraEmulator, validator: TokenValidator
) -> None:
    public_pem = entra.current_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": entra.current_kid}
    token = forge(
        issue(entra), header, lambda data: hmac.new(public_pem, data, hashlib.sha256).digest()
    )
    fetched = entra.requests_served[KEYS]

    assert refusal(validator, token).code == "bad_signature"
    assert entra.requests_served[KEYS] == fetched  # refused on the header alone


def test_key_not_in_jwks_is_unknown(entra: EntraEmulator, validator: TokenValidator) -> None:
    token = issue(entra, signing_key=new_rsa_key())

    assert refusal(validator, token).code == "unknown_key"


def test_other_key_under_a_published_kid_is_a_bad_signature(
    entra: EntraEmulator, validator: TokenValidator
) -> None:
    token = issue(entra, signing_key=new_rsa_key(), kid=entra.current_kid)

    assert refusal(validator, token).code == "bad_signature"


def test_tampered_payload_is_a_bad_signature(
    entra: EntraEmulator, validator: TokenValidator
) -> None:
    header, payload, signature = issue(entra).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["oid"] = "00000000-0000-4000-8000-000000000000"

    token = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"

    assert refusal(validator, token).code == "bad_signature"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "missing_token"),
        ("   ", "missing_token"),
        ("not a token", "malformed_token"),
        ("a.b.c", "malformed_token"),
        ("eyJhbGciOiJSUzI1NiJ9.e30.", "malformed_token"),  # RS256 but no kid
    ],
)
def test_garbage_is_refused_without_fetching_keys(
    entra: EntraEmulator, validator: TokenValidator, token: str, code: str
) -> None:
    fetched = entra.requests_served[KEYS]

    assert refusal(validator, token).code == code
    assert entra.requests_served[KEYS] == fetched


def test_keys_are_fetched_once_and_cached(own_entra: EntraEmulator) -> None:
    validator = TokenValidator(
        authority=own_entra.url, audience=AUDIENCE, ca_file=own_entra.ca_file
    )

    for _ in range(3):
        validator.validate(issue(own_entra))

    assert own_entra.requests_served[KEYS] == 1


def test_rotated_key_validates_after_one_refetch(own_entra: EntraEmulator) -> None:
    validator = TokenValidator(
        authority=own_entra.url,
        audience=AUDIENCE,
        ca_file=own_entra.ca_file,
        jwks_refresh_cooldown=0,
    )
    old_token = issue(own_entra)
    validator.validate(old_token)

    own_entra.rotate_key()
    validator.validate(issue(own_entra))
    validator.validate(old_token)  # the old key is still published

    assert own_entra.requests_served[KEYS] == 2


def test_unknown_kids_refetch_at_most_once_per_cooldown(own_entra: EntraEmulator) -> None:
    validator = TokenValidator(
        authority=own_entra.url, audience=AUDIENCE, ca_file=own_entra.ca_file
    )
    validator.validate(issue(own_entra))

    own_entra.rotate_key()
    for _ in range(3):
        assert refusal(validator, issue(own_entra)).code == "unknown_key"

    # PyJWKClient counts its cooldown from the last fetch, the first one included.
    assert own_entra.requests_served[KEYS] == 1


def test_jwks_down_means_keys_unavailable(own_entra: EntraEmulator) -> None:
    validator = TokenValidator(
        authority=own_entra.url, audience=AUDIENCE, ca_file=own_entra.ca_file
    )
    own_entra.fail_jwks(True)

    assert refusal(validator, issue(own_entra)).code == "keys_unavailable"

    own_entra.fail_jwks(False)
    assert validator.validate(issue(own_entra)).user_oid == OID


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>Sign in to the guest Wi-Fi</html>", id="not-json"),
        pytest.param(["not", "an", "object"], id="not-an-object"),
        pytest.param({"keys": []}, id="no-keys"),
        pytest.param({"keys": [{"kty": "RSA", "kid": "k"}]}, id="unusable-key"),
    ],
)
def test_unusable_key_set_means_keys_unavailable(body: object) -> None:
    class BrokenKeys(EntraEmulator):
        def keys(self, request: Request) -> Reply:
            return Reply(200, body)

    with BrokenKeys() as broken:
        validator = TokenValidator(authority=broken.url, audience=AUDIENCE, ca_file=broken.ca_file)

        assert refusal(validator, issue(broken)).code == "keys_unavailable"


def test_cached_keys_outlive_a_jwks_outage(own_entra: EntraEmulator) -> None:
    validator = TokenValidator(
        authority=own_entra.url, audience=AUDIENCE, ca_file=own_entra.ca_file
    )
    validator.validate(issue(own_entra))
    own_entra.fail_jwks(True)

    assert validator.validate(issue(own_entra)).user_oid == OID


def test_untrusted_tls_certificate_means_keys_unavailable(entra: EntraEmulator) -> None:
    validator = TokenValidator(authority=entra.url, audience=AUDIENCE)  # system CAs only

    assert refusal(validator, issue(entra)).code == "keys_unavailable"


def test_requests_ca_bundle_variables_do_not_interfere(
    entra: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The build machines point both at the system bundle, which lacks the emulator's CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    validator = TokenValidator(authority=entra.url, audience=AUDIENCE, ca_file=entra.ca_file)

    assert validator.validate(issue(entra)).user_oid == OID


@pytest.mark.parametrize(("tenant", "allowed"), [(TENANT, True), (OTHER_TENANT, False)])
def test_tenant_allow_list(entra: EntraEmulator, tenant: str, allowed: bool) -> None:
    validator = TokenValidator(
        authority=entra.url,
        audience=AUDIENCE,
        ca_file=entra.ca_file,
        allowed_tenants=[TENANT.upper()],
    )
    token = issue(entra, tenant_id=tenant)

    if allowed:
        assert validator.validate(token).tenant_id == tenant
    else:
        assert refusal(validator, token).code == "tenant_not_allowed"


def test_authority_must_be_https() -> None:
    with pytest.raises(ValueError, match="https"):
        TokenValidator(authority="http://127.0.0.1:8080", audience=AUDIENCE)
