"""The Salesforce adapter's ``readiness`` (rule 20) against the Salesforce emulator.

One request, describeGlobal (``GET sobjects``), says what the signed-in admin may do with each
object Sidepane uses. Salesforce has no server-side synchronization to check.
"""

from __future__ import annotations

import pytest
import requests

from crm_adapters import NotSignedIn, RateLimited, Unavailable
from crm_adapters.models import READINESS_DETAILS, ReadinessCheck
from crm_adapters.salesforce import readiness
from tests.emulators.salesforce import SalesforceEmulator

DESCRIBE = "GET /services/data/v59.0/sobjects"
READY = (ReadinessCheck("reachable", True), ReadinessCheck("permissions", True))


def served(salesforce: SalesforceEmulator) -> dict[str, int]:
    return {key: count for key, count in salesforce.requests_served.items() if count}


# --- a ready org ---------------------------------------------------------------------------------


def test_a_ready_org_passes_both_checks_in_one_round_trip(make, salesforce):
    crm = make()
    assert crm.readiness() == READY
    assert crm.round_trips == 1
    assert served(salesforce) == {DESCRIBE: 1}


def test_a_bigger_org_costs_the_same_one_round_trip(make, salesforce):
    for n in range(50):
        salesforce.add_user("Rep", f"{n:02d}", f"rep{n:02d}@contoso.example")
    crm = make()
    assert crm.readiness() == READY
    assert crm.round_trips == 1


# --- object permissions --------------------------------------------------------------------------


def test_email_messages_that_may_not_be_created_are_named(make, salesforce):
    salesforce.deny_object("EmailMessage", "create")  # no Enhanced Email, or no permission
    assert make().readiness() == (
        READY[0],
        ReadinessCheck("permissions", False, "missing_privileges", ("EmailMessage (create)",), 1),
    )


def test_an_object_that_may_not_be_read_is_named_with_everything_reading_gives(make, salesforce):
    salesforce.deny_object("Case", "query")
    assert make().readiness()[1] == ReadinessCheck(
        "permissions", False, "missing_privileges", ("Case (query, search)",), 1
    )


def test_each_object_is_named_once_with_all_it_lacks(make, salesforce):
    salesforce.deny_object("Contact", "create")
    salesforce.deny_object("Contact", "search")
    assert make().readiness()[1].details == ("Contact (search, create)",)


def test_missing_objects_are_listed_in_order_five_at_most_and_all_counted(make, salesforce):
    denied = ["ContentVersion", "User", "EventRelation", "Event", "EmailMessage", "Opportunity"]
    for name in denied:
        salesforce.deny_object(name, "query")
        salesforce.deny_object(name, "create")
    permissions = make().readiness()[1]
    assert permissions.code == "missing_privileges" and not permissions.ok
    assert permissions.count == 6
    assert permissions.details == (
        "Opportunity (query, search)",
        "EmailMessage (query, create)",
        "Event (query, create)",
        "EventRelation (query, create)",
        "User (query)",
    )
    assert len(permissions.details) == READINESS_DETAILS


def test_access_sidepane_does_not_use_does_not_matter(make, salesforce):
    salesforce.deny_object("Account", "create")
    salesforce.deny_object("Case", "update")
    assert make().readiness() == READY


def test_reset_gives_the_access_back(make, salesforce):
    salesforce.deny_object("Event", "create")
    assert not make().readiness()[1].ok
    salesforce.reset()
    assert make().readiness() == READY


# --- the org cannot be reached, or will not answer -----------------------------------------------


def test_dropped_connections_are_unavailable_after_the_retries(make, salesforce, sleeps):
    salesforce.drop(times=10)
    crm = make()
    with pytest.raises(Unavailable):
        crm.readiness()
    assert crm.round_trips == 3 and len(sleeps) == 2


def test_a_server_failing_on_its_side_is_unavailable(make, salesforce):
    salesforce.fail(503, times=10)
    crm = make()
    with pytest.raises(Unavailable):
        crm.readiness()
    assert served(salesforce) == {DESCRIBE: 3}


