"""The Dynamics adapter on the Dataverse emulator: round trips, escaping, what saves write."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from crm_adapters import NotFound
from crm_adapters.dynamics import DynamicsAdapter, RetryPolicy
from crm_adapters.models import (
    AttachmentFile,
    ContactDraft,
    EmailActivity,
    MeetingActivity,
    Party,
    RecordRef,
    RecordType,
)
from tests.emulators.dataverse import DataverseEmulator
from tests.emulators.entra import EntraEmulator
from tests.emulators.fixtures import dataverse, dataverse_server  # noqa: F401

TENANT = "9b2f4c1e-5a6d-4e8f-a1b2-c3d4e5f60718"
REP_OID = "0c9e8f7a-6b5d-4c3e-9f1a-2b3c4d5e6f70"
BATCH = "POST /api/data/v9.2/$batch"
REP = "alex@contoso.example"


@pytest.fixture
def crm(
    dataverse: DataverseEmulator,  # noqa: F811
    entra: EntraEmulator,
) -> Iterator[DynamicsAdapter]:
    token = entra.issue_token(
        tenant_id=TENANT, oid=REP_OID, audience=dataverse.url, scopes=("user_impersonation",)
    )
    adapter = DynamicsAdapter(
        dataverse.url,
        web_url="https://org.crm.dynamics.com",
        token=lambda force_refresh: token,
        verify=dataverse.ca_file,
        retry=RetryPolicy(attempts=1),
    )
    yield adapter
    adapter.close()


@pytest.fixture
def report(seeded_sandbox):
    return seeded_sandbox[1]


def served(dataverse: DataverseEmulator) -> dict[str, int]:  # noqa: F811
    return {key: count for key, count in dataverse.requests_served.items() if count}


def email(report, **changes) -> EmailActivity:
    values = dict(
        message_id=f"<{uuid.uuid4()}@mail.example>",
        subject="Delivery dates",
        sender=Party(report.single_address, "Giulia"),
        sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        to=(Party(REP, "Alex"),),
        cc=(Party(report.shared_address), Party("nobody@nowhere.example")),
        body_html="<p>Friday?</p>",
        regarding=RecordRef(RecordType.ACCOUNT, report.account_id, ""),
        attachments=(AttachmentFile("plan.pdf", "application/pdf", b"%PDF-1.4 test"),),
    )
    values.update(changes)
    return EmailActivity(**values)


# --- round trips ---------------------------------------------------------------------------------


def test_fifty_addresses_are_one_get(crm, dataverse, report):  # noqa: F811
    addresses = [f"stranger{i}@nowhere.example" for i in range(48)]
    addresses += [report.single_address, report.shared_address]
    found = crm.match_contacts(addresses)
    assert served(dataverse) == {"GET /api/data/v9.2/contacts": 1}
    assert crm.round_trips == 1
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]


def test_addresses_too_many_for_a_url_travel_in_a_batch(crm, dataverse, report):  # noqa: F811
    addresses = [f"someone.with.a.long.name{i}@nowhere.example" for i in range(600)]
    found = crm.match_contacts([*addresses, report.single_address])
    assert served(dataverse) == {BATCH: 1}
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]


def test_contact_context_is_one_batch(crm, dataverse, report):  # noqa: F811
    context = crm.contact_context(
        [report.account_contact_id, report.multi_account_contact_id], report.related_contact_id
    )
    assert served(dataverse) == {BATCH: 1} and crm.round_trips == 1
    assert context.accounts and len(context.related.emails) == 3


def test_related_items_and_search_are_one_batch_each(crm, dataverse, report):  # noqa: F811
    crm.related_activities(report.related_contact_id, 5)
    crm.search_records(report.account_name, list(RecordType)[:4], 5)
    assert served(dataverse) == {BATCH: 2} and crm.round_trips == 2


def test_save_email_is_two_round_trips_then_one(crm, dataverse, report):  # noqa: F811
    activity = email(report)
    first = crm.save_email(activity)
    assert served(dataverse) == {BATCH: 1, "POST /api/data/v9.2/emails": 1}
    assert crm.round_trips == 2
    again = crm.save_email(activity)
    assert (again.created, again.ref) == (False, first.ref)
    assert crm.round_trips == 3
    assert crm.find_saved(activity.message_id) == first.ref
    assert crm.round_trips == 4


def test_nothing_to_ask_costs_nothing(crm, dataverse, report):  # noqa: F811
    assert crm.get_accounts(["no-such-id", "1 eq 1"]) == []
    assert crm.related_activities("' or 1 eq 1") == crm.related_activities(report.account_id, 0)
    assert crm.contact_context(["x"], "y").accounts == ()
    assert crm.search_records("  %  ", ["account"]) == []
    assert crm.find_saved(" ") is None
    with pytest.raises(NotFound):
        crm.save_email(email(report, regarding=RecordRef(RecordType.CASE, "CAS-0001", "")))
    assert served(dataverse) == {} and crm.round_trips == 0


# --- escaping ------------------------------------------------------------------------------------


def test_quote_and_plus_match_exactly(crm, dataverse):  # noqa: F811
    tricky = "o'brien+vip@example.com"
    created = crm.create_contact(ContactDraft(last_name="O'Brien", email=tricky))
    found = crm.match_contacts([tricky.upper(), "o'brien vip@example.com", "o'brien@example.com"])
    assert [c.id for c in found[tricky]] == [created.id]
    assert found["o'brien vip@example.com"] == [] and found["o'brien@example.com"] == []
    assert dataverse.record("contacts", created.id)["emailaddress1"] == tricky


@pytest.mark.parametrize("stored", ["a%b@x.example", "a_b@x.example", "a[b]c@x.example"])
def test_wildcard_characters_in_addresses_are_data(crm, stored):
    created = crm.create_contact(ContactDraft(last_name="Wild", email=stored))
    near = stored.replace("%", "zz").replace("_", "z").replace("[b]", "b")
    found = crm.match_contacts([stored, near])
    assert [c.id for c in found[stored]] == [created.id]
    assert found[near] == []


@pytest.mark.parametrize(
    ("text", "wanted", "lookalike"),
    [("50%", "Zed 50%", "Zed 50 off"), ("A_B", "Zed A_B", "Zed AxB"), ("[x]", "Zed [x]", "Zed x")],
)
def test_wildcard_characters_in_a_search_are_data(crm, text, wanted, lookalike):
    for last_name in (wanted, lookalike):
        crm.create_contact(ContactDraft(last_name=last_name, email=f"{uuid.uuid4()}@x.example"))
    names = [record.name for record in crm.search_records(text, ["contact"], 10)]
    assert wanted in names
    assert lookalike not in names


def test_search_with_quotes_is_harmless(crm, report):
    crm.create_contact(ContactDraft(last_name="D'Angelo", email="dangelo@x.example"))
    assert "D'Angelo" in [r.name for r in crm.search_records("d'angelo", ["contact"], 5)]
    assert crm.search_records("' or 1 eq 1 or '", ["contact", "account"], 5) == []


def test_search_finds_a_case_by_its_ticket_number(crm, dataverse):  # noqa: F811
    case = dataverse.rows("incidents")[0]
    found = crm.search_records(case["ticketnumber"], ["case"], 3)
    assert found[0].id == case["incidentid"] and found[0].type == "case"
    assert "etn=incident" in found[0].url


# --- what a save writes --------------------------------------------------------------------------


def test_saved_email_binds_parties_regarding_and_attachments(crm, dataverse, report):  # noqa: F811
    rep_id = dataverse.add_systemuser("Alex Morgan", REP)
    saved = crm.save_email(email(report))
    row = dataverse.record("emails", saved.ref.id)
    assert row["_regardingobjectid_value"] == report.account_id
    assert row["directioncode"] is False and row["description"] == "<p>Friday?</p>"
    parties = {
        (p["participationtypemask"], p["addressused"]): p["_partyid_value"]
        for p in dataverse.rows("activityparties")
        if p["_activityid_value"] == saved.ref.id
    }
    assert parties == {
        (1, report.single_address): report.single_contact_id,
        (2, REP): rep_id,
        (3, report.shared_address): None,  # two contacts hold it: no guess
        (3, "nobody@nowhere.example"): None,
    }
    files = [
        a for a in dataverse.rows("activitymimeattachments") if a["_objectid_value"] == saved.ref.id
    ]
    assert [(f["filename"], f["mimetype"], f["filesize"]) for f in files] == [
        ("plan.pdf", "application/pdf", 13)
    ]


def test_saved_meeting_has_organizer_attendees_and_times(crm, dataverse, report):  # noqa: F811
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    meeting = MeetingActivity(
        message_id="040000008200E00074C5B7101A82E008",
        subject="Site visit",
        organizer=Party(report.single_address),
        start=start,
        end=start + dt.timedelta(hours=1),
        attendees=(Party(report.second_field_address), Party("guest@nowhere.example")),
        location="Milano",
        regarding=RecordRef(RecordType.CONTACT, report.single_contact_id, ""),
    )
    saved = crm.save_meeting(meeting)
    row = dataverse.record("appointments", saved.ref.id)
    assert row["globalobjectid"] == meeting.message_id and row["location"] == "Milano"
    assert row["scheduledstart"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["_regardingobjectid_value"] == report.single_contact_id
    masks = {
        (p["participationtypemask"], p["addressused"]): p["_partyid_value"]
        for p in dataverse.rows("activityparties")
        if p["_activityid_value"] == saved.ref.id
    }
    assert masks == {
        (7, report.single_address): report.single_contact_id,
        (5, report.second_field_address): report.second_field_contact_id,
        (5, "guest@nowhere.example"): None,
    }
    assert "etn=appointment" in saved.ref.url and saved.ref.type == "meeting"
    upcoming = crm.related_activities(report.second_field_contact_id, 10).meetings
    assert saved.ref.id in [m.id for m in upcoming]


def test_regarding_a_record_dataverse_does_not_hold_is_not_found(crm, dataverse, report):  # noqa: F811
    ghost = RecordRef(RecordType.OPPORTUNITY, str(uuid.uuid4()), "")
    before = len(dataverse.rows("emails"))
    with pytest.raises(NotFound):
        crm.save_email(email(report, regarding=ghost))
    assert len(dataverse.rows("emails")) == before


def test_created_contact_links_its_account(crm, dataverse, report):  # noqa: F811
    contact = crm.create_contact(
        ContactDraft(
            first_name="Maja",
            last_name="Nowak",
            email="maja.nowak@x.example",
            account_id=report.account_id,
            mobile_phone="+48 600 100 200",
        )
    )
    assert contact.account_id == report.account_id
    assert contact.company == report.account_name
    assert contact.mobile_phone == "+48 600 100 200"
    assert contact.url == (
        f"https://org.crm.dynamics.com/main.aspx?pagetype=entityrecord&etn=contact&id={contact.id}"
    )
    with pytest.raises(NotFound):
        crm.create_contact(
            ContactDraft(last_name="Ghost", email="g@x.example", account_id=str(uuid.uuid4()))
        )


def test_accounts_come_with_their_open_items(crm, report):
    accounts = crm.get_accounts([report.account_contact_id], limit=2)
    account = next(a for a in accounts if a.id == report.account_id)
    assert account.name == report.account_name
    assert 0 < len(account.opportunities) <= 2 and 0 < len(account.cases) <= 2
    closes = [o.close_date for o in account.opportunities]
    assert closes == sorted(closes)
    assert all(c.status == "Active" for c in account.cases)
    whens = [a.when for a in account.activities]
    assert whens == sorted(whens, reverse=True)
    assert all(when <= dt.datetime.now(dt.UTC) for when in whens)


def test_who_am_i_names_the_rep(crm, dataverse):  # noqa: F811
    me = crm.who_am_i()
    assert me["OrganizationId"] == dataverse.organization_id
    assert me["UserId"] and me["BusinessUnitId"] == dataverse.business_unit_id
    assert served(dataverse) == {"GET /api/data/v9.2/WhoAmI": 1}
