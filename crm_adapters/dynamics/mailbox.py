"""The rep's mailbox settings in Dataverse: server-side synchronization and email tracking.

Requests (contract request 11 in ``docs/dataverse-requests.md``), both read by id in one
``$batch`` after ``WhoAmI`` gave the user's id::

    GET systemusers(<UserId>)?$select=systemuserid,_defaultmailbox_value
        &$expand=defaultmailbox($select=mailboxid,incomingemaildeliverymethod,emailrouteraccessapproval)
    GET usersettingscollection(<UserId>)?$select=systemuserid,incomingemailfilteringmethod

Meaning (``mailbox`` and ``usersettings`` tables of the Dataverse table reference):

* ``mailbox.incomingemaildeliverymethod``: 0 None, 1 Microsoft Dynamics 365 for Outlook,
  2 Server-Side Synchronization or Email Router, 3 Forward Mailbox.
* ``mailbox.emailrouteraccessapproval`` ("Email Address Status"): 0 Empty, 1 Approved,
  2 Pending Approval, 3 Rejected.
* ``usersettings.incomingemailfilteringmethod`` (the rep's "Track" option): 0 All email
  messages, 1 Email messages in response to Dynamics 365 email, 2 Email messages from Dynamics
  365 Leads, Contacts and Accounts, 3 Email messages from Dynamics 365 records that are email
  enabled, 4 No email messages.

Server-side synchronization is on when incoming email is delivered by it (2) and the mailbox's
address is approved (1). Replies are tracked unless the option is 4.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import MailboxSettings
from .odata import guid, resource

SERVER_SIDE_SYNC = 2
APPROVED = 1
NO_EMAIL_MESSAGES = 4
SYNC_NAME = "server-side synchronization"

MAILBOX_COLUMNS = ("mailboxid", "incomingemaildeliverymethod", "emailrouteraccessapproval")

#: incomingemaildeliverymethod values other than server-side sync, as Dataverse labels them.
DELIVERY_METHODS: Mapping[int, str] = {
    0: "None",
    1: "Microsoft Dynamics 365 for Outlook",
    3: "Forward Mailbox",
}
#: emailrouteraccessapproval values other than Approved: why the mailbox is not approved.
APPROVAL_PROBLEMS: Mapping[int, str] = {
    0: "The mailbox is not approved (its email address was never approved)",
    2: "The mailbox is not approved (its email address is pending approval)",
    3: "The mailbox is not approved (its email address was rejected)",
}


def requests_for(user_id: str) -> list[str]:
    """Return the two reads of the batch: the user with its mailbox, and the user's settings."""
    user = guid(user_id)
    expand = f"defaultmailbox($select={','.join(MAILBOX_COLUMNS)})"
    return [
        resource(
            f"systemusers({user})",
            {"$select": "systemuserid,_defaultmailbox_value", "$expand": expand},
        ),
        resource(
            f"usersettingscollection({user})",
            {"$select": "systemuserid,incomingemailfilteringmethod"},
        ),
    ]


def settings_from(user: Mapping[str, Any], settings: Mapping[str, Any]) -> MailboxSettings:
    """Read the answers of `requests_for` into `MailboxSettings`."""
    track_replies = _int(settings.get("incomingemailfilteringmethod")) != NO_EMAIL_MESSAGES
    mailbox = user.get("defaultmailbox")
    if not isinstance(mailbox, Mapping):
        return MailboxSettings(False, track_replies, "The user has no mailbox in Dynamics 365")
    delivery = _int(mailbox.get("incomingemaildeliverymethod"))
    approval = _int(mailbox.get("emailrouteraccessapproval"))
    if delivery is None or approval is None:
        return MailboxSettings(
            None, track_replies, "Dynamics 365 did not say how the mailbox is set up"
        )
    problems = []
    if delivery != SERVER_SIDE_SYNC:
        label = DELIVERY_METHODS.get(delivery, f"option {delivery}")
        problems.append(f"Incoming email is not delivered by {SYNC_NAME} (it is set to {label})")
    if approval != APPROVED:
        problems.append(
            APPROVAL_PROBLEMS.get(
                approval, f"The mailbox is not approved (email address status {approval})"
            )
        )
    return MailboxSettings(not problems, track_replies, "; ".join(problems))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
