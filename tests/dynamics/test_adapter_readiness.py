"""The Dynamics adapter's ``readiness`` (rule 20) against the Dataverse emulator.

Provisioning runs it as the signed-in admin: ``WhoAmI``, then one ``$batch`` with the admin's
``RetrieveUserPrivileges`` and the users' mailboxes that server-side synchronization does not
serve (five of them, and their count). Two round trips however many users there are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from crm_adapters import NotSignedIn, RateLimited, Rejected, Unavailable
from crm_adapters.dynamics import DynamicsAdapter, RetryPolicy, batch, readiness
from crm_adapters.models import READINESS_DETAILS, ReadinessCheck
from tests.emulators.dataverse import DataverseEmulator
from tests.emulators.dataverse_security import PRIVILEGES
from tests.emulators.entra import EntraEmulator
from tests.emulators.fixtures import dataverse, dataverse_server  # noqa: F401
from tests.sleeps import Sleeps

TENANT = "9b2f4c1e-5a6d-4e8f-a1b2-c3d4e5f60718"
ADMIN_OID = "5d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"
WHO_AM_I = "GET /api/data/v9.2/WhoAmI"
BATCH = "POST /api/data/v9.2/$batch"
READY = (
    ReadinessCheck("reachable", True),
    ReadinessCheck("permissions", True),
    ReadinessCheck("server_side_sync", True),
)


def admin_token(entra: EntraEmulator, audience: str) -> str:
    return entra.issue_token(
        tenant_id=TENANT,
        oid=ADMIN_OID,
        audience=audience,
        scopes=("user_impersonation",),
        email="admin@contoso.example",
        name="Ada Admin",
    )


@pytest.fixture
def make(
    dataverse: DataverseEmulator,  # noqa: F811
    entra: EntraEmulator,
    sleeps: Sleeps,
) -> Iterator[Callable[..., DynamicsAdapter]]:
    made: list[DynamicsAdapter] = []

    def build(token: Callable[[bool], str] | None = None, **policy: float) -> DynamicsAdapter:
        retry = RetryPolicy(**{"attempts": 3, "base_delay": 0.01, "sleep": sleeps, **policy})
        adapter = DynamicsAdapter(
            dataverse.url,
            token=token or (lambda force_refresh: admin_token(entra, dataverse.url)),
            verify=dataverse.ca_file,
            timeout=5,
            retry=retry,
        )
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


def served(dataverse: DataverseEmulator) -> dict[str, int]:  # noqa: F811
    return {key: count for key, count in dataverse.requests_served.items() if count}


def admin_id(make: Callable[..., DynamicsAdapter]) -> str:
    """Return the admin's systemuser id (the emulator adds the user on first sight)."""
    return make().who_am_i()["UserId"]


def add_reps(dataverse: DataverseEmulator, count: int, **mailbox: bool) -> list[str]:  # noqa: F811
    """Add reps rep00@..., each with its mailbox set up as ``mailbox`` says; their addresses."""
    addresses = [f"rep{n:02d}@contoso.example" for n in range(count)]
    for address in addresses:
        user = dataverse.add_systemuser(address.split("@")[0].title(), address)
        if mailbox:
            dataverse.set_mailbox(user_id=user, **mailbox)
    return addresses


def api(
    dataverse: DataverseEmulator,  # noqa: F811
    entra: EntraEmulator,
    method: str,
    path: str,
    **options: Any,
) -> requests.Response:
    """Send one request to the emulator as the admin, as any Web API client would."""
    headers = {
        "Authorization": f"Bearer {admin_token(entra, dataverse.url)}",
        "Accept": "application/json",
        "OData-MaxVersion": "4.0",
        "OData-Version": "4.0",
        **options.pop("headers", {}),
    }
    return requests.request(
        method,
        f"{dataverse.api_url}{path}",
        headers=headers,
        verify=dataverse.ca_file,
        timeout=5,
        **options,
    )


# --- a ready environment -------------------------------------------------------------------------


def test_a_ready_environment_passes_every_check_in_two_round_trips(make, dataverse):  # noqa: F811
    crm = make()
    assert crm.readiness() == READY
    assert crm.round_trips == 2
    assert served(dataverse) == {WHO_AM_I: 1, BATCH: 1}


def test_fifty_reps_synchronized_still_cost_two_round_trips(make, dataverse):  # noqa: F811
    add_reps(dataverse, 50)
    crm = make()
    assert crm.readiness() == READY
    assert crm.round_trips == 2


