"""Is a Dataverse environment ready for Sidepane (rule 20)? Contract request 12.

Requests, in one ``$batch`` after ``WhoAmI`` (request 10) gave the signed-in admin's id::

    GET systemusers(<UserId>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()
    GET mailboxes?$select=mailboxid,emailaddress,name
        &$filter=statecode eq 0 and regardingobjectid/isdisabled eq false
                 and regardingobjectid/accessmode eq 0
                 and (incomingemaildeliverymethod ne 2 or emailrouteraccessapproval ne 1)
        &$orderby=emailaddress asc&$count=true&$top=5

The batch goes with ``Prefer: odata.continue-on-error``: Dataverse otherwise stops a batch at its
first failed request, and an admin who may not read mailboxes must still learn which privileges
are missing. Two round trips however large the organization: the mailboxes that are off are
counted by Dataverse (``@odata.count``, which stops at 5,000) and only five come back.

Meaning:

* ``RolePrivileges``: ``[{"Depth": "Global", "PrivilegeId", "BusinessUnitId", "PrivilegeName"}]``,
  the privileges the user holds through its roles and teams. A privilege of `REQUIRED_PRIVILEGES`
  held at any depth counts: which records a rep may see is the organization's business.
* A mailbox is off unless incoming email is delivered by server-side synchronization (2) and its
  address is approved (1), as `mailbox` reads the rep's own. `USERS_MAILBOXES` says which count.
* A ``403`` on a part (``0x80040220`` "Principal user ... is missing prvReadMailbox privilege"):
  the admin may not do that; its check fails, naming the privilege when Dataverse does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import Unavailable
from ..models import READINESS_DETAILS, CheckName, ReadinessCheck
from .mailbox import APPROVED, SERVER_SIDE_SYNC
from .odata import guid, resource

#: The privileges Sidepane's requests use, each with what uses it. Activities (emails,
#: appointments, their parties and attachments) share the Activity privileges: Dataverse has no
#: prvCreateEmail. Binding a lookup needs Append on the record holding it and AppendTo on the
#: record it points to.
REQUIRED_PRIVILEGES: tuple[str, ...] = (
    "prvReadContact",  # match_contacts, search_records, a save's parties
    "prvCreateContact",  # create_contact
    "prvAppendContact",  # create_contact binds the contact's account
    "prvAppendToContact",  # an email or meeting saved regarding a contact
    "prvReadAccount",  # get_accounts, contact_context, search_records
    "prvAppendToAccount",  # a new contact's account; an activity regarding an account
    "prvReadOpportunity",  # an account's open opportunities, search_records
    "prvAppendToOpportunity",  # an activity regarding an opportunity
    "prvReadIncident",  # an account's open cases, search_records
    "prvAppendToIncident",  # an activity regarding a case
    "prvReadActivity",  # related items, an account's activities, saved already? (find_saved)
    "prvCreateActivity",  # save_email, save_meeting (parties and attachments with them)
    "prvAppendActivity",  # a saved activity's regarding bind
    "prvReadUser",  # a save's parties that are users; mailbox_settings
    "prvReadMailbox",  # mailbox_settings; this check reads every user's mailbox
    "prvReadUserSettings",  # mailbox_settings: the rep's tracking option
)
#: The mailboxes that must be synchronized: active ones of enabled, interactive users.
#: ``regardingobjectid`` is a mailbox's user (relationship mailbox_regarding_systemuser; a
#: queue's mailbox has ``regardingobjectid_queue`` instead, so the path is null for it and the
#: mailbox does not count). Access mode 0 (Read-Write) is a licensed person, who may save from
#: the pane; the others (1 Administrative, 2 Read, 3 Support User, 4 Non-interactive: application
#: users, 5 Delegated Admin) never save email, and their unsynchronized mailboxes would only block
#: provisioning for nothing. Disabled users' mailboxes do not count either.
USERS_MAILBOXES = (
    "statecode eq 0 and regardingobjectid/isdisabled eq false and regardingobjectid/accessmode eq 0"
)
NOT_SYNCHRONIZED = (
    f"(incomingemaildeliverymethod ne {SERVER_SIDE_SYNC}"
    f" or emailrouteraccessapproval ne {APPROVED})"
)
RETRIEVE_USER_PRIVILEGES = "Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
#: The ``Prefer`` of the ``$batch`` request itself.
CONTINUE_ON_ERROR = "odata.continue-on-error"
PRIVILEGE_DENIED = 403
_MISSING = re.compile(r"is missing (prv\w+) privilege")

Json = Mapping[str, Any]


def requests_for(user_id: str) -> list[str]:
    """Return the two reads of the batch: the user's privileges, the mailboxes that are off."""
    return [
        f"systemusers({guid(user_id)})/{RETRIEVE_USER_PRIVILEGES}",
        resource(
            "mailboxes",
            {
                "$select": "mailboxid,emailaddress,name",
                "$filter": f"{USERS_MAILBOXES} and {NOT_SYNCHRONIZED}",
                "$orderby": "emailaddress asc",
                "$count": "true",
                "$top": str(READINESS_DETAILS),
            },
        ),
    ]


def permissions_from(status: int, payload: object) -> ReadinessCheck:
    """Read ``RetrieveUserPrivileges``'s answer (or its refusal) into the permissions check."""
    if status == PRIVILEGE_DENIED:
        return _denied("permissions", "missing_privileges", payload)
    privileges = payload.get("RolePrivileges") if isinstance(payload, Mapping) else None
    if not isinstance(privileges, list):
        raise Unavailable("Dynamics 365 did not say which privileges the user holds; try again.")
    held = {item.get("PrivilegeName") for item in privileges if isinstance(item, Mapping)}
    missing = [name for name in REQUIRED_PRIVILEGES if name not in held]
    if not missing:
        return ReadinessCheck("permissions", True)
    return ReadinessCheck(
        "permissions",
        False,
        "missing_privileges",
        tuple(missing[:READINESS_DETAILS]),
        len(missing),
    )


def mailboxes_from(status: int, payload: object) -> ReadinessCheck:
    """Read the mailboxes that are off (or the refusal to show them) into the sync check."""
    if status == PRIVILEGE_DENIED:
        return _denied("server_side_sync", "mailbox_check_denied", payload)
    rows = payload.get("value") if isinstance(payload, Mapping) else None
    if not isinstance(payload, Mapping) or not isinstance(rows, list):
        raise Unavailable("Dynamics 365 answered the mailbox check in a form we cannot read.")
    count = payload.get("@odata.count")
    total = count if isinstance(count, int) and count >= len(rows) else len(rows)
    if not total:
        return ReadinessCheck("server_side_sync", True)
    names = [_mailbox_name(row) for row in rows if isinstance(row, Mapping)]
    return ReadinessCheck(
        "server_side_sync", False, "mailboxes_not_synced", tuple(names[:READINESS_DETAILS]), total
    )


def _denied(name: CheckName, code: str, refusal: object) -> ReadinessCheck:
    """Return the failed check of a part Dataverse refused: the privilege it names, if any."""
    error = refusal.get("error") if isinstance(refusal, Mapping) else None
    message = error.get("message") if isinstance(error, Mapping) else None
    found = _MISSING.search(message) if isinstance(message, str) else None
    return ReadinessCheck(name, False, code, (found.group(1),) if found else (), 1)


def _mailbox_name(row: Json) -> str:
    for column in ("emailaddress", "name", "mailboxid"):
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "(a mailbox without an address)"
