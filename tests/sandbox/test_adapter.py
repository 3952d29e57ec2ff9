"""Sandbox specifics beyond the conformance suite: round trips, linking, ordering, URLs."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crm_adapters import Rejected, load_adapter
from crm_adapters.models import ContactDraft, EmailActivity, MeetingActivity, Party, RecordType
from crm_adapters.sandbox import SandboxAdapter, SeedReport


def test_the_registry_names_the_sandbox() -> None:
    assert load_adapter("sandbox") is SandboxAdapter
    assert SandboxAdapter.capabilities.save_drafts
    assert not SandboxAdapter.capabilities.needs_server_side_sync
    assert RecordType.CASE in SandboxAdapter.capabilities.record_types


def test_thousands_of_addresses_are_one_query(crm: SandboxAdapter, report: SeedReport) -> None:
    addresses = [f"stranger.{n}@nowhere.example" for n in range(40_000)]
    addresses.append(report.third_field_address.upper())
    found = crm.match_contacts(addresses)
    assert crm.round_trips == 1
    assert len(found) == 40_001
    assert [c.id for c in found[report.third_field_address]] == [report.third_field_contact_id]


def test_matched_contacts_carry_their_company(crm: SandboxAdapter, report: SeedReport) -> None:
    found = crm.match_contacts([report.single_address, *report.tricky_addresses])
    giulia = found[report.single_address][0]
    assert giulia.company == report.account_name and giulia.account_id == report.account_id
    assert giulia.url == f"http://crm.test/sandbox/env-1/contact/{giulia.id}"
    siobhan = found["siobhan.o'brien+crm@obrien-consulting.ie"][0]
    assert siobhan.account_id is None and siobhan.company == "O'Brien Consulting"


def test_wildcards_in_addresses_are_exact(crm: SandboxAdapter) -> None:
    found = crm.match_contacts(
        ["100%_sure@wild-cards.co.uk", "100xxsure@wild-cards.co.uk", "100%\\_sure@wild-cards.co.uk"]
    )
    assert [len(v) for v in found.values()] == [1, 0, 0]


def test_unknown_email_field_is_rejected(crm: SandboxAdapter, report: SeedReport) -> None:
    with pytest.raises(Rejected, match="email_fields"):
        crm.match_contacts([report.single_address], email_fields=("email1; DROP TABLE contacts",))


def test_accounts_come_primary_first_with_capped_lists(
    crm: SandboxAdapter, report: SeedReport
) -> None:
    accounts = crm.get_accounts([report.multi_account_contact_id, report.account_contact_id], 1)
    assert [a.id for a in accounts] == list(report.multi_account_ids)
    rossi = next(a for a in accounts if a.id == report.account_id)
    assert len(rossi.opportunities) == len(rossi.cases) == len(rossi.activities) == 1
    assert rossi.opportunities[0].id == report.open_opportunity_id  # closes soonest
    assert rossi.activities[0].when <= dt.datetime.now(dt.UTC)
    assert crm.round_trips == 1


def test_closed_items_are_left_out(crm: SandboxAdapter, report: SeedReport) -> None:
    (rossi,) = crm.get_accounts([report.account_contact_id], limit=10)
    assert {o.stage for o in rossi.opportunities} == {"Propose"}
    assert "Resolved" not in {c.status for c in rossi.cases}
    assert len(rossi.cases) == 2


def test_contact_without_account_has_none(crm: SandboxAdapter, report: SeedReport) -> None:
    assert crm.get_accounts([report.no_account_contact_id]) == []
    assert crm.get_accounts([]) == [] and crm.round_trips == 1


def test_create_contact_links_the_account_by_company_name(
    crm: SandboxAdapter, report: SeedReport
) -> None:
    contact = crm.create_contact(
        ContactDraft(
            last_name="Verdi",
            email="L.Verdi@RossiCostruzioni.it",
            company="rossi costruzioni s.p.a.",
        )
    )
    assert contact.account_id == report.account_id and contact.company == report.account_name
    assert contact.emails == ("l.verdi@rossicostruzioni.it",)
    assert report.account_id in {a.id for a in crm.get_accounts([contact.id])}


def test_create_contact_by_account_id_or_free_text_company(
    crm: SandboxAdapter, report: SeedReport
) -> None:
    linked = crm.create_contact(
        ContactDraft(last_name="Berg", email="b@x.dk", account_id=report.account_id)
    )
    assert linked.company == report.account_name
    loose = crm.create_contact(
        ContactDraft(last_name="Solo", email="s@x.dk", company="Nowhere Ltd")
    )
    assert loose.account_id is None and loose.company == "Nowhere Ltd"
    assert crm.round_trips == 2


def test_saved_meeting_links_attendees_to_contacts(
    crm: SandboxAdapter, report: SeedReport, sandbox: tuple[Path, SeedReport]
) -> None:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    saved = crm.save_meeting(
        MeetingActivity(
            message_id="uid-123",
            subject="Walkthrough",
            organizer=Party("alex@contoso.example"),
            start=start,
            end=start + dt.timedelta(minutes=30),
            attendees=(Party(report.second_field_address.upper()), Party(report.shared_address)),
        )
    )
    with closing(sqlite3.connect(sandbox[0])) as db:
        parties = db.execute(
            "SELECT role, address, contact_id FROM activity_parties WHERE activity_id = ?",
            (saved.ref.id,),
        ).fetchall()
    assert sorted(parties) == sorted(
        [
            ("organizer", "alex@contoso.example", None),
            ("attendee", report.second_field_address, report.second_field_contact_id),
            ("attendee", report.shared_address, None),
        ]
    )
    upcoming = crm.related_activities(report.second_field_contact_id).meetings
    assert upcoming[0].id == saved.ref.id


def test_the_rep_may_name_the_contact_of_a_shared_address(
    crm: SandboxAdapter, report: SeedReport
) -> None:
    chosen = report.shared_contact_ids[1]
    crm.save_email(
        EmailActivity(
            message_id="<chosen@x>",
            subject="Chosen one",
            sender=Party(report.shared_address, contact_id=chosen),
            sent_at=dt.datetime.now(dt.UTC),
        )
    )
    assert "Chosen one" in [e.subject for e in crm.related_activities(chosen, 10).emails]


def test_new_contact_url_is_the_sandbox_form(crm: SandboxAdapter) -> None:
    url = crm.new_contact_url(
        ContactDraft(last_name="Ølgaard", email="a&b=c@x.dk", company="A/S & Co")
    )
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "http://crm.test/sandbox/env-1/contact/new"
    )
    assert parse_qs(parts.query) == {
        "last_name": ["Ølgaard"],
        "email": ["a&b=c@x.dk"],
        "company": ["A/S & Co"],
    }
    assert crm.round_trips == 0


def test_record_url_quotes_ids(crm: SandboxAdapter) -> None:
    assert crm.record_url("case", "a/b c") == "http://crm.test/sandbox/env-1/case/a%2Fb%20c"
