"""The Salesforce adapter's pure parts: SOQL, request shapes, links, records, the error table.

Every query builder's output is also parsed by the emulator's SOQL parser (the subset Salesforce
accepts): the adapter never sends a query Salesforce would refuse as MALFORMED_QUERY.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_adapters import load_adapter
from crm_adapters.errors import (
    Conflict,
    NotFound,
    NotSignedIn,
    RateLimited,
    Rejected,
    Unavailable,
)
from crm_adapters.models import (
    AttachmentFile,
    ContactDraft,
    EmailActivity,
    MeetingActivity,
    Party,
    RecordRef,
    RecordType,
)
from crm_adapters.salesforce import (
    DEFAULT_EMAIL_FIELDS,
    RetryPolicy,
    SalesforceAdapter,
    accounts,
    activities,
    contacts,
    error_for,
    records,
    search,
)
from crm_adapters.salesforce.transport import query_url
from tests.emulators.soql import InList, SoqlError, parse_soql

CONTACT = "003000000000001AAA"
OTHER = "003000000000002AAA"
ACCOUNT = "001000000000001AAA"
USER = "005000000000001AAA"
NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
FIELDS = list(DEFAULT_EMAIL_FIELDS.values())


def url(record_type: str, record_id: str) -> str:
    return f"https://org.example/{record_type}/{record_id}"


def adapter(**options) -> SalesforceAdapter:
    return SalesforceAdapter("https://acme.my.salesforce.com", access_token="t", **options)


def parses(soql: str) -> None:
    """Fail unless Salesforce (its subset in the emulator) accepts ``soql``."""
    try:
        parse_soql(soql)
    except SoqlError as error:
        pytest.fail(f"{error.code}: {error.message}\n{soql}")


# --- SOQL ----------------------------------------------------------------------------------------


def test_match_query_quotes_every_address_through_format_soql():
    tricky = "o'brien+vip@example.com"
    [query] = contacts.match_queries(["a@x.com", tricky, "back\\slash@x.com"], FIELDS[:2], FIELDS)
    assert query == (
        "SELECT Id, FirstName, LastName, Name, Email, Email2__c, Email3__c, Title, Phone,"
        " MobilePhone, AccountId, Account.Name FROM Contact"
        " WHERE Email IN ('a@x.com','o\\'brien+vip@example.com','back\\\\slash@x.com')"
        " OR Email2__c IN ('a@x.com','o\\'brien+vip@example.com','back\\\\slash@x.com')"
    )
    parses(query)


def test_only_the_asked_fields_are_searched_all_are_read():
    [query] = contacts.match_queries(["a@x.com"], ["Email3__c"], FIELDS)
    where = query.split(" WHERE ")[1]
    assert where == "Email3__c IN ('a@x.com')"
    assert "Email, Email2__c, Email3__c" in query


def test_many_addresses_make_as_few_queries_as_fit_a_url():
    addresses = [f"person.number{i}@a-long-company-domain.example" for i in range(1500)]
    queries = contacts.match_queries(addresses, FIELDS, FIELDS)
    assert 1 < len(queries) <= 25  # one composite batch
    assert all(len(records_url(q)) < 16_000 for q in queries)
    found = [a for q in queries for a in addresses if f"'{a}'" in q]
    assert found == addresses
    for query in queries:
        parses(query)
    assert len(contacts.match_queries(addresses[:50], FIELDS, FIELDS)) == 1


def records_url(soql: str) -> str:
    return "https://acme.my.salesforce.com/services/data/" + query_url("59.0", soql)


def test_asked_email_fields_are_the_orgs():
    with pytest.raises(Rejected):
        contacts.asked_fields(["email4"], DEFAULT_EMAIL_FIELDS)
    assert contacts.asked_fields(["email3", "email1"], DEFAULT_EMAIL_FIELDS) == [
        "Email3__c",
        "Email",
    ]
    only_email = {"email1": "Email"}
    assert contacts.asked_fields(["email1", "email2", "email3"], only_email) == ["Email"]
    assert contacts.asked_fields(["email2"], only_email) == []  # the org has no such field


def test_asking_only_for_fields_the_org_lacks_makes_no_request():
    crm = adapter(email_fields={"email1": "Email"}, retry=RetryPolicy(attempts=1))
    assert crm.match_contacts(["a@x.example"], ["email2", "email3"]) == {"a@x.example": []}
    assert crm.round_trips == 0


def test_account_queries_reach_accounts_through_their_contact_relations():
    queries = accounts.account_queries([CONTACT, OTHER, CONTACT], NOW)
    relations = (
        f"(SELECT AccountId FROM AccountContactRelation WHERE ContactId IN ('{CONTACT}','{OTHER}'))"
    )
    assert queries[accounts.LINKS] == (
        "SELECT AccountId, ContactId, IsDirect FROM AccountContactRelation"
        f" WHERE ContactId IN ('{CONTACT}','{OTHER}')"
    )
    assert queries[accounts.ACCOUNTS] == (
        "SELECT Id, Name, Website, Phone, BillingCity, BillingCountry FROM Account"
        f" WHERE Id IN {relations}"
    )
    assert queries[accounts.OPPORTUNITIES].endswith(
        f"WHERE AccountId IN {relations} AND IsClosed = false ORDER BY CloseDate ASC LIMIT 200"
    )
    assert queries[accounts.CASES].endswith(
        f"WHERE AccountId IN {relations} AND IsClosed = false ORDER BY CreatedDate DESC LIMIT 200"
    )
    assert (
        "WHERE RelatedToId IN" in queries[accounts.EMAILS]
        and "MessageDate <= 2026-11-20T09:30:00+00:00" in queries[accounts.EMAILS]
    )
    assert "WHERE WhatId IN" in queries[accounts.MEETINGS]
    for query in queries:
        parses(query)


def test_related_queries_go_through_the_relations():
    emails, meetings = accounts.related_queries(CONTACT, 10, NOW)
    assert emails == (
        "SELECT Id, Subject, MessageDate FROM EmailMessage WHERE Id IN"
        f" (SELECT EmailMessageId FROM EmailMessageRelation WHERE RelationId = '{CONTACT}')"
        " AND MessageDate <= 2026-11-20T09:30:00+00:00 ORDER BY MessageDate DESC LIMIT 10"
    )
    assert meetings == (
        "SELECT Id, Subject, StartDateTime FROM Event WHERE Id IN"
        f" (SELECT EventId FROM EventRelation WHERE RelationId = '{CONTACT}')"
        " AND StartDateTime >= 2026-11-20T09:30:00+00:00 ORDER BY StartDateTime ASC LIMIT 10"
    )
    parses(emails)
    parses(meetings)


def test_idempotency_and_user_queries():
    assert activities.saved_query("email", "<a'b+c@mail.example>") == (
        "SELECT Id, Subject FROM EmailMessage WHERE MessageIdentifier = '<a\\'b+c@mail.example>'"
        " LIMIT 1"
    )
    assert activities.saved_query("meeting", "uid-1") == (
        "SELECT Id, Subject FROM Event WHERE Sidepane_UID__c = 'uid-1' LIMIT 1"
    )
    [users] = activities.users_queries(["rep@contoso.example"])
    assert users == (
        "SELECT Id, Email FROM User WHERE Email IN ('rep@contoso.example') AND IsActive = true"
    )
    for query in (*activities.users_queries(["x@y.z"]), activities.saved_query("email", "m")):
        parses(query)


hostile = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
) | st.sampled_from(
    [
        "x' or Id != null or Email = 'y",
        "\\' OR 1=1 --",
        "%@example.com",
        "_@example.com",
        "a\\b'c\"d\ne\tf@example.com",
        "') OR (Email != '",
    ]
)


@settings(max_examples=150, deadline=None)
@given(value=hostile)
def test_every_query_the_adapter_writes_parses_whatever_the_values(value):
    """No value (address, id, message id) turns a query into something Salesforce refuses."""
    queries = [
        *contacts.match_queries([value, "a@x.com"], FIELDS, FIELDS),
        *accounts.account_queries([value], NOW),
        *accounts.related_queries(value, 3, NOW),
        activities.saved_query("email", value),
        activities.saved_query("meeting", value),
        *activities.users_queries([value]),
    ]
    for query in queries:
        parses(query)


@settings(max_examples=80, deadline=None)
@given(value=hostile)
def test_a_value_stays_one_literal(value):
    """The parsed query holds the value unchanged: quoting made it data, never syntax."""
    [query] = contacts.match_queries([value], ["Email"], FIELDS)
    where = parse_soql(query).where
    assert isinstance(where, InList) and where.values == (value,)


# --- search --------------------------------------------------------------------------------------


def test_search_sends_words_alone_and_prefixes_but_no_syntax():
    query = search.plan("Rossi' OR 1=1 {Costr*}", [RecordType.ACCOUNT, "email"], 5)
    assert query is not None and query.types == ("account",)
    assert search.search_terms(query) == [
        "Rossi 1 1 Costr",
        "Rossi",
        "Costr",
        "Ros*",
        "Cos*",
    ]
    [first, *_] = search.search_urls(query, "59.0")
    path, _, raw = first.partition("?")
    assert path == "v59.0/parameterizedSearch/"
    assert parse_qs(raw) == {
        "q": ["Rossi 1 1 Costr"],
        "sobject": ["Account"],
        "Account.fields": ["Id,Name"],
        "Account.limit": [str(search.CANDIDATES)],
    }


def test_search_asks_each_type_for_its_fields_and_looks_a_case_number_up():
    query = search.plan("CAS-0001042", ["case", "contact"], 5)
    assert query is not None
    *searches, number = search.search_urls(query, "59.0")
    asked = parse_qs(searches[0].partition("?")[2])
    assert asked["q"] == ["CAS 0001042"]
    assert asked["sobject"] == ["Case", "Contact"]
    assert asked["Case.fields"] == ["Id,Subject,CaseNumber"]
    assert asked["Contact.fields"] == ["Id,Name"]
    soql = parse_qs(number.partition("?")[2])["q"][0]
    assert (
        soql == "SELECT Id, Subject, CaseNumber FROM Case WHERE CaseNumber = 'CAS-0001042' LIMIT 1"
    )
    parses(soql)
    words = search.plan("Broken pump", ["case"], 5)
    assert words is not None and "query/" not in " ".join(search.search_urls(words, "59.0"))


@pytest.mark.parametrize("text", ["", "   ", "%", "*", "-- '", "OR", "and not"])
def test_nothing_to_search_for(text):
    assert search.plan(text, ["account"], 5) is None


def test_search_ranks_closest_names_first_and_cases_by_number():
    query = search.plan("rosi costruzioni", ["account", "case"], 5)
    assert query is not None
    found = [
        {"attributes": {"type": "Account"}, "Id": "a1", "Name": "Jilani Costruzioni Group"},
        {"attributes": {"type": "Account"}, "Id": "a2", "Name": "Rossi Costruzioni S.p.A."},
        {"attributes": {"type": "Account"}, "Id": "a2", "Name": "Rossi Costruzioni S.p.A."},
        {"attributes": {"type": "Account"}, "Id": "a3", "Name": "Nordlys Byg"},
        {"attributes": {"type": "Lead"}, "Id": "l1", "Name": "Rosi Costruzioni"},
    ]
    ranked = search.rank(query, found, 5, url)
    assert [r.id for r in ranked] == ["a2", "a1"]
    assert ranked[0] == RecordRef("account", "a2", "Rossi Costruzioni S.p.A.", url("account", "a2"))
    by_number = search.plan("00001042", ["case"], 5)
    assert by_number is not None
    case = {
        "attributes": {"type": "Case"},
        "Id": "c1",
        "Subject": "Broken",
        "CaseNumber": "00001042",
    }
    assert [r.id for r in search.rank(by_number, [case], 5, url)] == ["c1"]


# --- links ---------------------------------------------------------------------------------------


def decode_default_field_values(encoded: str) -> dict[str, str]:
    """Decode as Lightning's ``decodeDefaultFieldValues`` does (``+`` is a space there)."""
    pairs = (part.split("=", 1) for part in encoded.split(","))
    return {unquote(name): unquote(value.replace("+", " ")) for name, value in pairs}


