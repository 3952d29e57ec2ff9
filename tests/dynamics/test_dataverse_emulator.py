"""The loopback Dataverse emulator against plain ``requests``: the contract's requests, over TLS.

Every request passes ``verify=<ca_file>`` itself: the machines set ``REQUESTS_CA_BUNDLE``, which
would override a session's ``verify``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from crm_adapters.sandbox import SeedReport
from tests.emulators.dataverse import DataverseEmulator
from tests.emulators.entra import EntraEmulator
from tests.emulators.fixtures import dataverse, dataverse_server  # noqa: F401
from tests.emulators.loopback import shared_ca
from tests.known import Known, sandbox_known

TENANT = "9b2f4c1e-5a6d-4e8f-a1b2-c3d4e5f60718"
REP_OID = "3f6d1a2b-4c5e-4f70-8a9b-0c1d2e3f4a5b"
FORMATTED = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
CONTACT_COLUMNS = (
    "contactid,firstname,lastname,fullname,emailaddress1,emailaddress2,emailaddress3,"
    "jobtitle,telephone1,mobilephone,_parentcustomerid_value"
)


class Api:
    """A client as the adapter is one: bearer token, OData headers, the emulator's CA."""

    def __init__(self, emulator: DataverseEmulator, token: str | None) -> None:
        self.emulator, self.token = emulator, token

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            "If-None-Match": "null",
            "Prefer": FORMATTED,
        }
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers | dict(extra or {})

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("https://") else self.emulator.api_url + path
        headers = self.headers(kwargs.pop("headers", None))
        return requests.request(
            method, url, headers=headers, verify=self.emulator.ca_file, timeout=5, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def known(seeded_sandbox: tuple[Any, SeedReport]) -> Known:
    return sandbox_known(seeded_sandbox[1])


@pytest.fixture
def report(seeded_sandbox: tuple[Any, SeedReport]) -> SeedReport:
    return seeded_sandbox[1]


@pytest.fixture
def api(dataverse: DataverseEmulator, entra: EntraEmulator) -> Api:  # noqa: F811
    token = entra.issue_token(tenant_id=TENANT, oid=REP_OID, audience=dataverse.url)
    return Api(dataverse, token)


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def match_params(addresses: list[str]) -> dict[str, str]:
    """Return request 1's query: In over the three address columns, the list given once."""
    terms = " or ".join(
        f"Microsoft.Dynamics.CRM.In(PropertyName=@p{n},PropertyValues=@v)" for n in (1, 2, 3)
    )
    return {
        "$select": CONTACT_COLUMNS,
        "$filter": terms,
        "@p1": "'emailaddress1'",
        "@p2": "'emailaddress2'",
        "@p3": "'emailaddress3'",
        "@v": json.dumps(addresses),
    }


def error_of(response: requests.Response) -> dict[str, str]:
    error: dict[str, str] = response.json()["error"]
    return error


# -- request 1: matching addresses ----------------------------------------------------------------


def test_in_filter_over_three_fields_matches_the_known_contacts(api: Api, known: Known) -> None:
    addresses = [
        known.single_address.upper(),  # matching is case-insensitive
        known.second_field_address,
        known.third_field_address,
        known.shared_address,
        "nobody@nowhere.example",
    ]

    response = api.get("contacts", params=match_params(addresses))

    assert response.status_code == 200
    found = {row["contactid"] for row in response.json()["value"]}
    expected = {
        known.single_contact_id,
        known.second_field_contact_id,
        known.third_field_contact_id,
        *known.shared_contact_ids,
    }
    assert found == expected
    giulia = next(r for r in response.json()["value"] if r["contactid"] == known.single_contact_id)
    assert giulia["fullname"] == "Giulia Rossi"
    assert giulia["_parentcustomerid_value"] == known.regarding_account_id
    formatted = "_parentcustomerid_value@OData.Community.Display.V1.FormattedValue"
    assert giulia[formatted] == known.account_name
    assert response.json()["@odata.context"].endswith(f"$metadata#contacts({CONTACT_COLUMNS})")
    assert response.headers["Preference-Applied"] == FORMATTED


def test_address_with_apostrophe_and_plus_matches_exactly(api: Api, report: SeedReport) -> None:
    address = next(a for a in report.tricky_addresses if "'" in a and "+" in a)
    contact_id = report.tricky_addresses[address]

    by_in = api.get("contacts", params=match_params([address]))
    doubled = address.replace("'", "''")
    by_eq = api.get(
        "contacts", params={"$select": "contactid", "$filter": f"emailaddress1 eq '{doubled}'"}
    )
    without_plus = api.get("contacts", params=match_params([address.replace("+", " ")]))

    assert [row["contactid"] for row in by_in.json()["value"]] == [contact_id]
    assert [row["contactid"] for row in by_eq.json()["value"]] == [contact_id]
    assert without_plus.json()["value"] == []


def test_wildcards_are_escaped_with_brackets(api: Api, report: SeedReport) -> None:
    address = next(a for a in report.tricky_addresses if "%" in a)
    local = address.split("@")[0]  # 100%_sure
    escaped = local.replace("[", "[[]").replace("%", "[%]").replace("_", "[_]")

    literal = api.get(
        "contacts",
        params={"$select": "contactid", "$filter": f"startswith(emailaddress1,'{escaped}')"},
    )
    wildcard = api.get(
        "contacts", params={"$select": "contactid", "$filter": "contains(emailaddress1,'%')"}
    )

    assert [row["contactid"] for row in literal.json()["value"]] == [
        report.tricky_addresses[address]
    ]
    assert len(wildcard.json()["value"]) > 100  # an unescaped % matches everything


@pytest.mark.parametrize("value", ["x' or '1'='1", "') or 1 eq 1 or ('", '\\" ] or true'])
def test_injection_attempts_are_data(api: Api, value: str) -> None:
    as_list = api.get("contacts", params=match_params([value]))
    quoted = value.replace("'", "''")
    as_literal = api.get(
        "contacts", params={"$select": "contactid", "$filter": f"emailaddress1 eq '{quoted}'"}
    )

    assert as_list.status_code == as_literal.status_code == 200
    assert as_list.json()["value"] == as_literal.json()["value"] == []


def test_unescaped_quote_is_refused_not_widened(api: Api) -> None:
    response = api.get(
        "contacts", params={"$select": "contactid", "$filter": "emailaddress1 eq 'x' or '1'='1'"}
    )

    assert response.status_code == 400


# -- request 2: accounts with opportunities, cases and activities ---------------------------------


def accounts_params(contact_ids: list[str], moment: str, top: int = 10) -> dict[str, str]:
    lambda_terms = " or ".join(f"c/contactid eq {cid}" for cid in contact_ids)
    primary_terms = " or ".join(f"_primarycontactid_value eq {cid}" for cid in contact_ids)
    expand = (
        "opportunity_customer_accounts($select=opportunityid,name,stepname,estimatedvalue,"
        f"estimatedclosedate;$filter=statecode eq 0;$orderby=estimatedclosedate asc;$top={top}),"
        "incident_customer_accounts($select=incidentid,title,ticketnumber,statecode,"
        f"prioritycode;$filter=statecode eq 0;$orderby=createdon desc;$top={top}),"
        f"Account_Emails($select=activityid,subject,actualend;$filter=actualend le {moment};"
        f"$orderby=actualend desc;$top={top}),"
        "Account_Appointments($select=activityid,subject,scheduledstart;"
        f"$filter=scheduledstart le {moment};$orderby=scheduledstart desc;$top={top})"
    )
    return {
        "$select": "accountid,name,websiteurl,telephone1,address1_city,address1_country",
        "$filter": f"contact_customer_accounts/any(c:{lambda_terms}) or {primary_terms}",
        "$expand": expand,
    }


def test_accounts_of_a_contact_with_open_deals_cases_and_activities(api: Api, known: Known) -> None:
    response = api.get("accounts", params=accounts_params([known.account_contact_id], now()))

    assert response.status_code == 200, response.text
    (account,) = response.json()["value"]
    assert account["accountid"] == known.regarding_account_id
    assert account["name"] == known.account_name
    deals = account["opportunity_customer_accounts"]
    assert deals and [d["estimatedclosedate"] for d in deals] == sorted(
        d["estimatedclosedate"] for d in deals
    )
    cases = account["incident_customer_accounts"]
    assert cases and all(case["statecode"] == 0 for case in cases)
    assert cases[0]["prioritycode@OData.Community.Display.V1.FormattedValue"] == "High"
    emails = account["Account_Emails"]
    assert emails and [e["actualend"] for e in emails] == sorted(
        (e["actualend"] for e in emails), reverse=True
    )
    assert all(e["actualend"] <= now() for e in emails)
    assert account["Account_Appointments"]  # the past kick-off meeting


def test_contact_with_several_accounts_gets_them_all(api: Api, known: Known) -> None:
    response = api.get("accounts", params=accounts_params([known.multi_account_contact_id], now()))

    assert len(response.json()["value"]) >= 2


# -- request 3: related items ---------------------------------------------------------------------


def test_related_emails_and_meetings_of_a_contact(api: Api, known: Known) -> None:
    moment, contact = now(), known.related_contact_id
    emails = api.get(
        "emails",
        params={
            "$select": "activityid,subject,actualend",
            "$filter": f"email_activity_parties/any(p:p/_partyid_value eq {contact})"
            f" and actualend le {moment}",
            "$orderby": "actualend desc",
            "$top": "50",
        },
    ).json()["value"]
    meetings = api.get(
        "appointments",
        params={
            "$select": "activityid,subject,scheduledstart",
            "$filter": f"appointment_activity_parties/any(p:p/_partyid_value eq {contact})"
            f" and scheduledstart ge {moment}",
            "$orderby": "scheduledstart asc",
            "$top": "50",
        },
    ).json()["value"]

    assert len(emails) > 10
    assert [e["actualend"] for e in emails] == sorted(
        (e["actualend"] for e in emails), reverse=True
    )
    assert len(meetings) > 10
    assert [m["scheduledstart"] for m in meetings] == sorted(m["scheduledstart"] for m in meetings)
    assert all(m["scheduledstart"] >= moment for m in meetings)


# -- request 4: $batch ----------------------------------------------------------------------------


def batch_body(requests_: list[str], boundary: str) -> bytes:
    parts = [
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        f"\r\nGET {target} HTTP/1.1\r\nAccept: application/json\r\nPrefer: {FORMATTED}\r\n\r\n"
        for target in requests_
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8")


def batch_responses(response: requests.Response) -> list[tuple[int, Any]]:
    """Return (status, JSON body) of each part of a batch response."""
    head = f"Content-Type: {response.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + response.content)
    results = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        status_line, _, rest = payload.partition(b"\r\n")
        body = rest.split(b"\r\n\r\n", 1)[1].strip()
        results.append((int(status_line.split()[1]), json.loads(body) if body else None))
    return results


def test_batch_with_three_gets_answers_each_in_order(api: Api, known: Known) -> None:
    boundary = f"batch_{uuid.uuid4()}"
    contact = known.related_contact_id
    parts = [
        f"{api.emulator.api_url}contacts({contact})?$select=fullname",
        f"/api/data/v9.2/emails?$select=subject&$filter=email_activity_parties/any(p:p/_partyid_value%20eq%20{contact})&$top=2",
        "accounts?$select=nope",
    ]

    response = api.post(
        "$batch",
        data=batch_body(parts, boundary),
        headers={"Content-Type": f'multipart/mixed; boundary="{boundary}"'},
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("multipart/mixed; boundary=batchresponse_")
    (s1, contact_row), (s2, emails), (s3, error) = batch_responses(response)
    assert (s1, s2, s3) == (200, 200, 400)
    assert contact_row["fullname"] == "Giulia Rossi"
    assert len(emails["value"]) == 2
    assert "nope" in error["error"]["message"]
    assert api.emulator.requests_served == {"POST /api/data/v9.2/$batch": 1}


def test_batch_limit_is_a_thousand_requests(api: Api) -> None:
    boundary = "batch_big"
    body = batch_body(["WhoAmI"] * 1001, boundary)

    response = api.post(
        "$batch", data=body, headers={"Content-Type": f"multipart/mixed; boundary={boundary}"}
    )

    assert response.status_code == 400


# -- requests 6 and 7: creating -------------------------------------------------------------------


def test_create_contact_answers_204_with_its_url(api: Api, known: Known) -> None:
    body = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "emailaddress1": "ada@analytical.example",
        "parentcustomerid_account@odata.bind": f"/accounts({known.regarding_account_id})",
    }

    response = api.post("contacts", json=body)

    assert response.status_code == 204
    url = response.headers["OData-EntityId"]
    created = api.get(url, params={"$select": "fullname,_parentcustomerid_value"}).json()
    assert created["fullname"] == "Ada Lovelace"
    assert created["_parentcustomerid_value"] == known.regarding_account_id


def test_create_contact_with_representation_answers_201(api: Api) -> None:
    response = api.post(
        f"contacts?$select={CONTACT_COLUMNS}",
        json={"firstname": "Grace", "lastname": "Hopper", "jobtitle": "Rear Admiral"},
        headers={"Prefer": "return=representation"},
    )

    assert response.status_code == 201
    assert "OData-EntityId" not in response.headers
    record = response.json()
    assert record["fullname"] == "Grace Hopper"
    assert record["@odata.context"].endswith("/$entity")
    assert set(record) - {"@odata.etag", "@odata.context"} == set(CONTACT_COLUMNS.split(","))


def test_create_contact_needs_a_last_name(api: Api) -> None:
    response = api.post("contacts", json={"firstname": "Cher"})

    assert response.status_code == 400
    assert "lastname" in error_of(response)["message"]


def test_deep_insert_email_with_parties_attachment_and_regarding(api: Api, known: Known) -> None:
    rep = api.emulator.add_systemuser("Alex Morgan", "alex@contoso.example")
    message_id = f"<{uuid.uuid4()}@contoso.example>"
    body = {
        "subject": "Offer",
        "description": "<p>Offer</p>",
        "directioncode": False,
        "messageid": message_id,
        "actualend": "2026-11-20T09:30:00Z",
        "regardingobjectid_account_email@odata.bind": f"/accounts({known.regarding_account_id})",
        "email_activity_parties": [
            {
                "participationtypemask": 1,
                "partyid_contact@odata.bind": f"/contacts({known.single_contact_id})",
                "addressused": known.single_address,
            },
            {
                "participationtypemask": 2,
                "partyid_systemuser@odata.bind": f"/systemusers({rep})",
                "addressused": "alex@contoso.example",
            },
            {"participationtypemask": 3, "addressused": "unknown@x.example"},
        ],
        "email_activity_mime_attachment": [
            {
                "filename": "plan.pdf",
                "mimetype": "application/pdf",
                "body": "JVBERi0xLjQK",
                "objecttypecode": "email",
            }
        ],
    }

    created = api.post(
        "emails?$select=activityid,subject",
        json=body,
        headers={"Prefer": "return=representation"},
    )
    found = api.get(
        "emails",
        params={
            "$select": "activityid,subject,_regardingobjectid_value",
            "$filter": f"messageid eq '{message_id}'",
            "$top": "1",
            "$expand": "email_activity_parties($select=participationtypemask,addressused,"
            "_partyid_value),email_activity_mime_attachment($select=filename,filesize)",
        },
    )

    assert created.status_code == 201, created.text
    (email,) = found.json()["value"]
    assert email["activityid"] == created.json()["activityid"]
    assert email["_regardingobjectid_value"] == known.regarding_account_id
    parties = {p["participationtypemask"]: p for p in email["email_activity_parties"]}
    assert parties[1]["_partyid_value"] == known.single_contact_id
    assert parties[2]["_partyid_value"] == rep
    assert parties[3]["_partyid_value"] is None
    (attachment,) = email["email_activity_mime_attachment"]
    assert (attachment["filename"], attachment["filesize"]) == ("plan.pdf", 9)


def test_bind_to_a_missing_account_is_404_and_creates_nothing(api: Api) -> None:
    missing = str(uuid.uuid4())
    before = len(api.emulator.rows("emails"))

    response = api.post(
        "emails",
        json={
            "subject": "Lost",
            "regardingobjectid_account_email@odata.bind": f"/accounts({missing})",
            "email_activity_parties": [{"participationtypemask": 3, "addressused": "a@b.c"}],
        },
    )

    assert response.status_code == 404
    assert error_of(response) == {
        "code": "0x80040217",
        "message": f"account With Id = {missing} Does Not Exist",
    }
    assert len(api.emulator.rows("emails")) == before


def test_create_meeting_stores_its_global_object_id(api: Api, known: Known) -> None:
    uid = "040000008200E00074C5B7101A82E008"
    response = api.post(
        "appointments",
        json={
            "subject": "Site visit",
            "scheduledstart": "2026-12-01T14:00:00+01:00",
            "scheduledend": "2026-12-01T15:00:00Z",
            "location": "Milano",
            "globalobjectid": uid,
            "appointment_activity_parties": [
                {
                    "participationtypemask": 5,
                    "partyid_contact@odata.bind": f"/contacts({known.single_contact_id})",
                }
            ],
        },
    )
    found = api.get(
        "appointments",
        params={"$select": "scheduledstart", "$filter": f"globalobjectid eq '{uid}'"},
    )

    assert response.status_code == 204
    assert [m["scheduledstart"] for m in found.json()["value"]] == ["2026-12-01T13:00:00Z"]


def test_patch_updates_a_contact(api: Api, known: Known) -> None:
    response = api.request(
        "PATCH", f"contacts({known.single_contact_id})", json={"jobtitle": "Direttrice"}
    )
    record = api.get(f"contacts({known.single_contact_id})", params={"$select": "jobtitle"})

    assert response.status_code == 204
    assert record.json()["jobtitle"] == "Direttrice"


# -- errors ---------------------------------------------------------------------------------------


def test_unknown_column_is_400_with_dataverse_message(api: Api) -> None:
    in_select = api.get("contacts", params={"$select": "fullname,nickname"})
    in_body = api.post("contacts", json={"lastname": "X", "nickname": "Y"})

    for response in (in_select, in_body):
        assert response.status_code == 400
        assert error_of(response) == {
            "code": "0x80060888",
            "message": "Could not find a property named 'nickname' on type"
            " 'Microsoft.Dynamics.CRM.contact'.",
        }


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("lastname eq 'O'Bryan'", "There is an unterminated literal at position 21 in"),
        ("lastname eq 'x' lastname", "Syntax error at position 24 in"),
        ("contactid eq 'not-a-guid'", "incompatible types"),
    ],
)
def test_bad_filter_is_400(api: Api, expression: str, message: str) -> None:
    response = api.get("contacts", params={"$select": "fullname", "$filter": expression})

    assert response.status_code == 400
    assert message in error_of(response)["message"]


