"""The Dynamics adapter's pure parts: literals, query strings, request shapes, links, rows."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from crm_adapters import Rejected
from crm_adapters.dynamics import (
    DynamicsAdapter,
    RetryPolicy,
    accounts,
    activities,
    contacts,
    error_for,
    odata,
    records,
    search,
)
from crm_adapters.errors import Conflict, NotFound, NotSignedIn, RateLimited, Unavailable
from crm_adapters.models import (
    AttachmentFile,
    ContactDraft,
    EmailActivity,
    Party,
    RecordRef,
    RecordType,
)

GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
OTHER = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"


def query_of(resource: str) -> dict[str, str]:
    """Decode a resource's query as a server does (``+`` would be a space)."""
    return {name: values[0] for name, values in parse_qs(urlsplit(resource).query).items()}


def adapter(**options) -> DynamicsAdapter:
    return DynamicsAdapter("https://org.api.crm.dynamics.com", token=lambda refresh: "t", **options)


# --- literals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", "'abc'"), ("O'Bryan", "'O''Bryan'"), ("''", "''''''"), ("", "''")],
)
def test_literal_doubles_apostrophes(value, expected):
    assert odata.literal(value) == expected


def test_wildcards_are_escaped_as_classes():
    assert odata.wildcard("100%_off[1]") == "100[%][_]off[[]1]"
    assert odata.literal(odata.wildcard("it's 5%")) == "'it''s 5[%]'"


def test_in_values_are_json_strings():
    assert odata.json_values(["o'brien+vip@example.com", 'a"b']) == (
        '["o\'brien+vip@example.com", "a\\"b"]'
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [(GUID, True), (GUID.upper(), True), ("no-such-id", False), (f"{GUID} ", False), (None, False)],
)
def test_guids(value, ok):
    assert odata.is_guid(value) is ok


def test_guid_is_lower_case_and_refuses_others():
    assert odata.guid(GUID.upper()) == GUID
    with pytest.raises(ValueError):
        odata.guid("1 eq 1")


def test_timestamps_are_utc_with_z():
    moment = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert odata.timestamp(moment) == "2026-11-20T09:30:00Z"
    assert odata.parse_timestamp("2026-11-20T09:30:00Z") == moment


def test_query_string_encodes_plus_and_separators():
    query = odata.query_string({"$filter": "a eq 'x+y&z=1#'", "@v": '["a b"]'})
    assert "%2B" in query and "+" not in query
    assert query.count("&") == 1  # only the separator between the two options
    assert query_of("x?" + query) == {"$filter": "a eq 'x+y&z=1#'", "@v": '["a b"]'}


# --- request shapes ------------------------------------------------------------------------------


def test_match_request_uses_in_with_aliases_and_one_value_list():
    tricky = "o'brien+vip@example.com"
    resource = contacts.match_request(["a@x.com", tricky], ["emailaddress1", "emailaddress2"])
    assert resource.startswith("contacts?")
    query = query_of(resource)
    assert query["$select"] == records.CONTACT_SELECT
    assert query["$filter"] == (
        "Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@v)"
        " or Microsoft.Dynamics.CRM.In(PropertyName=@p2,PropertyValues=@v)"
    )
    assert query["@p1"] == "'emailaddress1'" and query["@p2"] == "'emailaddress2'"
    assert json.loads(query["@v"]) == ["a@x.com", tricky]


def test_unknown_email_field_is_rejected():
    with pytest.raises(Rejected):
        contacts.email_columns(["email4"])
    assert contacts.email_columns(["email3", "email1"]) == ["emailaddress3", "emailaddress1"]