def test_new_contact_url_prefills_lightning_default_field_values():
    draft = ContactDraft(
        first_name="Jørgen",
        last_name="Ølgaard, Jr.",
        email="j+o@firma.example",
        job_title="50% = Chef & Partner",
        business_phone="+45 12 34 56 78",
        account_id=ACCOUNT,
        website="https://firma.example",  # not a Contact field
    )
    link = adapter().new_contact_url(draft)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://acme.my.salesforce.com/lightning/o/Contact/new"
    )
    name, _, encoded = parts.query.partition("=")
    assert name == "defaultFieldValues" and "&" not in encoded
    assert decode_default_field_values(encoded) == {
        "FirstName": "Jørgen",
        "LastName": "Ølgaard, Jr.",
        "Email": "j+o@firma.example",
        "Title": "50% = Chef & Partner",
        "Phone": "+45 12 34 56 78",
        "AccountId": ACCOUNT,
    }


def test_record_urls_open_lightning():
    crm = adapter()
    assert crm.record_url(RecordType.CONTACT, CONTACT) == (
        f"https://acme.my.salesforce.com/lightning/r/Contact/{CONTACT}/view"
    )
    assert crm.record_url("meeting", "00U1").endswith("/lightning/r/Event/00U1/view")
    assert crm.record_url("email", "02s/../x").endswith("/EmailMessage/02s%2F..%2Fx/view")
    with pytest.raises(Rejected):
        crm.record_url("invoice", "x")