def test_unknown_entity_set_and_missing_record_are_404(api: Api) -> None:
    no_set = api.get("leads")
    missing_id = str(uuid.uuid4())
    no_record = api.get(f"contacts({missing_id})")

    assert no_set.status_code == 404
    assert error_of(no_set)["message"] == "Resource not found for the segment 'leads'."
    assert no_record.status_code == 404
    assert error_of(no_record) == {
        "code": "0x80040217",
        "message": f"contact With Id = {missing_id} Does Not Exist",
    }


def test_collection_expand_with_nested_expand_refuses_top(api: Api) -> None:
    response = api.get(
        "accounts",
        params={
            "$select": "name",
            "$expand": "contact_customer_accounts($select=fullname;$top=2;"
            "$expand=parentcustomerid_account($select=name))",
        },
    )

    assert response.status_code == 400


def test_paging_follows_next_links(api: Api) -> None:
    first = api.get(
        "contacts",
        params={"$select": "contactid", "$filter": "statecode eq 0"},
        headers={"Prefer": "odata.maxpagesize=150"},
    )
    ids = [row["contactid"] for row in first.json()["value"]]
    link = first.json().get("@odata.nextLink")
    pages = 1
    while link:
        page = api.get(link, headers={"Prefer": "odata.maxpagesize=150"}).json()
        ids += [row["contactid"] for row in page["value"]]
        link, pages = page.get("@odata.nextLink"), pages + 1

    assert first.headers["Preference-Applied"] == "odata.maxpagesize=150"
    assert len(first.json()["value"]) == 150
    assert pages == 3
    assert len(ids) == len(set(ids)) == len(api.emulator.rows("contacts"))


