"""The dev harness's sample items: their Office.js shape, determinism, and what the sandbox CRM
and the signature reader make of them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from addin.harness.samples import FOLDERS, ITEM_SCHEMA, Sample, build_samples
from addin.signature import read_signature
from crm_adapters.sandbox import SandboxAdapter, SeedReport

REP_ADDRESS = "alex@contoso.example"
REP_NAME = "Alex Morgan"
NOW = datetime(2025, 3, 4, 10, 15, 30, tzinfo=UTC)
REQUIRED_KEYS = {
    "known-sender",
    "many-recipients",
    "unknown-signature",
    "two-matches",
    "second-field",
    "meeting",
    "draft",
    "shared-mailbox",
    "italian",
    "danish",
    "polish",
}
SIGNATURE_KEYS = ("unknown-signature", "italian", "danish", "polish")
PEOPLE_KEYS = ("to", "cc", "bcc", "requiredAttendees", "optionalAttendees")
VALIDATOR = Draft202012Validator(ITEM_SCHEMA)


def build(report: SeedReport, now: datetime = NOW) -> list[Sample]:
    return build_samples(report, rep_address=REP_ADDRESS, rep_name=REP_NAME, now=now)


@pytest.fixture(scope="module")
def report(seeded_sandbox: tuple[Path, SeedReport]) -> SeedReport:
    return seeded_sandbox[1]


@pytest.fixture(scope="module")
def samples(report: SeedReport) -> dict[str, Sample]:
    return {sample.key: sample for sample in build(report)}


@pytest.fixture(scope="module")
def crm(seeded_sandbox: tuple[Path, SeedReport]) -> Iterator[SandboxAdapter]:
    adapter = SandboxAdapter(
        seeded_sandbox[0], base_url="http://127.0.0.1:8000", environment_id="sandbox"
    )
    yield adapter
    adapter.close()


def people(item: dict[str, Any]) -> list[dict[str, str]]:
    """Everyone in the item: from or organizer, then the recipients or attendees."""
    found = [item[key] for key in ("from", "organizer") if key in item]
    for key in PEOPLE_KEYS:
        found.extend(item.get(key, []))
    return found


def addresses(item: dict[str, Any]) -> list[str]:
    return [person["emailAddress"] for person in people(item)]


def matches(crm: SandboxAdapter, item_addresses: list[str]) -> dict[str, list[str]]:
    """Address (lower-cased) -> ids of the contacts holding it in any email field."""
    found = crm.match_contacts(item_addresses, ("email1", "email2", "email3"))
    return {address: sorted(c.id for c in contacts) for address, contacts in found.items()}


def known_addresses(report: SeedReport) -> set[str]:
    return {
        report.single_address,
        report.second_field_address,
        report.third_field_address,
        report.shared_address,
        *report.tricky_addresses,
    }


# --- The list ---------------------------------------------------------------------------------


def test_keys_are_unique_and_include_the_issue_list(report: SeedReport) -> None:
    keys = [sample.key for sample in build(report)]
    assert len(keys) == len(set(keys))
    assert set(keys) >= REQUIRED_KEYS
    assert all(key == key.lower() and " " not in key for key in keys)


def test_folders_and_summaries(samples: dict[str, Sample]) -> None:
    for sample in samples.values():
        assert sample.folder in FOLDERS
        assert sample.summary.strip() and "\n" not in sample.summary
    assert {s.folder for s in samples.values()} == set(FOLDERS)
    assert samples["meeting"].folder == "calendar"
    assert samples["draft"].folder == "drafts"
    assert samples["shared-mailbox"].folder == "shared"


# --- The Office.js shape ----------------------------------------------------------------------


def test_schema_is_valid() -> None:
    Draft202012Validator.check_schema(ITEM_SCHEMA)


@pytest.mark.parametrize("key", sorted(REQUIRED_KEYS | {"sent", "meeting-organizer"}))
def test_item_validates(samples: dict[str, Sample], key: str) -> None:
    item = samples[key].item
    errors = [error.message for error in VALIDATOR.iter_errors(item)]
    assert errors == []
    for field in ("dateTimeCreated", "start", "end"):
        if field in item:
            assert datetime.fromisoformat(item[field]).tzinfo is not None


def test_every_item_validates(samples: dict[str, Sample]) -> None:
    for sample in samples.values():
        assert VALIDATOR.is_valid(sample.item), sample.key


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("known-sender", {"bcc": []}),  # Office.js has no bcc in read mode
        ("draft", {"internetMessageId": "<a@b.c>"}),  # nor a message id in compose mode
        ("meeting", {"from": {"displayName": "A", "emailAddress": "a@b.example"}}),
        ("known-sender", {"unknown": 1}),
        ("known-sender", {"itemId": "not an EWS id"}),
        ("shared-mailbox", {"shared": {"owner": "support"}}),
    ],
)
def test_schema_rejects_what_office_js_would_not_give(
    samples: dict[str, Sample], key: str, change: dict[str, Any]
) -> None:
    assert not VALIDATOR.is_valid(samples[key].item | change)


def test_read_messages_have_no_bcc_and_compose_ones_no_message_id(
    samples: dict[str, Sample],
) -> None:
    modes = {sample.item["mode"] for sample in samples.values()}
    assert modes == {"read", "compose"}
    for sample in samples.values():
        item = sample.item
        if item["mode"] == "read":
            assert "bcc" not in item
            assert item["itemId"].startswith("AAMk")
            if item["itemType"] == "message":
                assert item["internetMessageId"].startswith("<")
        else:
            assert "internetMessageId" not in item
            assert "itemId" not in item  # never saved
            assert "dateTimeCreated" not in item


def test_ids_are_unique(samples: dict[str, Sample]) -> None:
    items = [s.item for s in samples.values()]
    item_ids = [i["itemId"] for i in items if "itemId" in i]
    message_ids = [i["internetMessageId"] for i in items if "internetMessageId" in i]
    assert len(item_ids) == len(set(item_ids)) == sum(i["mode"] == "read" for i in items)
    assert len(message_ids) == len(set(message_ids))
    assert any(set(item_id) & set("+/=") for item_id in item_ids)  # EWS ids are not URL-safe


def test_many_recipients(samples: dict[str, Sample], report: SeedReport) -> None:
    item = samples["many-recipients"].item
    everyone = {address.lower() for address in addresses(item)}
    assert len(item["to"]) + len(item["cc"]) >= 30
    assert len(everyone) >= 31
    assert str(len(everyone)) in samples["many-recipients"].summary
    assert known_addresses(report) <= everyone
    internal = {a for a in everyone if a.endswith("@contoso.example")}
    assert REP_ADDRESS in internal and len(internal) >= 5
    assert len(everyone - internal - known_addresses(report)) >= 15  # unknown people


def test_draft_replies_to_the_known_sender(samples: dict[str, Sample], report: SeedReport) -> None:
    draft, received = samples["draft"].item, samples["known-sender"].item
    assert draft["itemType"] == "message" and draft["mode"] == "compose"
    assert draft["from"] == {"displayName": REP_NAME, "emailAddress": REP_ADDRESS}
    assert [p["emailAddress"] for p in draft["to"]] == [report.single_address]
    assert draft["cc"] and draft["bcc"]
    assert draft["conversationId"] == received["conversationId"]
    assert draft["subject"] == received["subject"]


def test_meetings(samples: dict[str, Sample], report: SeedReport) -> None:
    meeting = samples["meeting"].item
    assert meeting["itemType"] == "appointment" and meeting["mode"] == "read"
    assert meeting["organizer"]["emailAddress"] == report.single_address
    attendees = [p["emailAddress"] for p in meeting["requiredAttendees"]]
    assert REP_ADDRESS in attendees
    assert len(attendees) + len(meeting["optionalAttendees"]) >= 4
    assert meeting["location"]
    for key in ("meeting", "meeting-organizer"):
        item = samples[key].item
        start, end = datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"])
        assert NOW < start < end
    organised = samples["meeting-organizer"].item
    assert organised["mode"] == "compose" and organised["organizer"]["emailAddress"] == REP_ADDRESS


def test_shared_mailbox(samples: dict[str, Sample]) -> None:
    shared = samples["shared-mailbox"].item["shared"]
    assert shared == {"owner": "support@contoso.example", "delegatePermissions": 3}
    others = [s for s in samples.values() if s.key != "shared-mailbox"]
    assert all(s.item["shared"] is None for s in others)


def test_sent_names_the_open_case(samples: dict[str, Sample], report: SeedReport) -> None:
    sent = samples["sent"]
    assert sent.folder == "sent"
    assert sent.item["from"]["emailAddress"] == REP_ADDRESS
    assert report.open_case_ticket_number in sent.item["subject"]


# --- What the CRM makes of them ---------------------------------------------------------------


def test_senders_resolve_to_the_intended_contacts(
    crm: SandboxAdapter, samples: dict[str, Sample], report: SeedReport
) -> None:
    intended = {
        "known-sender": [report.single_contact_id],
        "two-matches": sorted(report.shared_contact_ids),
        "second-field": [report.second_field_contact_id],
        "shared-mailbox": [report.no_account_contact_id],
        "already-saved": [report.single_contact_id],
        "unknown-signature": [],
        "italian": [],
        "danish": [],
        "polish": [],
    }
    senders = {key: samples[key].item["from"]["emailAddress"] for key in intended}
    found = matches(crm, list(senders.values()))
    assert {key: found[address.lower()] for key, address in senders.items()} == intended
    assert len(intended["two-matches"]) == 2


def test_meeting_organizer_is_the_related_contact(
    crm: SandboxAdapter, samples: dict[str, Sample], report: SeedReport
) -> None:
    organizer = samples["meeting"].item["organizer"]["emailAddress"]
    assert matches(crm, [organizer])[organizer.lower()] == [report.related_contact_id]
    related = crm.related_activities(report.related_contact_id)
    assert related.emails and related.meetings


def test_made_up_people_are_unknown_to_the_crm(
    crm: SandboxAdapter, samples: dict[str, Sample], report: SeedReport
) -> None:
    everyone = {a.lower() for s in samples.values() for a in addresses(s.item)}
    made_up = everyone - {a.lower() for a in known_addresses(report)}
    found = matches(crm, sorted(made_up))
    assert {address: ids for address, ids in found.items() if ids} == {}
    assert len(made_up) >= 30


def test_known_people_carry_their_crm_names(
    crm: SandboxAdapter, samples: dict[str, Sample], report: SeedReport
) -> None:
    known = {a.lower() for a in known_addresses(report)} - {report.shared_address}
    for sample in samples.values():
        for person in people(sample.item):
            address = person["emailAddress"].lower()
            if address in known:
                contact = crm.match_contacts([address])[address][0]
                assert person["displayName"] == f"{contact.first_name} {contact.last_name}"


def test_the_saved_email_is_saved(
    crm: SandboxAdapter, samples: dict[str, Sample], report: SeedReport
) -> None:
    message_id = samples["already-saved"].item["internetMessageId"]
    assert message_id == report.saved_email_message_id
    assert crm.find_saved(message_id) is not None
    for key in ("known-sender", "many-recipients", "sent"):
        assert crm.find_saved(samples[key].item["internetMessageId"]) is None


# --- What the signature reader makes of them --------------------------------------------------


def read(sample: Sample) -> dict[str, Any]:
    sender = sample.item["from"]
    result = read_signature(
        sample.item["body"],
        content_type="text/plain",
        from_name=sender["displayName"],
        from_address=sender["emailAddress"],
    )
    assert result.has_signature
    return result.contact()


EXPECTED_SIGNATURES: dict[str, dict[str, Any]] = {
    "unknown-signature": {
        "first_name": "Eleanor",
        "last_name": "Whitfield",
        "job_title": "Head of Facilities Management",
        "company": "Pennine Crest Logistics Ltd.",
        "website": "www.penninecrest-logistics.co.uk",
        "phones": [
            {"kind": "work", "e164": "+441134960712"},
            {"kind": "mobile", "e164": "+447723518604"},
            {"kind": "fax", "e164": "+441134960799"},
        ],
    },
    "italian": {
        "first_name": "Francesca",
        "last_name": "Zanetti",
        "job_title": "Responsabile Ufficio Acquisti",
        "company": "Vetreria Artistica Lagunare S.r.l.",
        "website": "www.vetrerialagunare.it",
        "phones": [
            {"kind": "work", "e164": "+390415274410"},
            {"kind": "mobile", "e164": "+393482197765"},
            {"kind": "fax", "e164": "+390415274499"},
        ],
    },
    "danish": {
        "first_name": "Rasmus",
        "last_name": "Holmgaard",
        "job_title": "Indkøbschef",
        "company": "Skovbryn Emballage ApS",
        "website": "www.skovbryn-emballage.dk",
        "phones": [
            {"kind": "work", "e164": "+4575824190"},
            {"kind": "mobile", "e164": "+4528941357"},
        ],
    },
    "polish": {
        "first_name": "Magdalena",
        "last_name": "Sowińska",
        "job_title": "Kierownik Działu Zakupów",
        "company": "Termoplast Bałtyk sp. z o.o.",
        "website": "www.termoplast-baltyk.pl",
        "phones": [
            {"kind": "work", "e164": "+48583401275"},
            {"kind": "mobile", "e164": "+48601238947"},
        ],
    },
}


@pytest.mark.parametrize("key", SIGNATURE_KEYS)
def test_signature_prefills_the_new_contact(samples: dict[str, Sample], key: str) -> None:
    contact = read(samples[key])
    want = EXPECTED_SIGNATURES[key]
    assert {field: contact[field] for field in want} == want
    assert contact["email"] == samples[key].item["from"]["emailAddress"]
    assert len(contact["phones"]) >= 2


@pytest.mark.parametrize(
    ("key", "attribution"),
    [
        ("unknown-signature", "-----Original Message-----"),
        ("italian", "ha scritto:"),
        ("danish", "skrev Alex Morgan <alex@contoso.example>:"),
        ("polish", "napisał(a):"),
    ],
)
def test_signature_samples_quote_an_earlier_message(
    samples: dict[str, Sample], key: str, attribution: str
) -> None:
    body = samples[key].item["body"]
    assert attribution in body
    after = body.split(attribution, 1)[1]
    assert after.strip()  # the quoted message follows
    signature = read_signature(body, from_address=samples[key].item["from"]["emailAddress"])
    assert signature.signature is not None and attribution not in signature.signature


def test_quoted_dates_are_in_the_senders_language(samples: dict[str, Sample]) -> None:
    # The quoted message is from Monday 3 March 2025 at 16:42 (the day before NOW).
    assert "Sent: Monday, 3 March 2025 16:42" in samples["unknown-signature"].item["body"]
    assert "Il giorno lun 3 mar 2025 alle ore 16:42 " in samples["italian"].item["body"]
    assert "Den man. 3. mar. 2025 kl. 16.42 skrev " in samples["danish"].item["body"]
    assert "W dniu pon., 3 mar 2025 o 16:42 " in samples["polish"].item["body"]


# --- Serialisation and determinism ------------------------------------------------------------


def test_samples_are_json_serialisable(report: SeedReport) -> None:
    payload = [dataclasses.asdict(sample) for sample in build(report)]
    assert json.loads(json.dumps(payload)) == payload


def test_two_calls_give_equal_results(report: SeedReport) -> None:
    assert build(report) == build(report)


def test_times_follow_now_and_ids_do_not(report: SeedReport) -> None:
    later = {s.key: s.item for s in build(report, NOW + timedelta(days=30))}
    for sample in build(report):
        item = later[sample.key]
        for field in ("itemId", "internetMessageId", "conversationId"):
            assert item.get(field) == sample.item.get(field)
        if "start" in item:
            shift = datetime.fromisoformat(item["start"]) - datetime.fromisoformat(
                sample.item["start"]
            )
            assert shift == timedelta(days=30)


def test_a_naive_now_is_utc(report: SeedReport) -> None:
    assert build(report, NOW.replace(tzinfo=None)) == build(report)