# --- mailboxes server-side synchronization does not serve ----------------------------------------


def test_fifty_mailboxes_off_are_counted_and_five_named_in_two_round_trips(make, dataverse):  # noqa: F811
    admin_id(make)
    addresses = add_reps(dataverse, 50, server_side_sync=False)
    crm = make()
    reachable, permissions, sync = crm.readiness()
    assert (reachable, permissions) == READY[:2]
    assert sync == ReadinessCheck(
        "server_side_sync",
        False,
        "mailboxes_not_synced",
        tuple(addresses[:READINESS_DETAILS]),
        50,
    )
    assert crm.round_trips == 2
    assert served(dataverse) == {WHO_AM_I: 2, BATCH: 1}


def test_a_mailbox_pending_approval_is_off_too(make, dataverse):  # noqa: F811
    admin_id(make)
    (pending,) = add_reps(dataverse, 1, approved=False)
    sync = make().readiness()[2]
    assert sync == ReadinessCheck("server_side_sync", False, "mailboxes_not_synced", (pending,), 1)


def test_every_users_mailbox_counts_the_admins_too(make, dataverse):  # noqa: F811
    dataverse.set_mailbox(server_side_sync=False)  # every user, those added later too
    add_reps(dataverse, 3)
    sync = make().readiness()[2]
    assert sync.code == "mailboxes_not_synced"
    assert sync.count == 4  # three reps and the admin, added when it first signs in
    assert "admin@contoso.example" in sync.details


def test_mailboxes_nobody_opens_the_pane_with_do_not_count(make, dataverse, entra):  # noqa: F811
    admin_id(make)
    off = {"server_side_sync": False, "approved": False}
    disabled = dataverse.add_systemuser("Gone", "gone@contoso.example", isdisabled=True)
    app = dataverse.add_systemuser("# Integration", "app@contoso.example", accessmode=4)
    admin_only = dataverse.add_systemuser("Root", "root@contoso.example", accessmode=1)
    for user in (disabled, app, admin_only):
        dataverse.set_mailbox(user_id=user, **off)
    queue = api(dataverse, entra, "POST", "mailboxes", json={"name": "Support queue"})
    assert queue.status_code == 204  # a mailbox of nobody (a queue's): delivery 2, status Empty
    inactive = dataverse.add_systemuser("Old", "old@contoso.example")
    dataverse.set_mailbox(user_id=inactive, **off)
    old_mailbox = dataverse.record("systemusers", inactive)["_defaultmailbox_value"]
    closed = api(dataverse, entra, "PATCH", f"mailboxes({old_mailbox})", json={"statecode": 1})
    assert closed.status_code == 204

    assert make().readiness() == READY


# --- privileges ----------------------------------------------------------------------------------


def test_a_missing_privilege_is_named(make, dataverse):  # noqa: F811
    dataverse.deny_privileges("prvCreateActivity", user_id=admin_id(make))
    checks = make().readiness()
    assert checks[1] == ReadinessCheck(
        "permissions", False, "missing_privileges", ("prvCreateActivity",), 1
    )
    assert checks[0].ok and checks[2].ok


def test_missing_privileges_are_listed_in_order_five_at_most_and_all_counted(make, dataverse):  # noqa: F811
    denied = readiness.REQUIRED_PRIVILEGES[:7]
    dataverse.deny_privileges(*reversed(denied))
    permissions = make().readiness()[1]
    assert permissions == ReadinessCheck(
        "permissions", False, "missing_privileges", denied[:READINESS_DETAILS], 7
    )


def test_privileges_sidepane_does_not_use_do_not_matter(make, dataverse):  # noqa: F811
    dataverse.deny_privileges("prvDeleteContact", "prvShareAccount", "prvAssignActivity")
    assert make().readiness() == READY


def test_only_the_signed_in_users_privileges_count(make, dataverse):  # noqa: F811
    rep = dataverse.add_systemuser("Sam Rep", "sam@contoso.example")
    dataverse.deny_privileges("prvReadContact", "prvReadAccount", user_id=rep)
    assert make().readiness() == READY


def test_an_admin_who_may_not_read_mailboxes_learns_both_checks_in_two_round_trips(
    make,
    dataverse,  # noqa: F811
):
    dataverse.deny_privileges("prvReadMailbox")
    crm = make()
    reachable, permissions, sync = crm.readiness()
    assert reachable.ok
    assert permissions == ReadinessCheck(
        "permissions", False, "missing_privileges", ("prvReadMailbox",), 1
    )
    assert sync == ReadinessCheck(
        "server_side_sync", False, "mailbox_check_denied", ("prvReadMailbox",), 1
    )
    assert crm.round_trips == 2