# -- auth, WhoAmI, faults -------------------------------------------------------------------------


def test_requests_without_a_valid_token_are_401(
    dataverse: DataverseEmulator,  # noqa: F811
    entra: EntraEmulator,
) -> None:
    wrong_audience = entra.issue_token(tenant_id=TENANT, oid=REP_OID, audience="api://other")
    expired = entra.issue_token(
        tenant_id=TENANT, oid=REP_OID, audience=dataverse.url, expires_in=-60
    )

    for token in (None, wrong_audience, expired, "not-a-jwt"):
        response = Api(dataverse, token).get("WhoAmI")
        assert response.status_code == 401
        assert response.content == b""
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith(f"Bearer authorization_uri={entra.url}/")


def test_who_am_i_names_the_systemuser_of_the_token(api: Api) -> None:
    first = api.get("WhoAmI").json()
    second = api.get("WhoAmI").json()

    assert first == second
    user = api.emulator.record("systemusers", first["UserId"])
    assert user is not None and user["azureactivedirectoryobjectid"] == REP_OID
    assert set(first) == {"@odata.context", "UserId", "BusinessUnitId", "OrganizationId"}


def test_throttling_answers_429_with_retry_after(api: Api) -> None:
    api.emulator.throttle(retry_after=7, path="contacts")

    other = api.get("WhoAmI")
    throttled = api.get("contacts", params={"$select": "fullname", "$top": "1"})
    again = api.get("contacts", params={"$select": "fullname", "$top": "1"})

    assert other.status_code == 200
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert error_of(throttled)["code"] == "0x80072322"
    assert again.status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_for_the_next_requests(api: Api, status: int) -> None:
    api.emulator.fail(status, times=2)

    statuses = [api.get("WhoAmI").status_code for _ in range(3)]

    assert statuses == [status, status, 200]