# --- the adapter's configuration -----------------------------------------------------------------


def test_registered_with_the_capabilities_of_rule_16():
    assert load_adapter("salesforce") is SalesforceAdapter
    capabilities = adapter().capabilities
    assert not capabilities.save_drafts and not capabilities.save_compose_meetings
    assert not capabilities.auto_save_replies and not capabilities.auto_save_meeting_updates
    assert not capabilities.needs_server_side_sync
    assert capabilities.email_fields == ("email1", "email2", "email3")
    assert capabilities.contact_required_fields == ("last_name", "email")


def test_the_orgs_email_fields_are_configuration():
    crm = adapter(email_fields={"email1": "Email", "email2": "Work_Email__c"})
    assert crm.capabilities.email_fields == ("email1", "email2")
    assert SalesforceAdapter.capabilities.email_fields == ("email1", "email2", "email3")
    with pytest.raises(ValueError):
        adapter(email_fields={"email1": "Email) OR (Name"})
    with pytest.raises(ValueError):
        adapter(email_fields={})


@pytest.mark.parametrize(
    "instance", ["http://acme.my.salesforce.com", "acme.my.salesforce.com", ""]
)
def test_https_only(instance):
    with pytest.raises(ValueError):
        SalesforceAdapter(instance, access_token="t")