def test_accounts_request_has_guid_filters_and_four_expands():
    now = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    query = query_of(accounts.accounts_request([GUID, OTHER], 4, now))
    assert query["$filter"] == (
        f"contact_customer_accounts/any(c:c/contactid eq {GUID} or c/contactid eq {OTHER})"
        f" or _primarycontactid_value eq {GUID} or _primarycontactid_value eq {OTHER}"
    )
    expand = query["$expand"]
    assert "actualend le 2026-11-20T09:30:00Z" in expand
    assert expand.count("$top=4") == 4
    for navigation in (
        "opportunity_customer_accounts(",
        "incident_customer_accounts(",
        "Account_Emails(",
        "Account_Appointments(",
    ):
        assert navigation in expand


def test_related_requests():
    now = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    emails, meetings = accounts.related_requests(GUID, 10, now)
    assert query_of(emails) == {
        "$select": "activityid,subject,actualend",
        "$filter": f"email_activity_parties/any(p:p/_partyid_value eq {GUID})"
        " and actualend le 2026-11-20T09:30:00Z",
        "$orderby": "actualend desc",
        "$top": "10",
    }
    assert query_of(meetings)["$orderby"] == "scheduledstart asc"
    assert "scheduledstart ge 2026-11-20T09:30:00Z" in query_of(meetings)["$filter"]


def test_search_escapes_words_and_forgives_a_typo():
    query = search.plan("Rosi 50%_[x] it's", [RecordType.ACCOUNT, "email"], 5)
    assert query is not None and query.types == ("account",)
    every, loose = search.requests_for(query, "account")
    strict = query_of(every)["$filter"]
    assert "contains(name,'50[%][_][[]x]')" in strict
    assert "contains(name,'it''s')" in strict
    assert " and " in strict
    assert "contains(name,'Ros')" in query_of(loose)["$filter"]
    assert query_of(loose)["$top"] == str(search.CANDIDATES_PER_TYPE)


def test_search_of_cases_asks_title_and_ticket():
    query = search.plan("CAS-0001234", ["case"], 5)
    assert query is not None
    filters = [query_of(r)["$filter"] for r in search.requests_for(query, "case")]
    assert "contains(ticketnumber,'CAS-0001234')" in filters[0]
    assert "contains(title,'CAS-0001234')" in filters[0]


@pytest.mark.parametrize("text", ["", "   ", "%", "*", "-- '"])
def test_nothing_to_search_for(text):
    assert search.plan(text, ["account"], 5) is None


def test_search_ranks_closest_names_first():
    query = search.plan("rosi costruzioni", ["account"], 5)
    assert query is not None
    rows = [
        {"accountid": OTHER, "name": "Jilani Costruzioni Group"},
        {"accountid": GUID, "name": "Rossi Costruzioni S.p.A."},
        {"accountid": "x", "name": "Nordlys Byg"},
    ]
    ranked = search.rank(query, {"account": rows}, 5, lambda t, i: f"https://x/{t}/{i}")
    assert [r.id for r in ranked][:1] == [GUID]
    assert "x" not in [r.id for r in ranked]


def test_save_reads_idempotency_contacts_and_users():
    reads = activities.read_requests("email", "<a'b+c@mail.example>", ["rep@contoso.example"])
    assert query_of(reads[0]) == {
        "$select": "activityid,subject",
        "$filter": "messageid eq '<a''b+c@mail.example>'",
        "$top": "1",
    }
    assert reads[1].startswith("contacts?")
    assert query_of(reads[2])["$filter"] == (
        "Microsoft.Dynamics.CRM.In(PropertyName='internalemailaddress',"
        'PropertyValues=["rep@contoso.example"])'
    )
    assert query_of(activities.read_requests("meeting", "uid-1", [])[0])["$filter"] == (
        "globalobjectid eq 'uid-1'"
    )


