"""The Salesforce adapter on the wire: round trips, escaping and what a save leaves in the org."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from crm_adapters import NotFound, Rejected, Unavailable
from crm_adapters.models import (
    AttachmentFile,
    ContactDraft,
    EmailActivity,
    MeetingActivity,
    Party,
    RecordRef,
    RecordType,
)
from crm_adapters.salesforce import RetryPolicy, SalesforceAdapter
from tests.emulators.salesforce import SalesforceEmulator

API = "/services/data/v59.0/"


@pytest.fixture
def crm(salesforce: SalesforceEmulator) -> Iterator[SalesforceAdapter]:
    adapter = SalesforceAdapter(
        salesforce.url,
        access_token=salesforce.issue_access_token(),
        refresh=salesforce.issue_access_token,
        verify=salesforce.ca_file,
        retry=RetryPolicy(attempts=2, base_delay=0.01),
    )
    yield adapter
    adapter.close()


@pytest.fixture
def report(seeded_sandbox):
    return seeded_sandbox[1]


def served(salesforce: SalesforceEmulator) -> dict[str, int]:
    """Return what the emulator served since the last look, and forget it."""
    found = {key: count for key, count in salesforce.requests_served.items() if count}
    salesforce.requests_served.clear()
    return found


def relations(salesforce: SalesforceEmulator, email_id: str) -> set[tuple[str, str | None, str]]:
    return {
        (row["RelationType"], row["RelationId"], row["RelationAddress"].lower())
        for row in salesforce.records("EmailMessageRelation")
        if row["EmailMessageId"] == email_id
    }


def an_email(report, **changes) -> EmailActivity:
    values = dict(
        message_id=f"<{uuid.uuid4()}@mail.example>",
        subject="Delivery dates",
        sender=Party(report.single_address, "Giulia Rossi"),
        sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        to=(Party(report.rep_address, "Alex Morgan"),),
        body_html="<p>Friday?</p>",
        regarding=RecordRef(RecordType.ACCOUNT, report.account_id, ""),
    )
    values.update(changes)
    return EmailActivity(**values)


# --- round trips ---------------------------------------------------------------------------------


def test_fifty_addresses_are_one_query(crm, salesforce, report):
    addresses = [f"stranger{i}@nowhere.example" for i in range(48)]
    addresses += [report.single_address, report.shared_address]
    found = crm.match_contacts(addresses)
    assert served(salesforce) == {f"GET {API}query/": 1}
    assert crm.round_trips == 1
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]
    assert {c.id for c in found[report.shared_address]} == set(report.shared_contact_ids)


def test_thousands_of_addresses_are_still_one_round_trip(crm, salesforce, report):
    addresses = [f"person.number{i}@a-long-company-domain.example" for i in range(1500)]
    found = crm.match_contacts([*addresses, report.single_address.upper()])
    assert served(salesforce) == {f"POST {API}composite/batch": 1}
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]
    assert len(found) == 1501


def test_contact_context_is_one_batch(crm, salesforce, report):
    context = crm.contact_context(
        [report.account_contact_id, report.multi_account_contact_id],
        report.related_contact_id,
        related_limit=10,
    )
    assert served(salesforce) == {f"POST {API}composite/batch": 1}
    ids = [account.id for account in context.accounts]
    assert ids[0] == report.account_id  # the first contact's primary account first
    assert set(report.multi_account_ids) <= set(ids)
    assert len(context.related.emails) == 10 and len(context.related.meetings) == 10
    rossi = context.accounts[0]
    assert rossi.opportunities and rossi.cases and rossi.activities
    assert all(a.url.startswith(f"{salesforce.url}/lightning/r/") for a in rossi.activities)


def test_search_is_one_batch_and_forgives_a_typo(crm, salesforce, report):
    name = report.account_name  # "Rossi Costruzioni S.p.A."
    found = crm.search_records("Rosi Costruzioni", [RecordType.ACCOUNT, RecordType.CASE], 5)
    assert served(salesforce) == {f"POST {API}composite/batch": 1}
    assert found[0].name == name and found[0].id == report.account_id
    by_number = crm.search_records(report.open_case_ticket_number, [RecordType.CASE], 5)
    assert [r.id for r in by_number] == [report.open_case_id]
    assert crm.search_records("R", [RecordType.ACCOUNT], 5) == []  # too short: nothing found


def test_save_email_is_a_read_and_a_create_then_only_the_read(crm, salesforce, report):
    activity = an_email(report)
    first = crm.save_email(activity)
    assert served(salesforce) == {
        f"POST {API}composite/batch": 1,
        f"POST {API}sobjects/EmailMessage/": 1,
    }
    again = crm.save_email(activity)
    assert served(salesforce) == {f"POST {API}composite/batch": 1}
    assert (first.created, again.created, again.ref) == (True, False, first.ref)
    assert crm.round_trips == 3


def test_attachments_are_one_more_request(crm, salesforce, report):
    files = (
        AttachmentFile("plan.pdf", "application/pdf", b"%PDF-1.4 plan"),
        AttachmentFile("notes.txt", "text/plain", "Grüße".encode()),
    )
    saved = crm.save_email(an_email(report, attachments=files))
    assert served(salesforce) == {
        f"POST {API}composite/batch": 1,
        f"POST {API}sobjects/EmailMessage/": 1,
        f"POST {API}composite/sobjects": 1,
    }
    stored = {
        row["PathOnClient"]: row
        for row in salesforce.records("ContentVersion")
        if row["FirstPublishLocationId"] == saved.ref.id
    }
    assert set(stored) == {"plan.pdf", "notes.txt"}
    assert stored["notes.txt"]["ContentSize"] == len("Grüße".encode())
    assert saved.skipped_attachments == ()


def test_a_file_salesforce_refuses_is_skipped_and_the_rest_saved(crm, salesforce, report):
    files = (
        AttachmentFile("plan.pdf", "application/pdf", b"%PDF-1.4 plan"),
        AttachmentFile("", "application/octet-stream", b"nameless"),  # PathOnClient required
    )
    saved = crm.save_email(an_email(report, attachments=files))
    assert saved.created and saved.skipped_attachments == ("",)
    kept = [
        row["PathOnClient"]
        for row in salesforce.records("ContentVersion")
        if row["FirstPublishLocationId"] == saved.ref.id
    ]
    assert kept == ["plan.pdf"]


def test_an_email_whose_files_cannot_be_sent_is_not_left_half_saved(crm, salesforce, report):
    activity = an_email(report, attachments=(AttachmentFile("plan.pdf", "", b"%PDF"),))
    salesforce.fail(500, times=1, method="POST", path="composite/sobjects")
    with pytest.raises(Unavailable):
        crm.save_email(activity)
    assert crm.find_saved(activity.message_id) is None
    assert crm.save_email(activity).created  # the worker's retry saves it whole


# --- escaping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "near_misses"),
    [
        ("o'brien+vip@example.com", ["o'brien vip@example.com", "obrien+vip@example.com"]),
        ("back\\slash@example.com", ["back\\\\slash@example.com", "backslash@example.com"]),
        ("100%off@example.com", ["100xoff@example.com", "100%@example.com"]),
        ("under_score@example.com", ["underXscore@example.com", "under%@example.com"]),
    ],
)
def test_addresses_match_exactly_whatever_they_hold(crm, address, near_misses):
    created = crm.create_contact(ContactDraft(last_name="Exact", email=address))
    found = crm.match_contacts([address.upper(), *near_misses])
    assert [c.id for c in found[address.lower()]] == [created.id]
    assert all(found[miss.lower()] == [] for miss in near_misses)


def test_the_seeds_tricky_addresses_match(crm, report):
    found = crm.match_contacts(list(report.tricky_addresses))
    for address, contact_id in report.tricky_addresses.items():
        assert [c.id for c in found[address.lower()]] == [contact_id]


def test_ids_are_data_too(crm):
    assert crm.get_accounts(["x') OR (Id != '"]) == []
    assert crm.find_saved("<x' OR Id != null OR Subject = 'y>") is None


# --- what a save leaves in the org ---------------------------------------------------------------


def test_an_email_relates_to_every_party(crm, salesforce, report):
    activity = an_email(
        report,
        to=(
            Party(report.rep_address, "Alex Morgan"),  # the org's user
            Party(report.second_field_address),  # a contact, by its second email field
            Party("new.person@unknown-company.example", "New Person"),
        ),
        cc=(Party(report.shared_address), Party(report.third_field_address)),
        bcc=(Party("hidden@unknown-company.example"),),
    )
    saved = crm.save_email(activity)
    email = salesforce.record("EmailMessage", saved.ref.id)
    assert email is not None
    assert email["MessageIdentifier"] == activity.message_id
    assert email["RelatedToId"] == report.account_id
    assert (email["Status"], email["Incoming"], email["Subject"]) == ("3", True, activity.subject)
    assert email["ToAddress"] == "new.person@unknown-company.example"
    assert email["CcAddress"] == report.shared_address  # two holders: left as an address
    user_id = salesforce.default_user_id
    found = relations(salesforce, saved.ref.id)
    assert ("ToAddress", user_id, report.rep_address) in found
    assert ("ToAddress", None, "new.person@unknown-company.example") in found
    assert ("CcAddress", None, report.shared_address) in found
    assert ("BccAddress", None, "hidden@unknown-company.example") in found
    assert ("FromAddress", report.single_contact_id, report.single_address) in found
    by_id = {(kind, relation_id) for kind, relation_id, _ in found}
    assert ("ToAddress", report.second_field_contact_id) in by_id
    assert ("CcAddress", report.third_field_contact_id) in by_id
    related = crm.related_activities(report.second_field_contact_id, 10).emails
    assert saved.ref.id in [item.id for item in related]


def test_an_email_against_a_contact_it_involves(crm, salesforce, report):
    contact = RecordRef(RecordType.CONTACT, report.single_contact_id, "")
    saved = crm.save_email(an_email(report, regarding=contact))
    email = salesforce.record("EmailMessage", saved.ref.id)
    assert email is not None and email["RelatedToId"] is None
    stranger = RecordRef(RecordType.CONTACT, report.third_field_contact_id, "")
    before = crm.round_trips
    with pytest.raises(Rejected):
        crm.save_email(an_email(report, regarding=stranger))
    assert crm.round_trips == before + 1  # refused after the read, before any write


def test_an_unknown_regarding_record_is_not_found_and_nothing_is_saved(crm, salesforce, report):
    ghost = RecordRef(RecordType.CASE, "500000000000000AAA", "")
    activity = an_email(report, regarding=ghost)
    with pytest.raises(NotFound):
        crm.save_email(activity)
    assert crm.find_saved(activity.message_id) is None


def meeting(report, **changes) -> MeetingActivity:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    values = dict(
        message_id=f"{uuid.uuid4()}",
        subject="Quarterly review",
        organizer=Party(report.rep_address, "Alex Morgan"),
        start=start,
        end=start + dt.timedelta(hours=1),
        attendees=(
            Party(report.single_address),
            Party(report.second_field_address),
            Party("guest@unknown-company.example"),
        ),
        location="Teams",
        body_html="<p>Agenda</p>",
        regarding=RecordRef(RecordType.ACCOUNT, report.account_id, ""),
    )
    values.update(changes)
    return MeetingActivity(**values)


def test_a_meeting_is_an_event_with_its_relations(crm, salesforce, report):
    activity = meeting(report)
    saved = crm.save_meeting(activity)
    assert served(salesforce) == {
        f"POST {API}composite/batch": 1,
        f"POST {API}sobjects/Event/": 1,
        f"POST {API}composite/sobjects": 1,
    }
    event = salesforce.record("Event", saved.ref.id)
    assert event is not None
    assert event["Sidepane_UID__c"] == activity.message_id
    assert (event["WhatId"], event["WhoId"]) == (report.account_id, report.single_contact_id)
    assert event["Location"] == "Teams" and event["Description"] == "<p>Agenda</p>"
    found = {
        (row["RelationId"], row["IsParent"], row["IsInvitee"])
        for row in salesforce.records("EventRelation")
        if row["EventId"] == saved.ref.id
    }
    assert found == {
        (report.single_contact_id, True, False),  # the WhoId
        (report.second_field_contact_id, False, True),
    }
    assert crm.save_meeting(activity).created is False
    assert served(salesforce) == {f"POST {API}composite/batch": 1}
    for contact_id in (report.single_contact_id, report.second_field_contact_id):
        upcoming = crm.related_activities(contact_id, 10).meetings
        assert saved.ref.id in [m.id for m in upcoming] or len(upcoming) == 10
    assert crm.find_saved(activity.message_id) == saved.ref


def test_a_meeting_whose_invitees_fail_is_not_left_half_saved(crm, salesforce, report):
    activity = meeting(
        report,
        attendees=(
            Party(report.single_address),
            Party("someone@x.example", contact_id="003000000000404AAA"),
        ),
    )
    with pytest.raises(NotFound):
        crm.save_meeting(activity)
    assert crm.find_saved(activity.message_id) is None
    retried = crm.save_meeting(meeting(report, message_id=activity.message_id))
    assert retried.created


def test_a_created_contact_is_as_salesforce_stored_it(crm, salesforce, report):
    draft = ContactDraft(
        first_name="Zofia",
        last_name="Wiśniewska",
        email="Zofia.W@Przyklad.example",
        job_title="Kierownik",
        business_phone="+48 22 123 45 67",
        mobile_phone="+48 600 000 000",
        account_id=report.account_id,
        company=report.account_name,
    )
    contact = crm.create_contact(draft)
    stored = salesforce.record("Contact", contact.id)
    assert stored is not None
    assert (stored["FirstName"], stored["LastName"], stored["Email"]) == (
        "Zofia",
        "Wiśniewska",
        "Zofia.W@Przyklad.example",
    )
    assert (stored["Title"], stored["Phone"], stored["MobilePhone"], stored["AccountId"]) == (
        "Kierownik",
        "+48 22 123 45 67",
        "+48 600 000 000",
        report.account_id,
    )
    [found] = crm.match_contacts([draft.email])[draft.email.lower()]
    assert found == contact


def test_query_pages_are_followed(crm, salesforce, report):
    salesforce.page_size = 1
    found = crm.match_contacts([report.shared_address, report.single_address])
    assert {c.id for c in found[report.shared_address]} == set(report.shared_contact_ids)
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]
    assert crm.round_trips == 3  # the query, then two more pages
