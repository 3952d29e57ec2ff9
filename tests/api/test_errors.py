"""Bad input gets a 4xx with the one JSON error shape, never a 500."""

from __future__ import annotations

import pytest


def assert_error(answer, status: int, code: str | None = None) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    body = answer.get_json()
    assert set(body) == {"error", "message"}
    assert body["message"]
    if code:
        assert body["error"] == code
    return body


def test_malformed_json(client, auth):
    answer = client.post(
        "/api/items/resolve", data="{not json", content_type="application/json", headers=auth()
    )
    assert_error(answer, 400, "invalid_json")


def test_body_that_is_not_json(client, auth):
    answer = client.post("/api/items/resolve", data="item=1", headers=auth())
    assert_error(answer, 415, "unsupported_media_type")


def test_missing_field_is_named(client, auth):
    body = assert_error(client.post("/api/notes", json={"body": "x"}, headers=auth()), 422)
    assert "contact_id" in body["message"]


def test_wrong_type_is_named_with_its_path(client, auth):
    answer = client.post(
        "/api/items/resolve", json={"item": {"to": [{"address": 5}]}}, headers=auth()
    )
    body = assert_error(answer, 422, "invalid_request")
    assert "item.to[0].address" in body["message"]


def test_unknown_field_is_refused(client, auth):
    answer = client.post(
        "/api/notes", json={"contact_id": "c", "body": "b", "x": 1}, headers=auth()
    )
    assert_error(answer, 422, "invalid_request")


def test_oversized_body(client, auth):
    huge = {"contact_id": "c", "body": "x" * (300 * 1024)}
    assert_error(client.post("/api/notes", json=huge, headers=auth()), 413, "body_too_large")


def test_too_many_recipients(client, auth):
    item = {"to": [{"address": f"r{i}@example.com"} for i in range(501)]}
    assert_error(client.post("/api/items/resolve", json={"item": item}, headers=auth()), 422)


def test_unknown_route(client, auth):
    assert_error(client.get("/api/nothing-here", headers=auth()), 404)


def test_wrong_method(client, auth):
    answer = client.put("/api/items/resolve", json={}, headers=auth())
    assert_error(answer, 405, "method_not_allowed")
    assert "POST" in answer.headers["Allow"]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer demo:alex", "Bearer a.b.c"],
)
def test_no_valid_token_no_data(client, header):
    headers = {"Authorization": header} if header else {}
    answer = client.get("/api/me", headers=headers)
    assert_error(answer, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token(client, auth):
    body = assert_error(client.get("/api/me", headers=auth(expires_in=-3600)), 401, "expired_token")
    assert "sign in" in body["message"].lower()


def test_token_for_another_app(client, auth):
    answer = client.get("/api/me", headers=auth(audience="00000000-0000-4000-8000-000000000000"))
    assert_error(answer, 401, "wrong_audience")


def test_token_without_the_scope(client, auth):
    assert_error(client.get("/api/me", headers=auth(scopes=("User.Read",))), 401, "missing_scope")


def test_valid_token_yields_the_identity(client, auth):
    me = client.get("/api/me", headers=auth("alex")).get_json()
    assert me["email"] == "alex@contoso.example"
    assert me["is_admin"] is False
    assert client.get("/api/me", headers=auth("boss", roles=("Sidepane.Admin",))).get_json()[
        "is_admin"
    ]


def test_keys_unavailable_is_503_not_401(client, auth, entra):
    headers = auth(kid="a-key-nobody-has-seen")
    entra.fail_jwks(True)
    try:
        answer = client.get("/api/me", headers=headers)
    finally:
        entra.fail_jwks(False)
    assert_error(answer, 503, "keys_unavailable")


def test_nul_characters_are_refused_everywhere(client, auth):
    body = assert_error(
        client.post("/api/notes", json={"contact_id": "a\x00b", "body": "x"}, headers=auth()), 422
    )
    assert "contact_id" in body["message"] and "NUL" in body["message"]
    answer = client.get("/api/notes", query_string={"contact_id": "a\x00"}, headers=auth())
    assert_error(answer, 422, "invalid_request")
