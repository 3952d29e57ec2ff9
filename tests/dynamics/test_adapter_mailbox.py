"""The Dynamics adapter's ``mailbox_settings`` (rule 15) against the Dataverse emulator.

Server-side synchronization is on when the rep's default mailbox takes incoming email by it and
is approved; replies are tracked unless the rep's tracking option is "No email messages". Two
round trips: ``WhoAmI``, then one ``$batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from crm_adapters import NotSignedIn
from crm_adapters.dynamics import DynamicsAdapter, RetryPolicy, mailbox
from crm_adapters.models import MailboxSettings
from tests.emulators.dataverse import DataverseEmulator
from tests.emulators.entra import EntraEmulator
from tests.emulators.fixtures import dataverse, dataverse_server  # noqa: F401
from tests.sleeps import Sleeps

TENANT = "9b2f4c1e-5a6d-4e8f-a1b2-c3d4e5f60718"
REP_OID = "0c9e8f7a-6b5d-4c3e-9f1a-2b3c4d5e6f70"
WHO_AM_I = "GET /api/data/v9.2/WhoAmI"
BATCH = "POST /api/data/v9.2/$batch"
ON = MailboxSettings(server_side_sync=True, track_replies=True, problem="")


@pytest.fixture
def make(
    dataverse: DataverseEmulator,  # noqa: F811
    entra: EntraEmulator,
    sleeps: Sleeps,
) -> Iterator[Callable[..., DynamicsAdapter]]:
    made: list[DynamicsAdapter] = []

    def build(token: Callable[[bool], str] | None = None) -> DynamicsAdapter:
        def fresh(force_refresh: bool) -> str:
            return entra.issue_token(
                tenant_id=TENANT,
                oid=REP_OID,
                audience=dataverse.url,
                scopes=("user_impersonation",),
            )

        adapter = DynamicsAdapter(
            dataverse.url,
            token=token or fresh,
            verify=dataverse.ca_file,
            timeout=5,
            retry=RetryPolicy(attempts=3, base_delay=0.01, sleep=sleeps),
        )
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


def served(dataverse: DataverseEmulator) -> dict[str, int]:  # noqa: F811
    return {key: count for key, count in dataverse.requests_served.items() if count}


def rep_id(crm: DynamicsAdapter) -> str:
    return crm.who_am_i()["UserId"]


# --- what the rep's settings say -----------------------------------------------------------------


def test_synchronized_and_approved_is_on_in_two_round_trips(make, dataverse):  # noqa: F811
    crm = make()
    assert crm.mailbox_settings() == ON
    assert crm.round_trips == 2
    assert served(dataverse) == {WHO_AM_I: 1, BATCH: 1}


def test_incoming_email_not_delivered_by_server_side_sync_is_off(make, dataverse):  # noqa: F811
    dataverse.set_mailbox(server_side_sync=False)
    settings = make().mailbox_settings()
    assert settings.server_side_sync is False
    assert settings.track_replies is True
    assert "not delivered by server-side synchronization" in settings.problem
    assert "(it is set to None)" in settings.problem
    assert "approved" not in settings.problem


def test_a_mailbox_pending_approval_is_off(make, dataverse):  # noqa: F811
    dataverse.set_mailbox(approved=False)
    settings = make().mailbox_settings()
    assert settings.server_side_sync is False
    assert settings.problem == "The mailbox is not approved (its email address is pending approval)"


def test_both_problems_are_named(make, dataverse):  # noqa: F811
    dataverse.set_mailbox(server_side_sync=False, approved=False)
    settings = make().mailbox_settings()
    assert settings.server_side_sync is False
    assert "server-side synchronization" in settings.problem
    assert "pending approval" in settings.problem


def test_no_email_messages_means_replies_are_not_tracked(make, dataverse):  # noqa: F811
    dataverse.set_mailbox(filtering_method=4)
    settings = make().mailbox_settings()
    assert settings == MailboxSettings(server_side_sync=True, track_replies=False, problem="")


@pytest.mark.parametrize("method", [0, 1, 2, 3])
def test_every_other_tracking_option_tracks_replies(make, dataverse, method):  # noqa: F811
    dataverse.set_mailbox(filtering_method=method)
    assert make().mailbox_settings() == ON
    assert (
        dataverse.record("usersettingscollection", rep_id(make()))["incomingemailfilteringmethod"]
        == method
    )


def test_only_the_named_user_changes(make, dataverse):  # noqa: F811
    other = dataverse.add_systemuser("Sam Other", "sam@contoso.example")
    dataverse.set_mailbox(server_side_sync=False, filtering_method=4, user_id=other)
    assert make().mailbox_settings() == ON
    their_mailbox = dataverse.record("systemusers", other)["_defaultmailbox_value"]
    assert dataverse.record("mailboxes", their_mailbox)["incomingemaildeliverymethod"] == 0


def test_reset_restores_the_default_setup(make, dataverse):  # noqa: F811
    crm = make()
    dataverse.set_mailbox(server_side_sync=False, approved=False, filtering_method=4)
    assert crm.mailbox_settings().server_side_sync is False
    dataverse.reset()
    assert crm.mailbox_settings() == ON


# --- faults go through the transport -------------------------------------------------------------


def test_a_429_is_waited_out_then_the_settings_come(make, dataverse, sleeps):  # noqa: F811
    crm = make()
    dataverse.throttle(times=1, retry_after=2)
    assert crm.mailbox_settings() == ON
    assert sleeps == [2]
    assert crm.round_trips == 3
    assert served(dataverse) == {WHO_AM_I: 2, BATCH: 1}


def test_a_429_on_the_batch_is_waited_out_too(make, dataverse, sleeps):  # noqa: F811
    crm = make()
    dataverse.throttle(times=1, retry_after=3, method="POST", path="$batch")
    assert crm.mailbox_settings() == ON
    assert sleeps == [3]
    assert served(dataverse) == {WHO_AM_I: 1, BATCH: 2}


def test_a_token_that_stays_bad_is_not_signed_in(make, dataverse, entra):  # noqa: F811
    def stale(force_refresh: bool) -> str:
        return entra.issue_token(
            tenant_id=TENANT, oid=REP_OID, audience="https://elsewhere.example"
        )

    with pytest.raises(NotSignedIn):
        make(token=stale).mailbox_settings()
    assert served(dataverse) == {WHO_AM_I: 2}  # one refresh, then no batch


# --- the requests and how their answers are read -------------------------------------------------


def test_the_batch_reads_the_user_with_its_mailbox_and_its_settings():
    user = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
    assert mailbox.requests_for(user) == [
        "systemusers(3f2504e0-4f89-11d3-9a0c-0305e82c3301)"
        "?$select=systemuserid,_defaultmailbox_value"
        "&$expand=defaultmailbox($select%3Dmailboxid,incomingemaildeliverymethod,"
        "emailrouteraccessapproval)",
        "usersettingscollection(3f2504e0-4f89-11d3-9a0c-0305e82c3301)"
        "?$select=systemuserid,incomingemailfilteringmethod",
    ]


@pytest.mark.parametrize(
    ("delivery", "approval", "problem"),
    [
        (1, 1, "(it is set to Microsoft Dynamics 365 for Outlook)"),
        (3, 1, "(it is set to Forward Mailbox)"),
        (2, 0, "its email address was never approved"),
        (2, 3, "its email address was rejected"),
    ],
)
def test_each_setting_that_is_off_is_named(delivery, approval, problem):
    user = {
        "defaultmailbox": {
            "incomingemaildeliverymethod": delivery,
            "emailrouteraccessapproval": approval,
        }
    }
    settings = mailbox.settings_from(user, {"incomingemailfilteringmethod": 2})
    assert settings.server_side_sync is False
    assert problem in settings.problem


def test_a_user_without_a_mailbox_is_off_and_unreadable_settings_are_unknown():
    no_mailbox = mailbox.settings_from({"defaultmailbox": None}, {})
    assert no_mailbox == MailboxSettings(False, True, "The user has no mailbox in Dynamics 365")
    unknown = mailbox.settings_from(
        {"defaultmailbox": {"incomingemaildeliverymethod": None}},
        {"incomingemailfilteringmethod": 4},
    )
    assert unknown.server_side_sync is None and unknown.track_replies is False
    assert unknown.problem


# --- the emulator serves the tables as Dataverse does --------------------------------------------


def test_systemusers_expand_their_default_mailbox_with_labels(make, dataverse, entra):  # noqa: F811
    user = rep_id(make())
    token = entra.issue_token(
        tenant_id=TENANT, oid=REP_OID, audience=dataverse.url, scopes=("user_impersonation",)
    )
    response = requests.get(
        f"{dataverse.api_url}systemusers({user})",
        params={
            "$select": "fullname",
            "$expand": (
                "defaultmailbox($select=incomingemaildeliverymethod,emailrouteraccessapproval)"
            ),
        },
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"',
        },
        verify=dataverse.ca_file,
        timeout=5,
    )
    assert response.status_code == 200
    box = response.json()["defaultmailbox"]
    label = "@OData.Community.Display.V1.FormattedValue"
    assert box["incomingemaildeliverymethod"] == 2
    sss = "Server-Side Synchronization or Email Router"
    assert box[f"incomingemaildeliverymethod{label}"] == sss
    assert box[f"emailrouteraccessapproval{label}"] == "Approved"
    assert set(box) >= {"mailboxid", "@odata.etag"}