def test_email_body_binds_parties_regarding_and_attachments():
    parties = activities.parties_from(
        [
            {"contactid": GUID, "emailaddress1": "Known@X.example"},
            {"contactid": OTHER, "emailaddress2": "shared@x.example"},
            {"contactid": GUID, "emailaddress3": "shared@x.example"},
        ],
        [{"systemuserid": OTHER, "internalemailaddress": "rep@contoso.example"}],
    )
    big = AttachmentFile("huge.bin", "", b"0" * (activities.MAX_ATTACHMENT_BYTES + 1))
    email = EmailActivity(
        message_id="<m@x>",
        subject="Hi",
        sender=Party("known@x.example"),
        sent_at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC),
        to=(Party("rep@contoso.example"),),
        cc=(Party("shared@x.example"), Party("nobody@x.example")),
        regarding=RecordRef(RecordType.CASE, GUID, ""),
        attachments=(AttachmentFile("plan.pdf", "application/pdf", b"%PDF"), big),
    )
    body, skipped = activities.email_body(email, parties)
    assert skipped == ("huge.bin",)
    assert body["regardingobjectid_incident_email@odata.bind"] == f"/incidents({GUID})"
    assert body["actualend"] == "2026-11-20T09:30:00Z" and body["directioncode"] is False
    assert body["email_activity_parties"] == [
        {
            "participationtypemask": 1,
            "partyid_contact@odata.bind": f"/contacts({GUID})",
            "addressused": "known@x.example",
        },
        {
            "participationtypemask": 2,
            "partyid_systemuser@odata.bind": f"/systemusers({OTHER})",
            "addressused": "rep@contoso.example",
        },
        {"participationtypemask": 3, "addressused": "shared@x.example"},  # two holders: no guess
        {"participationtypemask": 3, "addressused": "nobody@x.example"},
    ]
    assert body["email_activity_mime_attachment"] == [
        {
            "filename": "plan.pdf",
            "mimetype": "application/pdf",
            "body": "JVBERg==",
            "objecttypecode": "email",
        }
    ]


def test_regarding_checks_come_before_any_request():
    with pytest.raises(NotFound):
        activities.regarding_bind("email", RecordRef(RecordType.ACCOUNT, "no-such-account", ""))
    with pytest.raises(Rejected):
        activities.regarding_bind("meeting", RecordRef(RecordType.EMAIL, GUID, ""))
    assert activities.regarding_bind("meeting", RecordRef(RecordType.OPPORTUNITY, GUID, "")) == {
        "regardingobjectid_opportunity_appointment@odata.bind": f"/opportunities({GUID})"
    }


# --- rows ----------------------------------------------------------------------------------------


def test_contact_row_with_its_account():
    row = {
        "contactid": GUID,
        "firstname": "Giulia",
        "lastname": "Rossi",
        "emailaddress1": "giulia@x.example",
        "emailaddress2": None,
        "emailaddress3": "g@y.example",
        "_parentcustomerid_value": OTHER,
        "_parentcustomerid_value@OData.Community.Display.V1.FormattedValue": "Rossi S.p.A.",
    }
    contact = records.contact(row, lambda t, i: f"https://x/{t}/{i}")
    assert contact.emails == ("giulia@x.example", "g@y.example")
    assert (contact.account_id, contact.company) == (OTHER, "Rossi S.p.A.")
    assert contact.crm == "dynamics" and contact.url == f"https://x/contact/{GUID}"


def test_account_row_with_expanded_items():
    row = {
        "accountid": GUID,
        "name": "Rossi",
        "opportunity_customer_accounts": [
            {
                "opportunityid": OTHER,
                "name": "Crane",
                "estimatedvalue": 1200,
                "stepname": "Qualify",
                "estimatedclosedate": "2026-12-01",
            }
        ],
        "incident_customer_accounts": [
            {
                "incidentid": OTHER,
                "title": "Leak",
                "ticketnumber": "CAS-1",
                "statecode": 0,
                "prioritycode": 1,
            }
        ],
        "Account_Emails": [
            {"activityid": "e1", "subject": "a", "actualend": "2026-11-01T08:00:00Z"}
        ],
        "Account_Appointments": [
            {"activityid": "m1", "subject": "b", "scheduledstart": "2026-11-02T08:00:00Z"}
        ],
    }
    account = records.account(row, lambda t, i: f"https://x/{t}/{i}", 5)
    assert account.opportunities[0].amount == 1200.0
    assert account.opportunities[0].close_date == dt.date(2026, 12, 1)
    assert (account.cases[0].status, account.cases[0].priority) == ("Active", "High")
    assert [a.id for a in account.activities] == ["m1", "e1"]
    assert records.account(row, lambda t, i: "u", 1).activities[0].kind == "meeting"


