"""Private notes: the author reads, changes and deletes them; nobody else ever sees them."""

from __future__ import annotations


def test_note_round_trip(client, auth):
    rep = auth("alex")
    created = client.post(
        "/api/notes", json={"contact_id": "c-1", "body": " Prefers calls "}, headers=rep
    )
    assert created.status_code == 201
    note = created.get_json()
    assert note["body"] == "Prefers calls"
    assert note["contact_id"] == "c-1"

    listed = client.get("/api/notes", query_string={"contact_id": "c-1"}, headers=rep).get_json()
    assert [n["id"] for n in listed["notes"]] == [note["id"]]

    changed = client.patch(f"/api/notes/{note['id']}", json={"body": "Prefers email"}, headers=rep)
    assert changed.status_code == 200
    assert changed.get_json()["body"] == "Prefers email"
    assert client.get(f"/api/notes/{note['id']}", headers=rep).get_json()["body"] == "Prefers email"

    assert client.delete(f"/api/notes/{note['id']}", headers=rep).status_code == 204
    assert client.get(f"/api/notes/{note['id']}", headers=rep).status_code == 404


def test_another_rep_never_sees_or_touches_a_note(client, auth):
    alex, sam = auth("alex"), auth("sam")
    note = client.post(
        "/api/notes", json={"contact_id": "c-1", "body": "mine"}, headers=alex
    ).get_json()

    assert client.get("/api/notes", query_string={"contact_id": "c-1"}, headers=sam).get_json() == {
        "notes": []
    }
    for method in ("get", "delete"):
        answer = getattr(client, method)(f"/api/notes/{note['id']}", headers=sam)
        assert answer.status_code == 404
        assert answer.get_json()["error"] == "note_not_found"
    assert (
        client.patch(f"/api/notes/{note['id']}", json={"body": "x"}, headers=sam).status_code == 404
    )
    # ... and the note is intact for its author.
    assert client.get(f"/api/notes/{note['id']}", headers=alex).get_json()["body"] == "mine"


def test_same_oid_in_another_tenant_is_another_rep(client, auth):
    alex = auth("alex")
    note = client.post(
        "/api/notes", json={"contact_id": "c-1", "body": "mine"}, headers=alex
    ).get_json()
    twin = auth("alex", tenant_id="11111111-2222-4333-8444-555555555555")
    assert client.get(f"/api/notes/{note['id']}", headers=twin).status_code == 404


def test_notes_are_listed_newest_first(client, auth):
    rep = auth()
    ids = [
        client.post(
            "/api/notes", json={"contact_id": "c-2", "body": f"n{i}"}, headers=rep
        ).get_json()["id"]
        for i in range(3)
    ]
    listed = client.get("/api/notes", query_string={"contact_id": "c-2"}, headers=rep).get_json()
    assert [n["id"] for n in listed["notes"]] == list(reversed(ids))


def test_blank_note_is_refused(client, auth):
    answer = client.post("/api/notes", json={"contact_id": "c-1", "body": "   "}, headers=auth())
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "empty_note"


def test_listing_needs_a_contact(client, auth):
    answer = client.get("/api/notes", headers=auth())
    assert answer.status_code == 422
    assert "contact_id" in answer.get_json()["message"]
