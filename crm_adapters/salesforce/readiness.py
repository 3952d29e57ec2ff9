"""Is a Salesforce org ready for Sidepane (rule 20)? Contract request 8.

One request, whatever the org's size: ``GET sobjects`` (describeGlobal), answered for the signed-in
user::

    {"encoding": "UTF-8", "maxBatchSize": 200,
     "sobjects": [{"name": "Contact", "queryable": true, "createable": true, "updateable": true,
                   "searchable": true, ...}, ...]}

Each object's flags say what this user may do with it (object permissions, and features such as
Enhanced Email: ``EmailMessage`` is createable only with it). An object the user may not see at all
is not listed: everything asked of it is missing. Salesforce has no server-side synchronization to
check (`Capabilities.needs_server_side_sync` is False), so there are two checks: reachable (it
answered) and permissions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ..errors import Unavailable
from ..models import READINESS_DETAILS, ReadinessCheck

Access = Literal["query", "create", "search"]
#: describeGlobal's flag for each kind of access.
FLAGS: Mapping[Access, str] = {"query": "queryable", "create": "createable", "search": "searchable"}

#: What Sidepane's requests do with each object, from what the adapter sends
#: (``docs/salesforce-requests.md``).
REQUIRED_ACCESS: Mapping[str, tuple[Access, ...]] = {
    # match_contacts (SOQL), search_records (parameterizedSearch), create_contact
    "Contact": ("query", "search", "create"),
    # contact_context: the contacts' accounts; search_records
    "Account": ("query", "search"),
    # contact_context: a contact's accounts (Contacts to Multiple Accounts must be on)
    "AccountContactRelation": ("query",),
    # contact_context: open opportunities and cases; search_records
    "Opportunity": ("query", "search"),
    "Case": ("query", "search"),
    # save_email (saved already? then the create: Enhanced Email), related items
    "EmailMessage": ("query", "create"),
    # related items: the emails a contact took part in
    "EmailMessageRelation": ("query",),
    # save_meeting (saved already? then the create), related items
    "Event": ("query", "create"),
    # save_meeting's invitees, related items
    "EventRelation": ("query", "create"),
    # a save's parties that are users
    "User": ("query",),
    # save_email's attachments
    "ContentVersion": ("create",),
}


def permissions_from(described: object) -> ReadinessCheck:
    """Read describeGlobal into the permissions check: "<Object> (<access>, ...)" per object."""
    sobjects = described.get("sobjects") if isinstance(described, Mapping) else None
    if not isinstance(sobjects, list):
        raise Unavailable("Salesforce did not describe its objects; try again.")
    by_name: dict[str, Mapping[str, Any]] = {
        item["name"]: item
        for item in sobjects
        if isinstance(item, Mapping) and isinstance(item.get("name"), str)
    }
    missing = []
    for name, wanted in REQUIRED_ACCESS.items():
        flags = by_name.get(name, {})
        lacking = [access for access in wanted if flags.get(FLAGS[access]) is not True]
        if lacking:
            missing.append(f"{name} ({', '.join(lacking)})")
    if not missing:
        return ReadinessCheck("permissions", True)
    return ReadinessCheck(
        "permissions",
        False,
        "missing_privileges",
        tuple(missing[:READINESS_DETAILS]),
        len(missing),
    )