# --- links and configuration ---------------------------------------------------------------------


def test_record_urls_open_the_web_client():
    crm = adapter(web_url="https://org.crm.dynamics.com/")
    assert crm.record_url(RecordType.CONTACT, GUID) == (
        f"https://org.crm.dynamics.com/main.aspx?pagetype=entityrecord&etn=contact&id={GUID}"
    )
    assert "etn=incident" in crm.record_url(RecordType.CASE, GUID)
    assert "etn=appointment" in crm.record_url(RecordType.MEETING, GUID)
    assert "etn=email" in crm.record_url(RecordType.EMAIL, GUID)
    with pytest.raises(Rejected):
        crm.record_url("invoice", GUID)


def test_links_default_to_the_api_url():
    assert (
        adapter()
        .record_url("account", GUID)
        .startswith("https://org.api.crm.dynamics.com/main.aspx?")
    )


def test_new_contact_url_carries_the_draft_in_extraqs():
    draft = ContactDraft(
        first_name="Jørgen",
        last_name="Ølgaard & Søn",
        email="j+o@firma.example",
        business_phone="+45 12 34",
        account_id=GUID,
        company="Ølgaard A/S",
    )
    url = adapter().new_contact_url(draft)
    outer = parse_qs(urlsplit(url).query)
    assert outer["pagetype"] == ["entityrecord"] and outer["etn"] == ["contact"]
    inner = {name: values[0] for name, values in parse_qs(outer["extraqs"][0]).items()}
    assert inner == {
        "firstname": "Jørgen",
        "lastname": "Ølgaard & Søn",
        "emailaddress1": "j+o@firma.example",
        "telephone1": "+45 12 34",
        "parentcustomerid": GUID,
        "parentcustomeridtype": "account",
        "parentcustomeridname": "Ølgaard A/S",
    }


@pytest.mark.parametrize("url", ["http://org.crm.dynamics.com", "org.crm.dynamics.com", ""])
def test_api_url_must_be_https(url):
    with pytest.raises(ValueError):
        DynamicsAdapter(url, token=lambda refresh: "t")


def test_capabilities():
    caps = DynamicsAdapter.capabilities
    assert caps.save_drafts and caps.save_compose_meetings and caps.needs_server_side_sync
    assert caps.auto_save_replies and caps.auto_save_meeting_updates
    assert caps.contact_required_fields == ("last_name", "email")
    assert caps.email_fields == ("email1", "email2", "email3")


@pytest.mark.parametrize(
    "draft",
    [ContactDraft(last_name=" ", email="a@b.example"), ContactDraft(last_name="X", email="")],
)
def test_create_contact_refuses_before_any_request(draft):
    crm = adapter(retry=RetryPolicy(attempts=1))
    with pytest.raises(Rejected) as raised:
        crm.create_contact(draft)
    assert raised.value.reason.split(":")[0] in ("last_name", "email")
    assert crm.round_trips == 0


# --- the error table -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (404, "0x80060888", NotFound),
        (404, "0x80040217", NotFound),
        (400, "0x80040217", NotFound),
        (412, "", Conflict),
        (401, "", NotSignedIn),
        (429, "0x80072322", RateLimited),
        (503, "", Unavailable),
        (400, "0x80060888", Rejected),
        (403, "0x80040220", Rejected),
    ],
)
def test_error_table(status, code, kind):
    error = error_for(status, {"error": {"code": code, "message": "Dataverse says no"}}, 7)
    assert type(error) is kind
    assert str(error)
    if kind is Rejected:
        assert error.reason == "Dataverse says no"
    if kind is RateLimited:
        assert error.retry_after == 7