def test_one_failure_is_retried_and_the_checks_come(make, salesforce):
    salesforce.fail(503, times=1)
    crm = make()
    assert crm.readiness() == READY
    assert crm.round_trips == 2


def test_an_expired_session_is_refreshed_once(make, salesforce):
    crm = make(refresh=salesforce.issue_access_token)
    salesforce.expire_access_tokens()
    assert crm.readiness() == READY
    assert served(salesforce) == {DESCRIBE: 2}


def test_a_session_that_cannot_be_renewed_is_not_signed_in(make, salesforce):
    salesforce.invalid_session(times=10)
    with pytest.raises(NotSignedIn):
        make().readiness()
    assert served(salesforce) == {DESCRIBE: 1}


def test_the_request_limit_is_waited_out(make, salesforce, sleeps):
    salesforce.exceed_request_limit(times=1)
    crm = make()
    assert crm.readiness() == READY
    assert len(sleeps) == 1 and crm.round_trips == 2


def test_a_request_limit_that_outlasts_the_retries_is_rate_limited(make, salesforce, sleeps):
    salesforce.exceed_request_limit(times=10)
    with pytest.raises(RateLimited):
        make().readiness()
    assert len(sleeps) == 2 and served(salesforce) == {DESCRIBE: 3}


# --- how describeGlobal is read ------------------------------------------------------------------


def described(*sobjects: dict[str, object]) -> dict[str, object]:
    return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list(sobjects)}


def everything(name: str) -> dict[str, object]:
    return {"name": name, "queryable": True, "createable": True, "searchable": True}


def test_an_object_the_user_cannot_see_is_missing_everything():
    present = [everything(name) for name in readiness.REQUIRED_ACCESS if name != "EventRelation"]
    assert readiness.permissions_from(described(*present)) == ReadinessCheck(
        "permissions", False, "missing_privileges", ("EventRelation (query, create)",), 1
    )


def test_a_flag_that_is_not_true_is_missing():
    flags = [everything(name) for name in readiness.REQUIRED_ACCESS]
    flags[0] = {"name": "Contact", "queryable": True, "createable": "true"}  # not a boolean
    assert readiness.permissions_from(described(*flags)).details == ("Contact (search, create)",)


@pytest.mark.parametrize("answer", [None, {}, {"sobjects": None}, []])
def test_an_answer_without_objects_is_unavailable(answer):
    with pytest.raises(Unavailable):
        readiness.permissions_from(answer)


# --- the emulator answers describeGlobal as Salesforce does --------------------------------------


def test_describe_global_has_salesforces_shape_and_the_denied_access(salesforce):
    salesforce.deny_object("EmailMessage", "create")
    salesforce.deny_object("Case", "query")
    response = requests.get(
        f"{salesforce.rest_url}sobjects/",
        headers={"Authorization": f"Bearer {salesforce.issue_access_token()}"},
        verify=salesforce.ca_file,
        timeout=5,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["encoding"] == "UTF-8" and body["maxBatchSize"] == 200
    by_name = {item["name"]: item for item in body["sobjects"]}
    assert set(readiness.REQUIRED_ACCESS) <= set(by_name)
    contact = by_name["Contact"]
    assert contact["label"] == "Contact" and contact["keyPrefix"] == "003"
    assert contact["queryable"] and contact["createable"] and contact["updateable"]
    assert contact["urls"]["describe"] == "/services/data/v59.0/sobjects/Contact/describe"
    assert by_name["EmailMessage"]["createable"] is False
    assert by_name["EmailMessage"]["queryable"] is True
    case = by_name["Case"]
    assert (case["queryable"], case["retrieveable"], case["searchable"]) == (False, False, False)
    assert case["createable"] is True
    assert by_name["Organization"]["createable"] is False


def test_deny_object_refuses_what_salesforce_does_not_have(salesforce):
    with pytest.raises(ValueError):
        salesforce.deny_object("Contact", "delete-everything")
    with pytest.raises(KeyError):
        salesforce.deny_object("Widget__c", "query")
