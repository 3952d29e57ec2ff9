"""Record pages: `get_record` gives a flat dict of fields plus lists of related rows."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_adapters import NotFound
from crm_adapters.models import AttachmentFile, EmailActivity, Party, RecordRef
from crm_adapters.sandbox import SandboxAdapter, SeedReport


def scalars(record: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in record.items() if not isinstance(v, list | dict)}


def test_contact_page(crm: SandboxAdapter, report: SeedReport) -> None:
    record = crm.get_record("contact", report.related_contact_id)
    assert scalars(record) | {"url": ""} == scalars(record) | {"url": ""}
    assert record["name"] == "Giulia Rossi"
    assert record["email1"] == report.single_address
    assert record["company"] == report.account_name
    assert record["url"] == crm.record_url("contact", report.related_contact_id)
    assert [a["id"] for a in record["accounts"]] == [report.account_id]
    assert len(record["emails"]) > 10 and len(record["meetings"]) > 10
    assert record["opportunities"] and record["cases"]
    assert all(row["url"].startswith("http://crm.test/sandbox/env-1/") for row in record["cases"])


def test_contact_with_several_accounts_lists_the_primary_first(
    crm: SandboxAdapter, report: SeedReport
) -> None:
    record = crm.get_record("contact", report.multi_account_contact_id)
    assert record["accounts"][0]["id"] == report.multi_account_ids[0]
    assert {a["id"] for a in record["accounts"]} == set(report.multi_account_ids)


def test_account_page(crm: SandboxAdapter, report: SeedReport) -> None:
    record = crm.get_record("account", report.account_id)
    assert record["name"] == report.account_name
    assert record["country"] == "Italy"
    contacts = {c["id"] for c in record["contacts"]}
    assert {report.related_contact_id, report.multi_account_contact_id} <= contacts
    assert record["opportunities"][0]["name"].startswith(report.account_name)
    assert any(c["ticket_number"] == report.open_case_ticket_number for c in record["cases"])
    assert {a["kind"] for a in record["activities"]} == {"email", "meeting"}
    assert all(a["url"] == crm.record_url(a["kind"], a["id"]) for a in record["activities"])


def test_opportunity_and_case_pages(crm: SandboxAdapter, report: SeedReport) -> None:
    deal = crm.get_record("opportunity", report.open_opportunity_id)
    assert deal["state"] == "open" and deal["amount"] > 0
    assert [a["id"] for a in deal["account"]] == [report.account_id]
    assert [c["id"] for c in deal["contact"]] == [report.related_contact_id]
    case = crm.get_record("case", report.open_case_id)
    assert case["title"] == "Gru bloccata in cantiere"
    assert case["ticket_number"] == report.open_case_ticket_number
    assert case["activities"], "emails were saved against the case"


def test_email_page_lists_parties_regarding_and_attachments(
    crm: SandboxAdapter, report: SeedReport
) -> None:
    saved = crm.save_email(
        EmailActivity(
            message_id="<page-test@mail.example>",
            subject="Delivery plan",
            sender=Party(report.single_address, "Giulia Rossi"),
            sent_at=dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC),
            to=(Party("alex@contoso.example", "Alex"),),
            cc=(Party(report.shared_address),),
            regarding=RecordRef("case", report.open_case_id, ""),
            attachments=(AttachmentFile("plan.pdf", "application/pdf", b"%PDF-1.4 plan"),),
        )
    )
    record = crm.get_record("email", saved.ref.id)
    assert record["subject"] == "Delivery plan" and record["sent_at"] == "2026-01-05 08:00:00"
    assert record["regarding"] == [
        {
            "id": report.open_case_id,
            "name": "Gru bloccata in cantiere",
            "record_type": "case",
            "url": crm.record_url("case", report.open_case_id),
        }
    ]
    parties = {(p["role"], p["address"]): p["url"] for p in record["parties"]}
    assert parties[("from", report.single_address)] == crm.record_url(
        "contact", report.single_contact_id
    )
    assert parties[("to", "alex@contoso.example")] == ""
    assert parties[("cc", report.shared_address)] == ""  # two holders: not guessed
    assert record["attachments"] == [
        {"name": "plan.pdf", "content_type": "application/pdf", "size": 13}
    ]


def test_meeting_page(crm: SandboxAdapter, report: SeedReport) -> None:
    meeting = crm.find_saved(report.upcoming_meeting_message_id)
    assert meeting is not None and meeting.type == "meeting"
    record = crm.get_record("meeting", meeting.id)
    assert record["starts_at"] < record["ends_at"]
    assert record["parties"][0]["role"] == "organizer"


@pytest.mark.parametrize(
    ("record_type", "record_id"),
    [("contact", "no-such-id"), ("planet", "x"), ("meeting", "<email id>"), ("", "")],
)
def test_unknown_records_are_not_found(
    crm: SandboxAdapter, report: SeedReport, record_type: str, record_id: str
) -> None:
    if record_id == "<email id>":
        saved = crm.find_saved(report.saved_email_message_id)
        assert saved is not None
        record_id = saved.id
    with pytest.raises(NotFound, match=record_type or "No"):
        crm.get_record(record_type, record_id)


def test_a_page_is_one_round_trip(crm: SandboxAdapter, report: SeedReport) -> None:
    crm.get_record("account", report.account_id)
    assert crm.round_trips == 1
