"""Conformance: matching addresses to contacts (rules 6-7)."""

from __future__ import annotations

import pytest

from crm_adapters.models import ContactDraft


def ids(contacts) -> set[str]:
    return {c.id for c in contacts}


def test_first_field_match(adapter, known):
    found = adapter.match_contacts([known.single_address])
    assert ids(found[known.single_address]) == {known.single_contact_id}
    contact = found[known.single_address][0]
    assert known.single_address in [e.lower() for e in contact.emails]
    assert contact.last_name
    assert contact.url.startswith(("http://", "https://"))
    assert contact.crm == adapter.name


def test_every_email_field_is_searched_by_default(adapter, known):
    found = adapter.match_contacts([known.second_field_address, known.third_field_address])
    assert ids(found[known.second_field_address]) == {known.second_field_contact_id}
    assert ids(found[known.third_field_address]) == {known.third_field_contact_id}


def test_admin_can_narrow_the_fields(adapter, known):
    addresses = [known.single_address, known.second_field_address, known.third_field_address]
    found = adapter.match_contacts(addresses, email_fields=("email1",))
    assert ids(found[known.single_address]) == {known.single_contact_id}
    assert found[known.second_field_address] == []
    assert found[known.third_field_address] == []


def test_shared_address_gives_every_holder(adapter, known):
    found = adapter.match_contacts([known.shared_address])
    assert ids(found[known.shared_address]) == set(known.shared_contact_ids)


def test_case_does_not_matter_and_keys_are_lower_case(adapter, known):
    shouted = known.single_address.upper()
    found = adapter.match_contacts([shouted])
    assert list(found) == [known.single_address]
    assert ids(found[known.single_address]) == {known.single_contact_id}


def test_unknown_address_is_a_key_with_no_contacts(adapter):
    assert adapter.match_contacts(["nobody-at-all@nowhere.example"]) == {
        "nobody-at-all@nowhere.example": []
    }


def test_many_addresses_cost_one_round_trip(adapter, known):
    addresses = [f"stranger{i}@nowhere.example" for i in range(48)]
    addresses += [known.single_address, known.shared_address]
    before = adapter.round_trips
    found = adapter.match_contacts(addresses)
    assert adapter.round_trips - before == 1
    assert set(found) == {a.lower() for a in addresses}
    assert ids(found[known.single_address]) == {known.single_contact_id}
    assert len(found[known.shared_address]) == 2


def test_quotes_and_plus_are_data_not_syntax(adapter):
    tricky = "o'brien+vip@example.com"
    created = adapter.create_contact(
        ContactDraft(last_name="O'Brien", first_name="Seán", email=tricky)
    )
    found = adapter.match_contacts([tricky, "o'brien@example.com", "o'brien vip@example.com"])
    assert ids(found[tricky]) == {created.id}
    assert found["o'brien@example.com"] == []
    assert found["o'brien vip@example.com"] == []


@pytest.mark.parametrize(
    "hostile",
    [
        "x' or '1'='1@example.com",
        "%@example.com",
        "_@example.com",
        "*@example.com",
        "a\\'b@example.com",
        "') or 1 eq 1 or ('@example.com",
        'a"b@example.com',
    ],
)
def test_query_syntax_in_an_address_injects_nothing(adapter, hostile):
    assert adapter.match_contacts([hostile]) == {hostile.lower(): []}


def test_no_addresses_no_work(adapter):
    before = adapter.round_trips
    assert adapter.match_contacts([]) == {}
    assert adapter.round_trips == before