def test_dropped_connection(api: Api) -> None:
    api.emulator.drop(method="GET")

    with pytest.raises(requests.ConnectionError):
        api.get("WhoAmI")
    assert api.get("WhoAmI").status_code == 200
    assert api.emulator.requests_served["GET /api/data/v9.2/WhoAmI"] == 2


def test_latency_is_added_to_each_reply(api: Api) -> None:
    api.emulator.latency = 0.05

    started = time.perf_counter()
    api.get("WhoAmI")

    assert time.perf_counter() - started >= 0.05


def test_reset_forgets_writes(api: Api) -> None:
    api.post("contacts", json={"lastname": "Ephemeral"})
    count = len(api.emulator.rows("contacts"))

    api.emulator.reset()

    assert len(api.emulator.rows("contacts")) == count - 1


def test_every_emulator_shares_one_ca_file(
    dataverse: DataverseEmulator,  # noqa: F811
    entra: EntraEmulator,
) -> None:
    assert dataverse.ca_file == entra.ca_file


def test_an_emulator_may_have_its_own_ca() -> None:
    with DataverseEmulator(ca=trustme.CA()) as own:
        own_ca = Path(own.ca_file)
        assert own_ca.exists() and own.ca_file != shared_ca().ca_file
        assert Api(own, "any-token").get("WhoAmI").status_code == 200

    assert not own_ca.exists()