def test_calls_with_nothing_to_ask_make_no_request():
    crm = adapter(retry=RetryPolicy(attempts=1))  # nothing listens there: a request would fail
    assert crm.match_contacts([]) == {}
    assert crm.match_contacts(["", "  "]) == {"": [], "  ": []}
    assert crm.get_accounts([]) == [] and crm.get_accounts(["  "]) == []
    assert crm.related_activities(CONTACT, limit=0).emails == ()
    assert crm.search_records("%", ["account"]) == []
    assert crm.find_saved("  ") is None
    assert crm.round_trips == 0


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (ContactDraft(last_name=" ", email="a@x.example"), "last_name"),
        (ContactDraft(last_name="A", email=""), "email"),
        (ContactDraft(last_name="A", email="not an address"), "email"),
        (ContactDraft(last_name="A" * 81, email="a@x.example"), "last_name"),
        (ContactDraft(last_name="A", email="a@x.example", first_name="F" * 41), "first_name"),
    ],
)
def test_drafts_salesforce_would_refuse_are_rejected_before_any_request(draft, field):
    crm = adapter(retry=RetryPolicy(attempts=1))
    with pytest.raises(Rejected) as raised:
        crm.create_contact(draft)
    assert raised.value.reason.startswith(field)
    assert crm.round_trips == 0


def test_contact_values_leave_empty_fields_out():
    draft = ContactDraft(last_name=" Rossi ", email=" g@x.example ", first_name="", account_id="")
    assert contacts.contact_values(draft, "Email") == {"LastName": "Rossi", "Email": "g@x.example"}


# --- the error table -----------------------------------------------------------------------------


def body(code: str, message: str = "Salesforce says no") -> list[dict[str, object]]:
    return [{"message": message, "errorCode": code, "fields": []}]


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "INVALID_SESSION_ID", NotSignedIn),
        (403, "REQUEST_LIMIT_EXCEEDED", RateLimited),
        (404, "NOT_FOUND", NotFound),
        (400, "INVALID_CROSS_REFERENCE_KEY", NotFound),
        (400, "MALFORMED_ID", NotFound),
        (400, "DUPLICATE_VALUE", Conflict),
        (400, "REQUIRED_FIELD_MISSING", Rejected),
        (400, "INVALID_FIELD", Rejected),
        (403, "INSUFFICIENT_ACCESS", Rejected),
        (500, "UNKNOWN_EXCEPTION", Unavailable),
        (503, "SERVER_UNAVAILABLE", Unavailable),
    ],
)
def test_error_table(status, code, kind):
    error = error_for(status, body(code))
    assert type(error) is kind
    assert str(error)