def test_an_admin_who_may_not_call_retrieve_user_privileges_still_gets_the_mailboxes(
    make,
    dataverse,  # noqa: F811
):
    admin_id(make)
    (off,) = add_reps(dataverse, 1, server_side_sync=False)
    dataverse.deny_privileges("prvReadUser")
    crm = make()
    reachable, permissions, sync = crm.readiness()
    assert reachable.ok
    assert permissions == ReadinessCheck(
        "permissions", False, "missing_privileges", ("prvReadUser",), 1
    )
    assert sync == ReadinessCheck("server_side_sync", False, "mailboxes_not_synced", (off,), 1)
    assert crm.round_trips == 2


# --- the CRM cannot be reached, or will not answer -----------------------------------------------


def test_dropped_connections_are_unavailable_after_the_retries(make, dataverse, sleeps):  # noqa: F811
    dataverse.drop(times=10)
    crm = make()
    with pytest.raises(Unavailable):
        crm.readiness()
    assert crm.round_trips == 3 and len(sleeps) == 2


def test_a_server_failing_on_its_side_is_unavailable(make, dataverse):  # noqa: F811
    dataverse.fail(503, times=10)
    crm = make()
    with pytest.raises(Unavailable):
        crm.readiness()
    assert served(dataverse) == {WHO_AM_I: 3}


def test_a_batch_that_keeps_failing_is_unavailable_too(make, dataverse):  # noqa: F811
    dataverse.fail(502, times=10, method="POST", path="$batch")
    crm = make()
    with pytest.raises(Unavailable):
        crm.readiness()
    assert served(dataverse) == {WHO_AM_I: 1, BATCH: 3}


def test_one_failure_is_retried_and_the_checks_come(make, dataverse):  # noqa: F811
    dataverse.drop(times=1, method="POST", path="$batch")
    crm = make()
    assert crm.readiness() == READY
    assert crm.round_trips == 3


def test_a_token_that_stays_bad_is_not_signed_in(make, dataverse, entra):  # noqa: F811
    def stale(force_refresh: bool) -> str:
        return admin_token(entra, "https://elsewhere.example")

    with pytest.raises(NotSignedIn):
        make(token=stale).readiness()
    assert served(dataverse) == {WHO_AM_I: 2}  # one refresh, then no batch


def test_a_429_is_waited_out_then_the_checks_come(make, dataverse, sleeps):  # noqa: F811
    dataverse.throttle(times=1, retry_after=2, method="POST", path="$batch")
    crm = make()
    assert crm.readiness() == READY
    assert sleeps == [2]
    assert served(dataverse) == {WHO_AM_I: 1, BATCH: 2}


def test_throttling_that_outlasts_the_retries_is_rate_limited(make, dataverse, sleeps):  # noqa: F811
    dataverse.throttle(times=10, retry_after=4)
    with pytest.raises(RateLimited) as raised:
        make().readiness()
    assert raised.value.retry_after == 4
    assert sleeps == [4, 4]


# --- the requests and how their answers are read -------------------------------------------------


def test_the_batch_asks_for_the_privileges_and_the_mailboxes_that_are_off():
    user = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
    assert readiness.requests_for(user) == [
        "systemusers(3f2504e0-4f89-11d3-9a0c-0305e82c3301)"
        "/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()",
        "mailboxes?$select=mailboxid,emailaddress,name"
        "&$filter=statecode%20eq%200%20and%20regardingobjectid%2Fisdisabled%20eq%20false"
        "%20and%20regardingobjectid%2Faccessmode%20eq%200"
        "%20and%20(incomingemaildeliverymethod%20ne%202%20or%20emailrouteraccessapproval"
        "%20ne%201)"
        "&$orderby=emailaddress%20asc&$count=true&$top=5",
    ]


def test_a_refusal_that_names_no_privilege_still_fails_its_check():
    refusal = {"error": {"code": "0x80040220", "message": "SecLib::AccessCheckEx failed."}}
    assert readiness.permissions_from(403, refusal) == ReadinessCheck(
        "permissions", False, "missing_privileges", (), 1
    )
    assert readiness.mailboxes_from(403, None) == ReadinessCheck(
        "server_side_sync", False, "mailbox_check_denied", (), 1
    )


