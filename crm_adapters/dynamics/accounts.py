"""Accounts of contacts and a contact's related items: contract requests 2 and 3.

Features
--------
* `accounts_request`: one GET for the accounts of any number of contacts: those a contact works
  for (``contact_customer_accounts``) and those it is the primary contact of, each with its open
  opportunities (soonest close first), open cases (newest first) and emails and meetings saved
  against it that already happened (newest first), ``limit`` of each, through ``$expand``.
* `related_requests`: the two GETs of a contact's related items: emails it took part in, sent
  by now, newest first; meetings with it from now on, soonest first.
* Ids that are not GUIDs match nothing; callers drop them and skip the request when none is left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .odata import guid, resource, timestamp
from .records import (
    ACCOUNT_SELECT,
    CASE_SELECT,
    EMAIL_SUMMARY_SELECT,
    MEETING_SUMMARY_SELECT,
    OPPORTUNITY_SELECT,
)


def accounts_request(contact_ids: Sequence[str], limit: int, now: dt.datetime) -> str:
    """Return the GET of the accounts of ``contact_ids`` (GUIDs) with their related items."""
    ids = [guid(contact_id) for contact_id in dict.fromkeys(contact_ids)]
    works_for = " or ".join(f"c/contactid eq {contact_id}" for contact_id in ids)
    primary = " or ".join(f"_primarycontactid_value eq {contact_id}" for contact_id in ids)
    moment, top = timestamp(now), max(limit, 1)
    expand = ",".join(
        (
            f"opportunity_customer_accounts($select={OPPORTUNITY_SELECT};$filter=statecode eq 0;"
            f"$orderby=estimatedclosedate asc;$top={top})",
            f"incident_customer_accounts($select={CASE_SELECT};$filter=statecode eq 0;"
            f"$orderby=createdon desc;$top={top})",
            f"Account_Emails($select={EMAIL_SUMMARY_SELECT};$filter=actualend le {moment};"
            f"$orderby=actualend desc;$top={top})",
            f"Account_Appointments($select={MEETING_SUMMARY_SELECT};"
            f"$filter=scheduledstart le {moment};$orderby=scheduledstart desc;$top={top})",
        )
    )
    return resource(
        "accounts",
        {
            "$select": ACCOUNT_SELECT,
            "$filter": f"contact_customer_accounts/any(c:{works_for}) or {primary}",
            "$expand": expand,
        },
    )


def related_requests(contact_id: str, limit: int, now: dt.datetime) -> tuple[str, str]:
    """Return the GETs of a contact's last emails and next meetings, ``limit`` each."""
    party, moment, top = guid(contact_id), timestamp(now), str(max(limit, 1))
    emails = resource(
        "emails",
        {
            "$select": EMAIL_SUMMARY_SELECT,
            "$filter": f"email_activity_parties/any(p:p/_partyid_value eq {party})"
            f" and actualend le {moment}",
            "$orderby": "actualend desc",
            "$top": top,
        },
    )
    meetings = resource(
        "appointments",
        {
            "$select": MEETING_SUMMARY_SELECT,
            "$filter": f"appointment_activity_parties/any(p:p/_partyid_value eq {party})"
            f" and scheduledstart ge {moment}",
            "$orderby": "scheduledstart asc",
            "$top": top,
        },
    )
    return emails, meetings
