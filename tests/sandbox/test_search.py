"""Fuzzy record search: typos, diacritics, completions, short queries, types and limits."""

from __future__ import annotations

import pytest

from crm_adapters.models import ContactDraft, RecordType
from crm_adapters.sandbox import SandboxAdapter, SeedReport

ALL = [RecordType.CONTACT, RecordType.ACCOUNT, RecordType.OPPORTUNITY, RecordType.CASE]


def names(
    crm: SandboxAdapter, text: str, types: list[RecordType] = ALL, limit: int = 10
) -> list[str]:
    return [record.name for record in crm.search_records(text, types, limit)]


@pytest.mark.parametrize(
    "typed",
    [
        "Rossi Costruzioni",
        "Rosi Costruzioni",  # a letter missing
        "Rossi Costrusioni",  # a wrong letter
        "Rsosi Costruzioni",  # two letters swapped
        "rossi  COSTRUZIONI spa",  # case, spacing, suffix
        "Costruzioni Rossi",  # order
        "Rossi Costr",  # still typing
    ],
)
def test_the_account_is_found_despite_typos(crm: SandboxAdapter, typed: str) -> None:
    found = crm.search_records(typed, [RecordType.ACCOUNT], limit=3)
    assert found[0].name == "Rossi Costruzioni S.p.A."


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Lukasz Wrobel", "Łukasz Wróbel"),
        ("Łukasz Wróbel", "Łukasz Wróbel"),
        ("lukasz wróbel", "Łukasz Wróbel"),
        ("Soren Ostergaard", "Søren Østergaard"),
        ("Søren Østergård", "Søren Østergaard"),
        ("Jurgen Muller", "Jürgen Müller"),
        ("Siobhan O'Brien", "Siobhán O'Brien"),
        ("Mtete Jesnen", "Mette Jensen"),  # swapped letters share no trigram
    ],
)
def test_diacritics_do_not_matter(crm: SandboxAdapter, typed: str, expected: str) -> None:
    assert names(crm, typed, [RecordType.CONTACT], limit=3)[0] == expected


def test_polish_and_german_company_names(crm: SandboxAdapter) -> None:
    assert names(crm, "Wrobel Logistyka", [RecordType.ACCOUNT])[0] == "Wróbel Logistyka Sp. z o.o."
    assert names(crm, "Mueller Maschinenbau", [RecordType.ACCOUNT])[0] == "Müller Maschinenbau GmbH"


def test_records_of_every_type_come_back_with_links(
    crm: SandboxAdapter, report: SeedReport
) -> None:
    found = crm.search_records("Rossi Costruzioni", ALL, limit=10)
    assert {RecordType.ACCOUNT, RecordType.OPPORTUNITY} <= {r.type for r in found}
    assert all(r.url == crm.record_url(r.type, r.id) for r in found)
    cases = crm.search_records("Gru bloccata cantiere", [RecordType.CASE], limit=1)
    assert [c.id for c in cases] == [report.open_case_id]


def test_types_and_limit_are_respected(crm: SandboxAdapter) -> None:
    found = crm.search_records("Rossi", [RecordType.CONTACT], limit=4)
    assert 0 < len(found) <= 4
    assert {r.type for r in found} == {RecordType.CONTACT}
    assert crm.search_records("Rossi", [RecordType.EMAIL, "planet"], limit=4) == []
    assert crm.search_records("Rossi", ALL, limit=0) == []


def test_short_queries_match_the_start_of_names(crm: SandboxAdapter) -> None:
    found = names(crm, "Ro", [RecordType.ACCOUNT], limit=20)
    assert "Rossi Costruzioni S.p.A." in found
    assert all(name.lower().startswith("ro") for name in found)
    assert all(name.lower().startswith("g") for name in names(crm, "g", [RecordType.CONTACT]))


@pytest.mark.parametrize("text", ["", "  ", "%", "*", "''", "-", '"'])
def test_nothing_to_search_for_costs_nothing(crm: SandboxAdapter, text: str) -> None:
    assert crm.search_records(text, ALL) == []
    assert crm.round_trips == 0


@pytest.mark.parametrize(
    "text", ["rossi AND", "NEAR(rossi)", 'rossi" OR "a', "rossi*", "rossi OR NOT", "{rossi}", "^ro"]
)
def test_query_syntax_is_just_text(crm: SandboxAdapter, text: str) -> None:
    assert isinstance(crm.search_records(text, ALL), list)


def test_nonsense_finds_nothing(crm: SandboxAdapter) -> None:
    assert crm.search_records("xqzvw jjkq", ALL) == []


def test_one_search_is_one_round_trip(crm: SandboxAdapter) -> None:
    crm.search_records("Rosi Costruzioni", ALL)
    assert crm.round_trips == 1


def test_a_new_contact_is_searchable_at_once(crm: SandboxAdapter) -> None:
    contact = crm.create_contact(
        ContactDraft(first_name="Bożydar", last_name="Zgrzebłowicz", email="bz@example.pl")
    )
    found = crm.search_records("Bozydar Zgrzeblowicz", [RecordType.CONTACT], limit=1)
    assert [r.id for r in found] == [contact.id]
    again = crm.create_contact(
        ContactDraft(first_name="Ada", last_name="Zgrzebłowicz", email="a@x.pl")
    )
    found = crm.search_records("Zgrzeblowicz", [RecordType.CONTACT], limit=5)
    assert {r.id for r in found} == {contact.id, again.id}


def test_a_ticket_number_finds_its_case(crm: SandboxAdapter, report: SeedReport) -> None:
    typed = report.open_case_ticket_number.lower()
    assert [r.id for r in crm.search_records(typed, ALL)] == [report.open_case_id]
    assert crm.search_records(report.open_case_ticket_number, [RecordType.ACCOUNT]) == []
