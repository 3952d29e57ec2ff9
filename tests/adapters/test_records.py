"""Conformance: accounts, related items, search and links (rules 8, 11-13)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

import pytest

from crm_adapters import Rejected
from crm_adapters.models import ContactDraft, RecordType


def test_account_with_opportunities_cases_and_activities(adapter, known):
    accounts = adapter.get_accounts([known.account_contact_id])
    assert accounts, "the contact's account is returned"
    account = accounts[0]
    assert account.name
    assert account.url.startswith(("http://", "https://"))
    assert account.opportunities and account.cases and account.activities
    assert all(o.url and o.name for o in account.opportunities)
    assert all(c.url and c.title for c in account.cases)


def test_account_lists_respect_the_limit(adapter, known):
    for account in adapter.get_accounts([known.account_contact_id], limit=1):
        assert len(account.opportunities) <= 1
        assert len(account.cases) <= 1
        assert len(account.activities) <= 1


def test_contact_with_several_accounts_gets_all(adapter, known):
    accounts = adapter.get_accounts([known.multi_account_contact_id])
    assert len({a.id for a in accounts}) >= 2


def test_accounts_of_many_contacts_in_one_round_trip(adapter, known):
    before = adapter.round_trips
    adapter.get_accounts([known.account_contact_id, known.multi_account_contact_id, "no-such-id"])
    assert adapter.round_trips - before == 1


def test_unknown_contacts_have_no_accounts(adapter):
    assert adapter.get_accounts(["no-such-contact"]) == []


def test_related_items_three_then_ten(adapter, known):
    now = dt.datetime.now(dt.UTC)
    three = adapter.related_activities(known.related_contact_id, limit=3)
    assert len(three.emails) == 3 and len(three.meetings) == 3
    ten = adapter.related_activities(known.related_contact_id, limit=10)
    assert len(ten.emails) == 10 and len(ten.meetings) == 10
    assert [e.when for e in ten.emails] == sorted((e.when for e in ten.emails), reverse=True)
    assert [m.when for m in ten.meetings] == sorted(m.when for m in ten.meetings)
    assert all(e.when <= now for e in ten.emails)
    assert all(m.when >= now for m in ten.meetings)
    assert ten.emails[:3] == three.emails
    assert all(item.url for item in (*ten.emails, *ten.meetings))


def test_search_finds_an_account_by_name_and_by_a_typo(adapter, known):
    exact = adapter.search_records(known.account_name, [RecordType.ACCOUNT], limit=5)
    assert exact and exact[0].name == known.account_name
    assert all(r.type == RecordType.ACCOUNT for r in exact)
    name = known.account_name
    typo = name[:3] + name[4:] if len(name) > 6 else name  # drop one letter
    fuzzy = adapter.search_records(typo, [RecordType.ACCOUNT], limit=5)
    assert name in [r.name for r in fuzzy]


def test_search_respects_types_and_limit(adapter, known):
    found = adapter.search_records(
        known.account_name, [RecordType.CONTACT, RecordType.CASE], limit=3
    )
    assert len(found) <= 3
    assert all(r.type in (RecordType.CONTACT, RecordType.CASE) for r in found)


@pytest.mark.parametrize("text", ["", "   ", "' or 1=1 --", "%", "*"])
def test_search_with_nothing_to_search_for_is_harmless(adapter, text):
    assert isinstance(adapter.search_records(text, [RecordType.ACCOUNT], limit=5), list)


def test_create_contact_then_it_matches(adapter):
    draft = ContactDraft(
        first_name="Zofia",
        last_name="Wiśniewska-Kowalczyk",
        email="Zofia.Wisniewska@Przyklad.example",
        job_title="Kierownik sprzedaży",
        business_phone="+48 22 123 45 67",
    )
    contact = adapter.create_contact(draft)
    assert contact.id and contact.last_name == draft.last_name
    assert contact.url.startswith(("http://", "https://"))
    found = adapter.match_contacts([draft.email])
    assert [c.id for c in found[draft.email.lower()]] == [contact.id]


@pytest.mark.parametrize(
    "draft",
    [
        ContactDraft(last_name="", email="someone@example.com"),
        ContactDraft(last_name="Nobody", email=""),
    ],
)
def test_create_contact_refuses_what_the_crm_requires(adapter, draft):
    with pytest.raises(Rejected) as raised:
        adapter.create_contact(draft)
    assert raised.value.reason


def test_new_contact_url_carries_the_draft(adapter):
    draft = ContactDraft(first_name="Jørgen", last_name="Ølgaard", email="j+o@firma.example")
    url = adapter.new_contact_url(draft)
    assert url.startswith(("http://", "https://"))
    assert {"Jørgen", "Ølgaard", "j+o@firma.example"} <= form_values(url)


def form_values(url: str) -> set[str]:
    """Return the values a new-record URL carries, however its CRM nests them."""
    values: set[str] = set()
    for part in urlsplit(url).query.split("&"):
        name, _, raw = part.partition("=")
        value = unquote_plus(raw)
        values.add(value)
        # Dynamics: the form's fields url-encoded once more inside ``extraqs``.
        values |= {nested for _, nested in parse_qsl(value)}
        if name == "defaultFieldValues":
            # Salesforce: ``Field=value,Field=value``, each value percent-encoded on its own.
            values |= {unquote(pair.partition("=")[2]) for pair in raw.split(",")}
    return values


def test_record_url_is_absolute(adapter, known):
    url = adapter.record_url(RecordType.CONTACT, known.single_contact_id)
    assert url.startswith(("http://", "https://"))
    assert known.single_contact_id in url


def test_contact_context_is_one_round_trip(adapter, known):
    before = adapter.round_trips
    context = adapter.contact_context(
        [known.account_contact_id, known.multi_account_contact_id],
        known.related_contact_id,
        related_limit=10,
    )
    assert adapter.round_trips - before == 1
    assert {a.id for a in context.accounts} >= {
        a.id for a in adapter.get_accounts([known.multi_account_contact_id])
    }
    assert len(context.related.emails) == 10 and len(context.related.meetings) == 10
    assert context.related == adapter.related_activities(known.related_contact_id, 10)


def test_contact_context_of_nothing_costs_nothing(adapter):
    before = adapter.round_trips
    context = adapter.contact_context([], None)
    assert adapter.round_trips == before
    assert context.accounts == () and context.related.emails == ()
