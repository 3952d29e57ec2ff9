"""The loopback Salesforce emulator driven by real simple-salesforce and plain requests, over TLS.

Every request passes ``verify=<ca_file>`` itself: the machines set ``REQUESTS_CA_BUNDLE``, which
would override a session's ``verify``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from crm_adapters.sandbox import SeedReport
from tests.emulators.fixtures import salesforce, salesforce_server  # noqa: F401
from tests.emulators.salesforce import SalesforceEmulator
from tests.known import Known, sandbox_known

CONTACT_FIELDS = (
    "Id, FirstName, LastName, Name, Email, Email2__c, Email3__c, Title, Phone, MobilePhone,"
    " AccountId, Account.Name"
)
MATCH = (
    f"SELECT {CONTACT_FIELDS} FROM Contact"
    " WHERE Email IN {addresses} OR Email2__c IN {addresses} OR Email3__c IN {addresses}"
)
ACR = "(SELECT AccountId FROM AccountContactRelation WHERE ContactId IN {contacts})"
CLIENT_ID, CLIENT_SECRET = "3MVG9sidepane.emulator", "s3cr3t"
REDIRECT_URI = "https://127.0.0.1:5000/connections/salesforce/callback"


class CaSession(requests.Session):
    """A session that passes the emulator's CA with every request (env vars can't override)."""

    def __init__(self, ca_file: str) -> None:
        super().__init__()
        self.ca_file = ca_file

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("verify", self.ca_file)
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, *args, **kwargs)


def client(
    emulator: SalesforceEmulator, token: str | None = None, version: str = "59.0"
) -> Salesforce:
    return Salesforce(
        instance_url=emulator.url,
        session_id=token or emulator.issue_access_token(),
        session=CaSession(emulator.ca_file),
        version=version,
    )


@pytest.fixture
def known(seeded_sandbox: tuple[Path, SeedReport]) -> Known:
    return sandbox_known(seeded_sandbox[1])


@pytest.fixture
def report(seeded_sandbox: tuple[Path, SeedReport]) -> SeedReport:
    return seeded_sandbox[1]


@pytest.fixture
def sf(salesforce: SalesforceEmulator) -> Salesforce:  # noqa: F811
    return client(salesforce)


def match(sf: Salesforce, *addresses: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = sf.query_all(format_soql(MATCH, addresses=list(addresses)))[
        "records"
    ]
    return records


def now_literal() -> str:
    return format_soql("{}", dt.datetime.now(dt.UTC))


# -- the contract's queries return what the sandbox promises -----------------------------------


def test_single_address_matches_its_contact_with_its_account(sf: Salesforce, known: Known) -> None:
    records = match(sf, known.single_address.upper())

    assert [record["Id"] for record in records] == [known.single_contact_id]
    contact = records[0]
    assert contact["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{known.single_contact_id}",
    }
    assert contact["Email"] == known.single_address
    assert contact["Name"] == f"{contact['FirstName']} {contact['LastName']}"
    assert contact["Account"]["Name"] == known.account_name
    assert contact["Account"]["attributes"]["type"] == "Account"
    assert list(contact) == [
        "attributes",
        *(name.strip() for name in CONTACT_FIELDS.split(",")[:-1]),
        "Account",
    ]


def test_second_third_and_shared_addresses(sf: Salesforce, known: Known) -> None:
    assert [r["Id"] for r in match(sf, known.second_field_address)] == [
        known.second_field_contact_id
    ]
    assert [r["Id"] for r in match(sf, known.third_field_address)] == [known.third_field_contact_id]
    assert {r["Id"] for r in match(sf, known.shared_address)} == known.shared_contact_ids
    many = match(sf, known.single_address, known.second_field_address, "nobody@nowhere.example")
    assert {r["Id"] for r in many} == {known.single_contact_id, known.second_field_contact_id}


def test_tricky_addresses_are_data(sf: Salesforce, report: SeedReport) -> None:
    for address, contact_id in report.tricky_addresses.items():
        assert [r["Id"] for r in match(sf, address)] == [contact_id]
    assert match(sf, report.unknown_address) == []
    assert match(sf, "x' OR Email != '") == []


def test_contact_context_in_one_batch(
    salesforce: SalesforceEmulator,  # noqa: F811
    sf: Salesforce,
    known: Known,
) -> None:
    acr = format_soql(ACR, contacts=[known.account_contact_id])
    now = now_literal()
    queries = [
        f"SELECT Id, Name, Website, Phone, BillingCity, BillingCountry FROM Account"
        f" WHERE Id IN {acr}",
        f"SELECT Id, Name, StageName, Amount, CloseDate, AccountId FROM Opportunity"
        f" WHERE AccountId IN {acr} AND IsClosed = false ORDER BY CloseDate ASC LIMIT 200",
        f"SELECT Id, Subject, CaseNumber, Status, Priority, AccountId FROM Case"
        f" WHERE AccountId IN {acr} AND IsClosed = false ORDER BY CreatedDate DESC LIMIT 200",
        f"SELECT Id, Subject, MessageDate, RelatedToId FROM EmailMessage"
        f" WHERE RelatedToId IN {acr} AND MessageDate <= {now} ORDER BY MessageDate DESC LIMIT 200",
    ]
    body = {
        "batchRequests": [
            {"method": "GET", "url": f"v59.0/query/?{urlencode({'q': q})}"} for q in queries
        ]
    }

    answer = sf.restful("composite/batch", method="POST", json=body)

    assert answer["hasErrors"] is False
    assert [result["statusCode"] for result in answer["results"]] == [200] * 4
    accounts, opportunities, cases, emails = (r["result"]["records"] for r in answer["results"])
    assert known.regarding_account_id in {account["Id"] for account in accounts}
    assert opportunities and cases and emails
    closes = [o["CloseDate"] for o in opportunities]
    assert closes == sorted(closes)
    assert {o["AccountId"] for o in opportunities} <= {a["Id"] for a in accounts}
    assert {c["AccountId"] for c in cases} <= {a["Id"] for a in accounts}
    dates = [e["MessageDate"] for e in emails]
    assert dates == sorted(dates, reverse=True)
    assert salesforce.requests_served == {"POST /services/data/v59.0/composite/batch": 1}


def test_closed_records_are_left_out(sf: Salesforce, known: Known) -> None:
    acr = format_soql(ACR, contacts=[known.account_contact_id])
    everything = sf.query(f"SELECT Id, IsClosed FROM Opportunity WHERE AccountId IN {acr}")
    open_only = sf.query(
        f"SELECT Id FROM Opportunity WHERE AccountId IN {acr} AND IsClosed = false"
    )

    assert any(record["IsClosed"] for record in everything["records"])
    assert 0 < open_only["totalSize"] < everything["totalSize"]


def test_multi_account_contact_has_several_accounts(sf: Salesforce, report: SeedReport) -> None:
    acr = format_soql(ACR, contacts=[report.multi_account_contact_id])
    accounts = sf.query(f"SELECT Id FROM Account WHERE Id IN {acr}")["records"]
    relations = sf.query(
        format_soql(
            "SELECT AccountId, IsDirect FROM AccountContactRelation WHERE ContactId = {}",
            report.multi_account_contact_id,
        )
    )["records"]

    assert {a["Id"] for a in accounts} == set(report.multi_account_ids)
    assert sorted(r["IsDirect"] for r in relations) == [False, False, True]


def test_related_contact_has_past_emails_and_upcoming_events(sf: Salesforce, known: Known) -> None:
    now = now_literal()
    emails = sf.query(
        format_soql(
            "SELECT Id, Subject, MessageDate FROM EmailMessage WHERE Id IN (SELECT EmailMessageId"
            " FROM EmailMessageRelation WHERE RelationId = {}) AND MessageDate <= {:literal}"
            " ORDER BY MessageDate DESC LIMIT 50",
            known.related_contact_id,
            now,
        )
    )["records"]
    events = sf.query(
        format_soql(
            "SELECT Id, Subject, StartDateTime FROM Event WHERE Id IN (SELECT EventId FROM"
            " EventRelation WHERE RelationId = {}) AND StartDateTime >= {:literal}"
            " ORDER BY StartDateTime ASC LIMIT 50",
            known.related_contact_id,
            now,
        )
    )["records"]

    assert len(emails) > 10 and len(events) > 10
    assert [e["MessageDate"] for e in emails] == sorted(
        (e["MessageDate"] for e in emails), reverse=True
    )
    assert events[0]["StartDateTime"] >= now.replace("+00:00", "")


def test_idempotency_keys_are_queryable(sf: Salesforce, report: SeedReport) -> None:
    email = sf.query(
        format_soql(
            "SELECT Id, Subject FROM EmailMessage WHERE MessageIdentifier = {} LIMIT 1",
            report.saved_email_message_id,
        )
    )
    event = sf.query(
        format_soql(
            "SELECT Id FROM Event WHERE Sidepane_UID__c = {}", report.upcoming_meeting_message_id
        )
    )

    assert email["totalSize"] == 1 and event["totalSize"] == 1


def test_count_query(sf: Salesforce, report: SeedReport) -> None:
    answer = sf.query("SELECT COUNT() FROM Contact")

    assert answer == {"totalSize": report.contacts, "done": True, "records": []}


# -- paging -----------------------------------------------------------------------------------


def test_query_all_follows_next_records_url(
    salesforce: SalesforceEmulator,  # noqa: F811
    sf: Salesforce,
    report: SeedReport,
) -> None:
    salesforce.page_size = 150
    first = sf.query("SELECT Id FROM Contact ORDER BY LastName")

    assert first["done"] is False and first["totalSize"] == report.contacts
    assert len(first["records"]) == 150
    assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-150", first["nextRecordsUrl"])

    everything = sf.query_all("SELECT Id FROM Contact ORDER BY LastName")

    assert everything["totalSize"] == report.contacts
    assert len({record["Id"] for record in everything["records"]}) == report.contacts
    pages = sum(count for key, count in salesforce.requests_served.items() if "/query/01g" in key)
    assert pages == 2  # query_all: 150, then two more pages (150 + 100)


def test_batch_size_header_and_the_default_page(
    salesforce: SalesforceEmulator,  # noqa: F811
    report: SeedReport,
) -> None:
    headers = {"Sforce-Query-Options": "batchSize=200"}
    token = salesforce.issue_access_token()
    answer = requests.get(
        salesforce.rest_url + "query/",
        params={"q": "SELECT Id FROM Contact"},
        headers={"Authorization": f"Bearer {token}", **headers},
        verify=salesforce.ca_file,
        timeout=5,
    ).json()
    assert len(answer["records"]) == 200 and not answer["done"]
    default = client(salesforce, token).query("SELECT Id FROM Contact")
    assert default["done"] and len(default["records"]) == report.contacts


def test_more_than_two_thousand_rows_page_by_two_thousand(
    salesforce: SalesforceEmulator,  # noqa: F811
    sf: Salesforce,
) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": f"Bulk {number:04d}"} for number in range(200)
    ]
    for _ in range(11):
        assert all(
            r["success"]
            for r in sf.restful(
                "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
            )
        )
    first = sf.query("SELECT Id FROM Account WHERE Name LIKE 'Bulk%'")
    assert first["totalSize"] == 2200 and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].endswith("-2000")
    assert len(sf.query_all("SELECT Id FROM Account WHERE Name LIKE 'Bulk%'")["records"]) == 2200


def test_an_unknown_locator_is_refused(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query_more("/services/data/v59.0/query/01gXXXXXXXXXXXXXXX-2000", True)

    assert raised.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


# -- writes -----------------------------------------------------------------------------------


def test_create_a_contact_and_read_it_back(
    salesforce: SalesforceEmulator,  # noqa: F811
    sf: Salesforce,
    known: Known,
) -> None:
    body = {
        "FirstName": "Nora",
        "LastName": "Quist",
        "Email": "nora.quist@example.com",
        "Title": "Buyer",
        "Phone": "+45 12 34 56 78",
        "MobilePhone": None,
        "AccountId": known.regarding_account_id,
    }

    created = sf.Contact.create(body)

    assert created["success"] is True and created["errors"] == []
    assert re.fullmatch(r"003[0-9A-Za-z]{15}", created["id"])
    record = sf.Contact.get(created["id"])
    assert record["Name"] == "Nora Quist" and record["Email"] == body["Email"]
    assert record["AccountId"] == known.regarding_account_id
    assert record["CreatedDate"].endswith("+0000")
    assert sf.Contact.get(created["id"][:15])["Id"] == created["id"]
    assert [r["Id"] for r in match(sf, "NORA.quist@example.com")] == [created["id"]]
    assert sf.Contact.update(created["id"], {"LastName": "Quist-Berg"}) == 204
    assert salesforce.record("Contact", created["id"])["Name"] == "Nora Quist-Berg"
    salesforce.reset()
    assert salesforce.record("Contact", created["id"]) is None


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"FirstName": "No"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ({"LastName": "X", "Foo": 1}, "INVALID_FIELD", []),
        ({"LastName": "X", "Name": "Y"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Name"]),
        ({"LastName": "X", "Email": "not an address"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
        (
            {"LastName": "X", "AccountId": "001000000000000AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            ["AccountId"],
        ),
        ({"LastName": ["X"]}, "JSON_PARSER_ERROR", []),
    ],
)
def test_create_refusals(
    sf: Salesforce, body: dict[str, Any], code: str, fields: list[str]
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create(body)

    assert raised.value.status == 400
    assert raised.value.content[0]["errorCode"] == code
    assert raised.value.content[0]["fields"] == fields


def test_a_reference_of_the_wrong_type(sf: Salesforce, known: Known) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"LastName": "X", "AccountId": known.single_contact_id})

    assert raised.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_missing_records_and_objects_are_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Contact.get("003000000000000AAA")
    assert raised.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND", "fields": []}
    ]
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("sobjects/Foo/")


def test_email_message_with_ids_creates_relations(
    salesforce: SalesforceEmulator,  # noqa: F811
    sf: Salesforce,
    known: Known,
) -> None:
    rep = salesforce.default_user_id
    second = salesforce.record("Contact", known.second_field_contact_id) or {}
    created = sf.EmailMessage.create(
        {
            "Subject": "Quote",
            "HtmlBody": "<p>Hello</p>",
            "FromAddress": "alex@contoso.example",
            "FromName": "Alex Morgan",
            "ToAddress": "new.person@unknown-company.example",
            "CcAddress": None,
            "BccAddress": None,
            "ToIds": [known.single_contact_id],
            "CcIds": [known.second_field_contact_id],
            "BccIds": [],
            "MessageDate": "2026-11-20T09:30:00Z",
            "Incoming": False,
            "Status": "3",
            "MessageIdentifier": "<new-1@contoso.example>",
            "RelatedToId": known.regarding_account_id,
        }
    )

    relations = sf.query(
        format_soql(
            "SELECT RelationId, RelationAddress, RelationType FROM EmailMessageRelation"
            " WHERE EmailMessageId = {} ORDER BY RelationType",
            created["id"],
        )
    )["records"]
    found = {(r["RelationType"], r["RelationId"], r["RelationAddress"]) for r in relations}
    assert found == {
        ("ToAddress", known.single_contact_id, known.single_address),
        ("CcAddress", known.second_field_contact_id, second["Email"]),
        ("ToAddress", None, "new.person@unknown-company.example"),
        ("FromAddress", rep, "alex@contoso.example"),
    }
    record = sf.EmailMessage.get(created["id"])
    assert record["MessageDate"] == "2026-11-20T09:30:00.000+0000" and "ToIds" not in record
    related = sf.query(
        format_soql(
            "SELECT Id FROM EmailMessage WHERE Id IN (SELECT EmailMessageId FROM"
            " EmailMessageRelation WHERE RelationId = {})",
            known.second_field_contact_id,
        )
    )
    assert created["id"] in {r["Id"] for r in related["records"]}


def test_an_attachment_of_a_saved_email_and_deleting_the_email(
    salesforce: SalesforceEmulator,  # noqa: F811
    sf: Salesforce,
    known: Known,
) -> None:
    email = sf.EmailMessage.create(
        {"Subject": "Files", "Status": "3", "ToIds": [known.single_contact_id]}
    )
    content = base64.b64encode(b"%PDF-1.7 quote").decode("ascii")
    file = sf.ContentVersion.create(
        {
            "Title": "quote.pdf",
            "PathOnClient": "quote.pdf",
            "VersionData": content,
            "FirstPublishLocationId": email["id"],
        }
    )

    assert file["id"].startswith("068")
    files = sf.query(
        format_soql(
            "SELECT Title, ContentSize FROM ContentVersion WHERE FirstPublishLocationId = {}",
            email["id"],
        )
    )["records"]
    assert [(f["Title"], f["ContentSize"]) for f in files] == [("quote.pdf", 14)]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.ContentVersion.create({"PathOnClient": "x.bin", "VersionData": "not base64!"})
    assert raised.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"

    assert sf.EmailMessage.delete(email["id"]) == 204
    assert not [
        r for r in salesforce.records("EmailMessageRelation") if r["EmailMessageId"] == email["id"]
    ]
    with pytest.raises(SalesforceResourceNotFound):
        sf.EmailMessage.get(email["id"])


def test_composite_batch_reports_each_subrequest(sf: Salesforce, known: Known) -> None:
    body = {
        "batchRequests": [
            {"method": "GET", "url": "v59.0/query/?q=SELECT+Id+FROM+User"},
            {"method": "GET", "url": "v59.0/query/?q=SELECT+Id+FORM+User"},
            {
                "method": "GET",
                "url": f"/services/data/v59.0/sobjects/Account/{known.regarding_account_id}",
            },
            {"method": "POST", "url": "v59.0/sobjects/Account/", "richInput": {"Name": "Batch Co"}},
        ]
    }

    answer = sf.restful("composite/batch", method="POST", json=body)

    assert answer["hasErrors"] is True
    users, malformed, account, created = answer["results"]
    assert users["statusCode"] == 200 and users["result"]["totalSize"] == 1
    assert malformed["statusCode"] == 400
    assert malformed["result"][0]["errorCode"] == "MALFORMED_QUERY"
    assert account["result"]["Id"] == known.regarding_account_id
    assert created["statusCode"] == 201 and created["result"]["success"] is True


def test_composite_batch_limits(sf: Salesforce) -> None:
    one = {"method": "GET", "url": "v59.0/limits/"}
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/batch", method="POST", json={"batchRequests": [one] * 26})
    halted = sf.restful(
        "composite/batch",
        method="POST",
        json={"haltOnError": True, "batchRequests": [{"method": "GET", "url": "v59.0/nope"}, one]},
    )
    assert [r["statusCode"] for r in halted["results"]] == [404, 412]


def test_composite_sobjects_event_with_relations(
    salesforce: SalesforceEmulator,  # noqa: F811
    sf: Salesforce,
    known: Known,
) -> None:
    event = sf.Event.create(
        {
            "Subject": "Site visit",
            "StartDateTime": "2026-12-01T09:00:00Z",
            "EndDateTime": "2026-12-01T10:00:00Z",
            "WhoId": known.single_contact_id,
            "WhatId": known.regarding_account_id,
            "Sidepane_UID__c": "uid-1@contoso.example",
        }
    )
    records = [
        {
            "attributes": {"type": "EventRelation"},
            "EventId": event["id"],
            "RelationId": contact_id,
            "IsInvitee": True,
        }
        for contact_id in (known.second_field_contact_id, known.third_field_contact_id)
    ]

    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )

    assert [r["success"] for r in results] == [True, True]
    relations = salesforce.records("EventRelation")
    mine = {r["RelationId"]: r for r in relations if r["EventId"] == event["id"]}
    assert set(mine) == {
        known.single_contact_id,
        known.second_field_contact_id,
        known.third_field_contact_id,
    }
    assert mine[known.single_contact_id]["IsParent"] is True
    duplicate = {
        "Subject": "Again",
        "StartDateTime": "2026-12-01T09:00:00Z",
        "EndDateTime": "2026-12-01T10:00:00Z",
        "Sidepane_UID__c": "uid-1@contoso.example",
    }
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Event.create(duplicate)
    assert raised.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_composite_sobjects_all_or_none_rolls_back(
    salesforce: SalesforceEmulator,  # noqa: F811
    sf: Salesforce,
) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "Kept Or Not"},
        {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
    ]

    rolled_back = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    partial = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": False, "records": records}
    )

    assert [r["success"] for r in rolled_back] == [False, False]
    assert rolled_back[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert rolled_back[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert [r["success"] for r in partial] == [True, False]
    names = [r["Name"] for r in salesforce.records("Account")]
    assert names.count("Kept Or Not") == 1


# -- search -----------------------------------------------------------------------------------


def test_parameterized_search_matches_word_prefixes(sf: Salesforce, report: SeedReport) -> None:
    def search(q: str, **params: Any) -> list[dict[str, Any]]:
        query = {
            "q": q,
            "sobject": ["Account", "Contact"],
            "Account.fields": "Id,Name",
            "Contact.fields": "Id,Name,Account.Name",
            **params,
        }
        found: list[dict[str, Any]] = sf.restful("parameterizedSearch/", params=query)[
            "searchRecords"
        ]
        return found

    rossi = search("ross")
    assert report.names["Giulia Rossi"] in {r["Id"] for r in rossi}
    assert report.names["Rossi Costruzioni S.p.A."] in {r["Id"] for r in rossi}
    assert {r["attributes"]["type"] for r in rossi} == {"Account", "Contact"}
    lukasz = search("lukasz WROB")
    assert [r["Name"] for r in lukasz] == ["Łukasz Wróbel"]
    assert lukasz[0]["Account"]["attributes"]["type"] == "Account"
    assert search("soren oster")[0]["Name"] == "Søren Østergaard"
    limited = search("giulia rossi", **{"Contact.limit": "1", "sobject": "Contact"})
    assert len(limited) == 1
    with pytest.raises(SalesforceMalformedRequest):
        search("x")


# -- errors as simple-salesforce sees them ------------------------------------------------------


def test_soql_errors_are_malformed_requests(sf: Salesforce) -> None:
    for text, code in (
        ("SELECT Id FORM Contact", "MALFORMED_QUERY"),
        ("SELECT Foo FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Foo", "INVALID_TYPE"),
    ):
        with pytest.raises(SalesforceMalformedRequest) as raised:
            sf.query(text)
        assert raised.value.content[0]["errorCode"] == code


def test_a_missing_or_unknown_token_is_an_expired_session(
    salesforce: SalesforceEmulator,  # noqa: F811
) -> None:
    with pytest.raises(SalesforceExpiredSession) as raised:
        client(salesforce, "00Dnot!a-token").query("SELECT Id FROM User")

    assert raised.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}
    ]
    answer = requests.get(salesforce.rest_url + "limits/", verify=salesforce.ca_file, timeout=5)
    assert answer.status_code == 401


def test_expired_and_revoked_tokens(salesforce: SalesforceEmulator) -> None:  # noqa: F811
    sf = client(salesforce)
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1

    assert salesforce.expire_access_tokens() >= 1
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM User")
    token = salesforce.issue_access_token()
    assert salesforce.revoke(token)
    with pytest.raises(SalesforceExpiredSession):
        client(salesforce, token).query("SELECT Id FROM User")


def test_faults(salesforce: SalesforceEmulator, sf: Salesforce) -> None:  # noqa: F811
    salesforce.exceed_request_limit(path="query/")
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM User")
    assert raised.value.content[0] == {
        "message": "TotalRequests Limit exceeded.",
        "errorCode": "REQUEST_LIMIT_EXCEEDED",
        "fields": [],
    }

    salesforce.invalid_session()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM User")

    salesforce.fail(500)
    salesforce.fail(503, method="GET")
    with pytest.raises(SalesforceGeneralError) as general:
        sf.query("SELECT Id FROM User")
    assert general.value.status == 500
    with pytest.raises(SalesforceGeneralError) as general:
        sf.query("SELECT Id FROM User")
    assert general.value.status == 503
    assert general.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"

    salesforce.drop(times=1, path="/services/data/")
    with pytest.raises(requests.ConnectionError):
        sf.query("SELECT Id FROM User")

    salesforce.fail(502, path="sobjects/Contact/")
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1  # other paths are untouched
    assert salesforce.requests_served["GET /services/data/v59.0/query/"] == 6


def test_latency(salesforce: SalesforceEmulator, sf: Salesforce) -> None:  # noqa: F811
    salesforce.latency = 0.2
    started = time.monotonic()
    sf.query("SELECT Id FROM User")
    assert time.monotonic() - started >= 0.2
    salesforce.reset()
    assert salesforce.latency == 0.0


def test_api_usage_header_and_limit(salesforce: SalesforceEmulator) -> None:  # noqa: F811
    sf = client(salesforce)
    sf.query("SELECT Id FROM User")
    sf.query("SELECT Id FROM User")
    usage = sf.api_usage["api-usage"]
    assert (usage.used, usage.total) == (2, 15000)
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - 3}

    salesforce.api_limit = 4
    sf.query("SELECT Id FROM User")
    with pytest.raises(SalesforceRefusedRequest):
        sf.query("SELECT Id FROM User")
    salesforce.api_limit = 15000


def test_old_api_versions_are_not_found(salesforce: SalesforceEmulator) -> None:  # noqa: F811
    token = salesforce.issue_access_token()
    answer = requests.get(
        f"{salesforce.url}/services/data/v30.0/limits/",
        headers={"Authorization": f"Bearer {token}"},
        verify=salesforce.ca_file,
        timeout=5,
    )
    assert answer.status_code == 404
    newer = client(salesforce, token, version="62.0")
    record = newer.query("SELECT Id FROM User")["records"][0]
    assert record["attributes"]["url"].startswith("/services/data/v62.0/sobjects/User/")


def test_describe_names_the_custom_fields(sf: Salesforce) -> None:
    fields = {field["name"] for field in sf.Contact.describe()["fields"]}

    assert {"Email2__c", "Email3__c", "AccountId"} <= fields
    assert "Event" in {sobject["name"] for sobject in sf.describe()["sobjects"]}


# -- OAuth ------------------------------------------------------------------------------------


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize(
    emulator: SalesforceEmulator, challenge: str, *, decision: str = "allow", **params: str
) -> requests.Response:
    """Open the login page as a browser would and press a button; return the redirect."""
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "api refresh_token",
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "login consent",
    } | params
    page = requests.get(
        f"{emulator.url}/services/oauth2/authorize",
        params=query,
        verify=emulator.ca_file,
        timeout=5,
        allow_redirects=False,
    )
    assert page.status_code == 200, page.text
    assert '<button type="submit" name="decision" value="allow">Allow</button>' in page.text
    assert '<button type="submit" name="decision" value="deny">Deny</button>' in page.text
    form = dict(re.findall(r'name="(request_id|username)"[^>]*value="([^"]*)"', page.text, re.S))
    return requests.post(
        f"{emulator.url}/services/oauth2/authorize",
        data=form | {"decision": decision},
        verify=emulator.ca_file,
        timeout=5,
        allow_redirects=False,
    )


def token_request(emulator: SalesforceEmulator, **form: str) -> requests.Response:
    return requests.post(
        f"{emulator.url}/services/oauth2/token",
        data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET} | form,
        verify=emulator.ca_file,
        timeout=5,
    )


def test_oauth_round_trip(salesforce: SalesforceEmulator) -> None:  # noqa: F811
    salesforce.register_connected_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    verifier, challenge = pkce()

    redirect = authorize(salesforce, challenge)

    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert params["state"] == "st4te"
    tokens = token_request(
        salesforce,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    ).json()
    assert tokens["instance_url"] == salesforce.url
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "api refresh_token"
    user = salesforce.default_user_id
    assert tokens["id"] == f"{salesforce.url}/id/{salesforce.organization_id}/{user}"
    assert tokens["issued_at"].isdigit() and tokens["signature"]
    assert client(salesforce, tokens["access_token"]).query("SELECT Id FROM User")["totalSize"]

    identity = requests.get(
        tokens["id"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        verify=salesforce.ca_file,
        timeout=5,
    ).json()
    assert identity["user_id"] == user and identity["email"] == "alex@contoso.example"
    assert identity["organization_id"] == salesforce.organization_id

    reused = token_request(
        salesforce,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"

    refreshed = token_request(
        salesforce, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert "refresh_token" not in refreshed and refreshed["access_token"] != tokens["access_token"]
    assert client(salesforce, refreshed["access_token"]).query("SELECT Id FROM User")["totalSize"]

    revoked = requests.post(
        f"{salesforce.url}/services/oauth2/revoke",
        data={"token": tokens["refresh_token"]},
        verify=salesforce.ca_file,
        timeout=5,
    )
    assert revoked.status_code == 200
    again = token_request(
        salesforce, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    with pytest.raises(SalesforceExpiredSession):
        client(salesforce, refreshed["access_token"]).query("SELECT Id FROM User")


def test_refresh_after_access_tokens_expire(salesforce: SalesforceEmulator) -> None:  # noqa: F811
    salesforce.register_connected_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    verifier, challenge = pkce()
    code = parse_qs(urlsplit(authorize(salesforce, challenge).headers["Location"]).query)["code"]
    tokens = token_request(
        salesforce,
        grant_type="authorization_code",
        code=code[0],
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    ).json()

    salesforce.expire_access_tokens()

    with pytest.raises(SalesforceExpiredSession):
        client(salesforce, tokens["access_token"]).query("SELECT Id FROM User")
    refreshed = token_request(
        salesforce, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert client(salesforce, refreshed["access_token"]).query("SELECT Id FROM User")["totalSize"]


def test_oauth_refusals(salesforce: SalesforceEmulator) -> None:  # noqa: F811
    salesforce.register_connected_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    verifier, challenge = pkce()

    denied = authorize(salesforce, challenge, decision="deny")
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {
        "error": ["access_denied"],
        "error_description": ["end-user denied authorization"],
        "state": ["st4te"],
    }

    code = parse_qs(urlsplit(authorize(salesforce, challenge).headers["Location"]).query)["code"]
    wrong = token_request(
        salesforce,
        grant_type="authorization_code",
        code=code[0],
        redirect_uri=REDIRECT_URI,
        code_verifier=pkce()[0],
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    code = parse_qs(urlsplit(authorize(salesforce, challenge).headers["Location"]).query)["code"]
    elsewhere = token_request(
        salesforce,
        grant_type="authorization_code",
        code=code[0],
        redirect_uri="https://evil.example/cb",
        code_verifier=verifier,
    )
    assert elsewhere.json()["error"] == "redirect_uri_mismatch"

    salesforce.code_lifetime = 0.0
    code = parse_qs(urlsplit(authorize(salesforce, challenge).headers["Location"]).query)["code"]
    late = token_request(
        salesforce,
        grant_type="authorization_code",
        code=code[0],
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )
    assert late.json() == {
        "error": "invalid_grant",
        "error_description": "expired authorization code",
    }
    salesforce.code_lifetime = 900.0

    secret = token_request(salesforce, grant_type="refresh_token", client_secret="nope")
    assert secret.json()["error"] == "invalid_client"

    for params, error in (
        ({"client_id": "unknown"}, "invalid_client_id"),
        ({"redirect_uri": "https://evil.example/cb"}, "redirect_uri_mismatch"),
    ):
        page = requests.get(
            f"{salesforce.url}/services/oauth2/authorize",
            params={"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI}
            | params,
            verify=salesforce.ca_file,
            timeout=5,
            allow_redirects=False,
        )
        assert page.status_code == 400 and "Location" not in page.headers
        assert f"error={error}" in page.text
    wrong_type = requests.get(
        f"{salesforce.url}/services/oauth2/authorize",
        params={"response_type": "token", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI},
        verify=salesforce.ca_file,
        timeout=5,
        allow_redirects=False,
    )
    assert "error=unsupported_response_type" in wrong_type.headers["Location"]


def test_a_production_and_a_sandbox_org(seeded_sandbox: tuple[Path, SeedReport]) -> None:
    with (
        SalesforceEmulator(org_name="Contoso") as production,
        SalesforceEmulator.from_sandbox(
            seeded_sandbox[0], kind="sandbox", org_name="Contoso (Full)"
        ) as sandbox,
    ):
        assert production.organization_id != sandbox.organization_id
        assert production.organization_id.startswith("00D")
        assert client(production).is_sandbox() is False
        assert client(sandbox).is_sandbox() is True
        assert production.user(production.default_user_id)["Username"] == "alex@contoso.example"
        sandbox_user = sandbox.user(sandbox.default_user_id)
        assert sandbox_user["Username"] == "alex@contoso.example.sandbox"
        assert client(production).query("SELECT COUNT() FROM Contact")["totalSize"] == 0
        assert client(sandbox).query("SELECT COUNT() FROM Contact")["totalSize"] == 400
        with pytest.raises(SalesforceExpiredSession):  # tokens are per org
            client(sandbox, production.issue_access_token()).query("SELECT Id FROM User")


def test_runs_by_hand(seeded_sandbox: tuple[Path, SeedReport]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.salesforce", "--sandbox", str(seeded_sandbox[0])],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        lines = dict(process.stdout.readline().split(":", 1) for _ in range(4))
        url, ca_file, token = (
            lines[name].strip() for name in ("Salesforce emulator", "CA file", "Access token")
        )
        answer = requests.get(
            f"{url}/services/data/v59.0/query/",
            params={"q": "SELECT COUNT() FROM Account"},
            headers={"Authorization": f"Bearer {token}"},
            verify=ca_file,
            timeout=5,
        )
        assert answer.json()["totalSize"] > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