def changeset_body(posts: list[dict[str, Any]], boundary: str, changeset: str) -> bytes:
    parts = "".join(
        f"--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: {n}\r\n\r\nPOST contacts HTTP/1.1\r\nContent-Type: application/json\r\n"
        f"\r\n{json.dumps(post)}\r\n"
        for n, post in enumerate(posts, 1)
    )
    return (
        f"--{boundary}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n"
        f"{parts}--{changeset}--\r\n--{boundary}--\r\n"
    ).encode()


@pytest.mark.parametrize("second_ok", [True, False])
def test_changeset_is_all_or_nothing(api: Api, second_ok: bool) -> None:
    before = len(api.emulator.rows("contacts"))
    second = {"lastname": "Two"} if second_ok else {"firstname": "No last name"}

    response = api.post(
        "$batch",
        data=changeset_body([{"lastname": "One"}, second], "batch_x", "changeset_y"),
        headers={"Content-Type": "multipart/mixed; boundary=batch_x"},
    )

    assert response.status_code == 200
    assert response.text.count("HTTP/1.1 204") == (2 if second_ok else 0)
    assert ("changesetresponse_" in response.text) is second_ok
    assert len(api.emulator.rows("contacts")) == before + (2 if second_ok else 0)


def test_get_by_key_with_expand_and_count(api: Api, known: Known) -> None:
    account = api.get(
        f"accounts({known.regarding_account_id})",
        params={
            "$select": "name",
            "$expand": "contact_customer_accounts($select=fullname;$orderby=fullname)",
        },
    ).json()
    counted = api.get("accounts", params={"$select": "name", "$count": "true", "$top": "1"})

    names = [c["fullname"] for c in account["contact_customer_accounts"]]
    assert "Giulia Rossi" in names and names == sorted(names, key=str.casefold)
    assert account["@odata.context"].endswith(
        "#accounts(name,contact_customer_accounts(fullname))/$entity"
    )
    assert counted.json()["@odata.count"] == len(api.emulator.rows("accounts"))
    assert len(counted.json()["value"]) == 1
