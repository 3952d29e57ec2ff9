"""Resolving an open item: every address matched in one CRM call and classified (rules 6-7)."""

from __future__ import annotations

import pytest

from tests.known import sandbox_known


@pytest.fixture
def known(sandbox):
    return sandbox_known(sandbox[1])


def resolve(client, headers, **item):
    answer = client.post("/api/items/resolve", json={"item": item}, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    return body, {a["address"]: a for a in body["addresses"]}


def test_each_address_gets_its_status(client, auth, known):
    body, by = resolve(
        client,
        auth("alex"),
        type="message",
        mailbox="alex@contoso.example",
        **{"from": {"address": known.single_address, "name": "Known"}},
        to=[
            {"address": "alex@contoso.example"},
            {"address": "Stranger@Nowhere.example", "name": "A Stranger"},
        ],
        cc=[
            {"address": known.shared_address},
            {"address": known.second_field_address},
            {"address": "colleague@contoso.example"},
        ],
    )
    assert by[known.single_address]["status"] == "matched"
    assert by[known.single_address]["contacts"][0]["id"] == known.single_contact_id
    assert by[known.second_field_address]["status"] == "matched"
    assert by["stranger@nowhere.example"]["status"] == "unsaved"
    assert by["stranger@nowhere.example"]["name"] == "A Stranger"
    assert by[known.shared_address]["status"] == "ambiguous"
    assert {c["id"] for c in by[known.shared_address]["contacts"]} == known.shared_contact_ids
    # The rep's own address and the organisation's domain are never offered as new contacts.
    assert by["alex@contoso.example"]["status"] == "internal"
    assert by["colleague@contoso.example"]["status"] == "internal"
    assert body["crm_round_trips"] == 1


def test_one_plus_thirty_recipients_cost_one_crm_round_trip(client, auth, known):
    to = [{"address": f"person{i}@partner{i % 7}.example"} for i in range(29)]
    to.append({"address": known.shared_address})
    body, _ = resolve(client, auth(), **{"from": {"address": known.single_address}}, to=to)
    assert len(body["addresses"]) == 31
    assert body["crm_round_trips"] == 1


def test_duplicates_merge_and_keep_every_role(client, auth, known):
    body, by = resolve(
        client,
        auth(),
        **{"from": {"address": known.single_address}},
        to=[{"address": known.single_address.upper()}],
        cc=[{"address": known.single_address}],
    )
    assert len(body["addresses"]) == 1
    assert by[known.single_address]["roles"] == ["from", "to", "cc"]


def test_meeting_organizer_and_attendees(client, auth, known):
    _, by = resolve(
        client,
        auth(),
        type="appointment",
        organizer={"address": known.single_address},
        attendees=[{"address": known.third_field_address}, {"address": "guest@else.example"}],
    )
    assert by[known.single_address]["roles"] == ["organizer"]
    assert by[known.third_field_address]["status"] == "matched"
    assert by["guest@else.example"]["roles"] == ["attendee"]


def test_invalid_addresses_are_reported_not_fatal(client, auth, known):
    body, by = resolve(
        client,
        auth(),
        to=[{"address": "not an address"}, {"address": ""}, {"address": known.single_address}],
    )
    assert [i["address"] for i in body["invalid"]] == ["not an address", ""]
    assert all(i["reason"] for i in body["invalid"])
    assert by[known.single_address]["status"] == "matched"


def test_an_item_with_no_addresses(client, auth):
    body, _ = resolve(client, auth())
    assert body["addresses"] == [] and body["crm_round_trips"] == 0


def test_a_choice_sticks_for_that_rep_only(client, auth, known):
    alex, sam = auth("alex"), auth("sam")
    chosen = sorted(known.shared_contact_ids)[1]
    answer = client.put(
        "/api/choices",
        json={"address": known.shared_address.upper(), "contact_id": chosen},
        headers=alex,
    )
    assert answer.status_code == 200
    assert answer.get_json()["address"] == known.shared_address

    _, by = resolve(client, alex, to=[{"address": known.shared_address}])
    assert by[known.shared_address]["status"] == "matched"
    assert by[known.shared_address]["chosen_contact_id"] == chosen

    _, by = resolve(client, sam, to=[{"address": known.shared_address}])
    assert by[known.shared_address]["status"] == "ambiguous"

    listed = client.get("/api/choices", headers=alex).get_json()["choices"]
    assert [(c["address"], c["contact_id"]) for c in listed] == [(known.shared_address, chosen)]
    assert client.get("/api/choices", headers=sam).get_json()["choices"] == []


def test_choosing_again_replaces_the_choice(client, auth, known):
    rep = auth()
    first, second = sorted(known.shared_contact_ids)
    for contact_id in (first, second):
        client.put(
            "/api/choices",
            json={"address": known.shared_address, "contact_id": contact_id},
            headers=rep,
        )
    _, by = resolve(client, rep, to=[{"address": known.shared_address}])
    assert by[known.shared_address]["chosen_contact_id"] == second


def test_forgetting_a_choice(client, auth, known):
    rep = auth()
    contact_id = sorted(known.shared_contact_ids)[0]
    client.put(
        "/api/choices",
        json={"address": known.shared_address, "contact_id": contact_id},
        headers=rep,
    )
    answer = client.delete(
        "/api/choices", query_string={"address": known.shared_address}, headers=rep
    )
    assert answer.status_code == 204
    _, by = resolve(client, rep, to=[{"address": known.shared_address}])
    assert by[known.shared_address]["status"] == "ambiguous"
    again = client.delete(
        "/api/choices", query_string={"address": known.shared_address}, headers=rep
    )
    assert again.status_code == 404


def test_a_contact_that_does_not_hold_the_address_cannot_be_chosen(client, auth, known):
    answer = client.put(
        "/api/choices",
        json={"address": known.shared_address, "contact_id": known.single_contact_id},
        headers=auth(),
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "contact_not_matching"


def test_choosing_for_an_invalid_address(client, auth):
    answer = client.put("/api/choices", json={"address": "nope", "contact_id": "x"}, headers=auth())
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "invalid_address"