def test_rejections_carry_salesforces_message():
    error = error_for(400, body("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone must be E.164"))
    assert isinstance(error, Rejected) and error.reason == "Phone must be E.164"
    assert error_for(400, "<html>bad gateway</html>").reason.startswith("Salesforce refused")
    assert "no such record" in str(error_for(404, body("NOT_FOUND", "gone")))


# --- records -------------------------------------------------------------------------------------


def test_contact_record_with_its_account():
    row = {
        "attributes": {"type": "Contact"},
        "Id": CONTACT,
        "FirstName": None,
        "LastName": "Rossi",
        "Email": "giulia@x.example",
        "Email2__c": None,
        "Email3__c": "g@y.example",
        "Title": "Buyer",
        "Phone": None,
        "MobilePhone": "+39 333",
        "AccountId": ACCOUNT,
        "Account": {"attributes": {"type": "Account"}, "Name": "Rossi S.p.A."},
    }
    contact = records.contact(row, FIELDS, url)
    assert contact.emails == ("giulia@x.example", "g@y.example")
    assert (contact.first_name, contact.last_name, contact.job_title) == ("", "Rossi", "Buyer")
    assert (contact.account_id, contact.company) == (ACCOUNT, "Rossi S.p.A.")
    assert contact.crm == "salesforce" and contact.url == url("contact", CONTACT)
    lone = records.contact({**row, "AccountId": None, "Account": None}, FIELDS, url)
    assert (lone.account_id, lone.company) == (None, "")


def test_accounts_in_contact_order_primary_first_items_capped():
    answers = [
        [
            {"AccountId": "001B", "ContactId": OTHER, "IsDirect": True},
            {"AccountId": "001C", "ContactId": CONTACT, "IsDirect": False},
            {"AccountId": "001A", "ContactId": CONTACT, "IsDirect": True},
            {"AccountId": "001X", "ContactId": CONTACT, "IsDirect": False},  # not visible
        ],
        [{"Id": name, "Name": f"Account {name}"} for name in ("001B", "001C", "001A")],
        [
            {"Id": f"006{n}", "Name": f"Deal {n}", "StageName": "Qualify", "AccountId": "001A"}
            for n in range(3)
        ],
        [{"Id": "5001", "Subject": "Broken", "CaseNumber": "00001001", "AccountId": "001B"}],
        [
            {
                "Id": "02s1",
                "Subject": "Old",
                "MessageDate": "2026-01-01T10:00:00.000+0000",
                "RelatedToId": "001A",
            },
        ],
        [
            {
                "Id": "00U1",
                "Subject": "Met",
                "StartDateTime": "2026-02-01T10:00:00.000+0000",
                "WhatId": "001A",
            },
        ],
    ]
    found = accounts.accounts_from(answers, [CONTACT, OTHER], 2, url)
    assert [a.id for a in found] == ["001A", "001C", "001B"]
    first = found[0]
    assert [o.name for o in first.opportunities] == ["Deal 0", "Deal 1"]
    assert [a.subject for a in first.activities] == ["Met", "Old"]
    assert found[2].cases[0].title == "Broken" and found[2].cases[0].ticket_number == "00001001"


