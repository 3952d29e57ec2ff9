"""Dataverse tables and rows as the product's dataclasses.

Features
--------
* The column lists the adapter selects (``*_SELECT``), next to the converter that reads them,
  so a request and its converter cannot drift apart.
* `ENTITY`: our record types → Dataverse logical name, entity set, key, name column.
* `EMAIL_COLUMNS`: our email fields (``email1..3``) → ``emailaddress1..3``.
* Lookups read ``_x_value`` and its FormattedValue annotation (the target's name); option sets
  read their FormattedValue label, falling back to the contract's own labels.
* ``RecordUrl`` is the adapter's `record_url`, passed in so every record comes with its link
  into the Dynamics web client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..models import EMAIL_FIELDS, Account, ActivityKind, ActivitySummary, Case, Contact
from ..models import Opportunity as OpportunityModel
from .odata import parse_timestamp

RecordUrl = Callable[[str, str], str]
Row = Mapping[str, Any]

FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOGICAL_NAME = "@Microsoft.Dynamics.CRM.lookuplogicalname"


@dataclass(frozen=True, slots=True)
class Entity:
    """One Dataverse table as the adapter uses it."""

    logical_name: str  # etn in web client links
    entity_set: str
    key: str
    name_column: str


#: Our record types → their Dataverse tables.
ENTITY: Mapping[str, Entity] = {
    "contact": Entity("contact", "contacts", "contactid", "fullname"),
    "account": Entity("account", "accounts", "accountid", "name"),
    "opportunity": Entity("opportunity", "opportunities", "opportunityid", "name"),
    "case": Entity("incident", "incidents", "incidentid", "title"),
    "email": Entity("email", "emails", "activityid", "subject"),
    "meeting": Entity("appointment", "appointments", "activityid", "subject"),
}

#: Our email fields → the contact's columns.
EMAIL_COLUMNS: Mapping[str, str] = dict(
    zip(EMAIL_FIELDS, ("emailaddress1", "emailaddress2", "emailaddress3"), strict=True)
)

CONTACT_SELECT = (
    "contactid,firstname,lastname,fullname,emailaddress1,emailaddress2,emailaddress3,"
    "jobtitle,telephone1,mobilephone,_parentcustomerid_value"
)
ACCOUNT_SELECT = "accountid,name,websiteurl,telephone1,address1_city,address1_country"
OPPORTUNITY_SELECT = "opportunityid,name,stepname,estimatedvalue,estimatedclosedate"
CASE_SELECT = "incidentid,title,ticketnumber,statecode,prioritycode"
EMAIL_SUMMARY_SELECT = "activityid,subject,actualend"
MEETING_SUMMARY_SELECT = "activityid,subject,scheduledstart"

_CASE_STATES = {0: "Active", 1: "Resolved", 2: "Cancelled"}
_PRIORITIES = {1: "High", 2: "Normal", 3: "Low"}


def text(row: Row, column: str) -> str:
    """Return a string column, ``""`` for null."""
    value = row.get(column)
    return value if isinstance(value, str) else ""


def label(row: Row, column: str, labels: Mapping[int, str]) -> str:
    """Return an option set's display label: the annotation, else our copy of the labels."""
    formatted = row.get(column + FORMATTED)
    if isinstance(formatted, str) and formatted:
        return formatted
    value = row.get(column)
    return labels.get(value, "" if value is None else str(value)) if isinstance(value, int) else ""


def contact(row: Row, url: RecordUrl) -> Contact:
    contact_id = text(row, "contactid")
    parent = row.get("_parentcustomerid_value")
    parent_type = row.get("_parentcustomerid_value" + LOGICAL_NAME, "account")
    is_account = isinstance(parent, str) and parent and parent_type == "account"
    return Contact(
        id=contact_id,
        first_name=text(row, "firstname"),
        last_name=text(row, "lastname"),
        emails=tuple(
            address for column in EMAIL_COLUMNS.values() if (address := text(row, column))
        ),
        job_title=text(row, "jobtitle"),
        account_id=parent if is_account else None,
        company=text(row, "_parentcustomerid_value" + FORMATTED) if is_account else "",
        business_phone=text(row, "telephone1"),
        mobile_phone=text(row, "mobilephone"),
        url=url("contact", contact_id),
        crm="dynamics",
    )


def opportunity(row: Row, url: RecordUrl) -> OpportunityModel:
    record_id = text(row, "opportunityid")
    amount = row.get("estimatedvalue")
    close = text(row, "estimatedclosedate")
    return OpportunityModel(
        id=record_id,
        name=text(row, "name"),
        stage=text(row, "stepname"),
        amount=float(amount) if isinstance(amount, int | float) else None,
        close_date=dt.date.fromisoformat(close[:10]) if close else None,
        url=url("opportunity", record_id),
    )


def case(row: Row, url: RecordUrl) -> Case:
    record_id = text(row, "incidentid")
    return Case(
        id=record_id,
        title=text(row, "title"),
        ticket_number=text(row, "ticketnumber"),
        status=label(row, "statecode", _CASE_STATES),
        priority=label(row, "prioritycode", _PRIORITIES),
        url=url("case", record_id),
    )


def activity(row: Row, kind: ActivityKind, url: RecordUrl) -> ActivitySummary | None:
    """Return an email (by ``actualend``) or meeting (by ``scheduledstart``); None if undated."""
    record_id = text(row, "activityid")
    when = text(row, "actualend" if kind == "email" else "scheduledstart")
    if not when:
        return None
    return ActivitySummary(
        record_id, kind, text(row, "subject"), parse_timestamp(when), url(kind, record_id)
    )


def activities(rows: list[Row], kind: ActivityKind, url: RecordUrl) -> list[ActivitySummary]:
    return [item for row in rows if (item := activity(row, kind, url)) is not None]


def account(row: Row, url: RecordUrl, limit: int) -> Account:
    """Return an account with its expanded opportunities, cases and past activities."""
    account_id = text(row, "accountid")
    done = activities(list(row.get("Account_Emails") or []), "email", url)
    done += activities(list(row.get("Account_Appointments") or []), "meeting", url)
    done.sort(key=lambda item: item.when, reverse=True)
    return Account(
        id=account_id,
        name=text(row, "name"),
        website=text(row, "websiteurl"),
        phone=text(row, "telephone1"),
        city=text(row, "address1_city"),
        country=text(row, "address1_country"),
        url=url("account", account_id),
        opportunities=tuple(
            opportunity(item, url) for item in row.get("opportunity_customer_accounts") or []
        )[:limit],
        cases=tuple(case(item, url) for item in row.get("incident_customer_accounts") or [])[
            :limit
        ],
        activities=tuple(done[:limit]),
    )