def test_a_mailbox_without_an_address_is_named_by_its_name_and_the_count_may_be_missing():
    answer = {"value": [{"mailboxid": "m1", "emailaddress": None, "name": "Sam Other"}]}
    assert readiness.mailboxes_from(200, answer) == ReadinessCheck(
        "server_side_sync", False, "mailboxes_not_synced", ("Sam Other",), 1
    )


@pytest.mark.parametrize("answer", [{}, {"RolePrivileges": None}, None])
def test_an_answer_without_privileges_is_unavailable(answer):
    with pytest.raises(Unavailable):
        readiness.permissions_from(200, answer)


# --- the emulator serves these as Dataverse does -------------------------------------------------


def test_retrieve_user_privileges_lists_every_privilege_at_global_depth(make, dataverse, entra):  # noqa: F811
    user = admin_id(make)
    dataverse.deny_privileges("prvReadIncident", user_id=user)
    answer = api(
        dataverse,
        entra,
        "GET",
        f"systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()",
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["@odata.context"].endswith(
        "$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse"
    )
    names = [item["PrivilegeName"] for item in body["RolePrivileges"]]
    assert set(names) == set(PRIVILEGES) - {"prvReadIncident"}
    first = body["RolePrivileges"][0]
    assert set(first) == {
        "Depth",
        "PrivilegeId",
        "BusinessUnitId",
        "PrivilegeName",
        "RecordFilterId",
        "RecordFilterUniqueName",
    }
    assert first["Depth"] == "Global" and first["BusinessUnitId"] == dataverse.business_unit_id
    assert set(readiness.REQUIRED_PRIVILEGES) <= set(PRIVILEGES)


def test_retrieve_user_privileges_of_nobody_is_not_found(dataverse, entra):  # noqa: F811
    nobody = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    answer = api(
        dataverse,
        entra,
        "GET",
        f"systemusers({nobody})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()",
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "0x80040217"
    unqualified = api(dataverse, entra, "GET", f"systemusers({nobody})/RetrieveUserPrivileges()")
    assert unqualified.status_code == 404


def test_a_user_lacking_read_gets_dataverses_privilege_error(
    make,
    dataverse,  # noqa: F811
    entra,
    seeded_sandbox,
):
    report = seeded_sandbox[1]
    crm = make()
    user = crm.who_am_i()["UserId"]
    dataverse.deny_privileges("prvReadIncident", user_id=user)
    answer = api(dataverse, entra, "GET", "incidents", params={"$select": "title"})
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "0x80040220"
    assert re.fullmatch(
        rf"Principal user \(Id={user}, type=8, roleCount=1, privilegeCount=\d+,"
        r" accessMode='0 Read-Write', .*\), is missing prvReadIncident privilege"
        r" \(Id=[0-9a-f-]{36}\) on OTC=112 for entity 'incident'\."
        rf" context\.Caller={user}",
        error["message"],
    )
    with pytest.raises(Rejected, match="prvReadIncident"):
        crm.search_records("Contoso", ["case"])
    found = crm.match_contacts([report.single_address])  # the other tables still answer
    assert [contact.id for contact in found[report.single_address]] == [report.single_contact_id]
    dataverse.reset()
    assert api(dataverse, entra, "GET", "incidents", params={"$top": "1"}).status_code == 200


def test_a_batch_stops_at_its_first_failure_unless_asked_to_go_on(make, dataverse, entra):  # noqa: F811
    dataverse.deny_privileges("prvReadMailbox")
    parts = [
        f"{dataverse.api_url}mailboxes?$select=name",
        f"{dataverse.api_url}WhoAmI",
    ]
    boundary, body = batch.build(parts)
    content_type = f'multipart/mixed; boundary="{boundary}"'

    def send(**headers: str) -> tuple[list[batch.Answer], requests.Response]:
        response = api(
            dataverse,
            entra,
            "POST",
            "$batch",
            data=body,
            headers={"Content-Type": content_type, **headers},
        )
        assert response.status_code == 200
        return batch.parse(response.headers["Content-Type"], response.content), response

    stopped, first = send()
    assert [answer.status for answer in stopped] == [403]
    assert "Preference-Applied" not in first.headers
    answered, second = send(Prefer="odata.continue-on-error")
    assert [answer.status for answer in answered] == [403, 200]
    assert second.headers["Preference-Applied"] == "odata.continue-on-error"