def test_timestamps_as_salesforce_writes_them():
    moment = dt.datetime(2026, 11, 20, 10, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert records.timestamp(moment) == "2026-11-20T09:30:05.123+0000"
    assert records.parse_timestamp("2026-11-20T09:30:05.123+0000") == moment.replace(
        microsecond=123000
    )
    assert records.parse_timestamp("2026-11-20T09:30:00Z") == NOW


# --- saving --------------------------------------------------------------------------------------


PARTIES = activities.parties_from(
    [
        {"Id": CONTACT, "Email": "Known@X.example", "Email2__c": None, "Email3__c": None},
        {"Id": OTHER, "Email": None, "Email2__c": "shared@x.example", "Email3__c": None},
        {"Id": CONTACT, "Email": None, "Email2__c": None, "Email3__c": "shared@x.example"},
    ],
    [{"Id": USER, "Email": "rep@contoso.example"}],
    FIELDS,
)


def email(**changes) -> EmailActivity:
    values = dict(
        message_id="<m@x>",
        subject="Hi",
        sender=Party("known@x.example", "Known"),
        sent_at=NOW,
        to=(Party("rep@contoso.example"), Party("Known@x.example")),
        cc=(Party("shared@x.example"), Party("nobody@x.example")),
        bcc=(Party("", "no address"),),
        body_html="<p>Hello</p>",
        regarding=RecordRef(RecordType.CASE, "5001", ""),
    )
    values.update(changes)
    return EmailActivity(**values)


def test_email_body_names_resolved_parties_by_id_and_the_rest_by_address():
    assert activities.email_body(email(), PARTIES) == {
        "Subject": "Hi",
        "HtmlBody": "<p>Hello</p>",
        "FromAddress": "known@x.example",
        "FromName": "Known",
        "MessageDate": "2026-11-20T09:30:00.000+0000",
        "Incoming": True,
        "Status": "3",
        "MessageIdentifier": "<m@x>",
        "ToIds": [USER, CONTACT],
        "CcAddress": "shared@x.example; nobody@x.example",  # two holders: no guess
        "RelatedToId": "5001",
    }


def test_an_email_saved_against_a_contact_must_involve_it():
    regarding = RecordRef(RecordType.CONTACT, OTHER, "")
    with pytest.raises(Rejected):
        activities.email_body(email(regarding=regarding), PARTIES)
    chosen = email(regarding=regarding, cc=(Party("shared@x.example", contact_id=OTHER),))
    body = activities.email_body(chosen, PARTIES)
    assert body["CcIds"] == [OTHER] and "RelatedToId" not in body


def test_regarding_types_salesforce_cannot_link_are_rejected():
    with pytest.raises(Rejected):
        activities.check_regarding("email", RecordRef(RecordType.EMAIL, "02s1", ""))
    for kind in ("account", "opportunity", "case", "contact"):
        activities.check_regarding("meeting", RecordRef(kind, "x", ""))


def test_attachments_are_content_versions_and_big_files_are_left_out():
    big = AttachmentFile("huge.bin", "", b"0" * (activities.MAX_ATTACHMENT_BYTES + 1))
    files = (AttachmentFile("plan.pdf", "application/pdf", b"%PDF"), big)
    [versions], skipped = activities.attachment_records("02s1", email(attachments=files))
    assert skipped == ("huge.bin",)
    assert versions == [
        {
            "attributes": {"type": "ContentVersion"},
            "Title": "plan.pdf",
            "PathOnClient": "plan.pdf",
            "VersionData": "JVBERg==",
            "FirstPublishLocationId": "02s1",
        }
    ]


def test_many_big_attachments_go_in_several_requests():
    size = activities.MAX_ATTACHMENT_BYTES
    files = tuple(AttachmentFile(f"scan{n}.pdf", "application/pdf", b"0" * size) for n in range(3))
    requests, skipped = activities.attachment_records("02s1", email(attachments=files))
    assert skipped == () and [len(r) for r in requests] == [1, 1, 1]
    small = tuple(AttachmentFile(f"note{n}.txt", "text/plain", b"x") for n in range(3))
    requests, _ = activities.attachment_records("02s1", email(attachments=small))
    assert [len(r) for r in requests] == [3]


def test_event_body_who_what_and_invitees():
    meeting = MeetingActivity(
        message_id="uid-1",
        subject="Review",
        organizer=Party("rep@contoso.example"),
        start=NOW,
        end=NOW + dt.timedelta(hours=1),
        attendees=(Party("known@x.example"), Party("x@y.example", contact_id=OTHER)),
        location="Teams",
        regarding=RecordRef(RecordType.ACCOUNT, ACCOUNT, ""),
    )
    body, invitees = activities.event_body(meeting, PARTIES)
    assert body == {
        "Subject": "Review",
        "StartDateTime": "2026-11-20T09:30:00.000+0000",
        "EndDateTime": "2026-11-20T10:30:00.000+0000",
        "Location": "Teams",
        "Description": None,
        "Sidepane_UID__c": "uid-1",
        "WhatId": ACCOUNT,
        "WhoId": CONTACT,
    }
    assert invitees == [OTHER]  # the WhoId is a relation already; the organizer owns it
    assert activities.invitee_records("00U1", invitees) == [
        {
            "attributes": {"type": "EventRelation"},
            "EventId": "00U1",
            "RelationId": OTHER,
            "IsInvitee": True,
        }
    ]
    about = RecordRef(RecordType.CONTACT, OTHER, "")
    body, invitees = activities.event_body(dataclasses.replace(meeting, regarding=about), PARTIES)
    assert body["WhoId"] == OTHER and "WhatId" not in body and invitees == [CONTACT]
