"""Salesforce objects and records as the product's dataclasses.

Features
--------
* `SOBJECT`: our record types → Salesforce objects (links, creates, search).
* The field lists the adapter selects (``*_FIELDS``), next to the converter that reads them, so
  a query and its converter cannot drift apart. A contact's email fields are configuration
  (``email1..3`` → ``Email``, ``Email2__c``, ``Email3__c`` by default).
* Date-times are read as Salesforce writes them (``2026-11-20T09:30:00.000+0000``) and written
  the same way; SOQL date-time literals come from `simple_salesforce.format_soql`.
* ``RecordUrl`` is the adapter's `record_url`, passed in so every record comes with its
  Lightning link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..models import EMAIL_FIELDS, ActivityKind, ActivitySummary, Case, Contact, Opportunity

RecordUrl = Callable[[str, str], str]
Row = Mapping[str, Any]

#: Our record types → Salesforce objects.
SOBJECT: Mapping[str, str] = {
    "contact": "Contact",
    "account": "Account",
    "opportunity": "Opportunity",
    "case": "Case",
    "email": "EmailMessage",
    "meeting": "Event",
}
#: Our email fields → the contact's fields, unless the adapter is configured otherwise.
DEFAULT_EMAIL_FIELDS: Mapping[str, str] = dict(
    zip(EMAIL_FIELDS, ("Email", "Email2__c", "Email3__c"), strict=True)
)

ACCOUNT_FIELDS = "Id, Name, Website, Phone, BillingCity, BillingCountry"
OPPORTUNITY_FIELDS = "Id, Name, StageName, Amount, CloseDate, AccountId"
CASE_FIELDS = "Id, Subject, CaseNumber, Status, Priority, AccountId"


def contact_fields(email_fields: Sequence[str]) -> str:
    """Return the contact fields a query selects, with the org's email fields."""
    return ", ".join(
        (
            "Id",
            "FirstName",
            "LastName",
            "Name",
            *email_fields,
            "Title",
            "Phone",
            "MobilePhone",
            "AccountId",
            "Account.Name",
        )
    )


def text(row: Row, field: str) -> str:
    """Return a string field, ``""`` for null."""
    value = row.get(field)
    return value if isinstance(value, str) else ""


def timestamp(moment: dt.datetime) -> str:
    """Return ``moment`` as Salesforce writes date-times; naive datetimes are taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_timestamp(value: str) -> dt.datetime:
    """Return a Salesforce date-time (``...+0000``, ``...Z``) as an aware UTC datetime."""
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def contact(row: Row, email_fields: Sequence[str], url: RecordUrl) -> Contact:
    contact_id = text(row, "Id")
    account = row.get("Account")
    account_id = text(row, "AccountId")
    return Contact(
        id=contact_id,
        first_name=text(row, "FirstName"),
        last_name=text(row, "LastName"),
        emails=tuple(address for field in email_fields if (address := text(row, field))),
        job_title=text(row, "Title"),
        account_id=account_id or None,
        company=text(account, "Name") if isinstance(account, Mapping) else "",
        business_phone=text(row, "Phone"),
        mobile_phone=text(row, "MobilePhone"),
        url=url("contact", contact_id),
        crm="salesforce",
    )


def opportunity(row: Row, url: RecordUrl) -> Opportunity:
    record_id = text(row, "Id")
    amount = row.get("Amount")
    close = text(row, "CloseDate")
    return Opportunity(
        id=record_id,
        name=text(row, "Name"),
        stage=text(row, "StageName"),
        amount=float(amount) if isinstance(amount, int | float) else None,
        close_date=dt.date.fromisoformat(close[:10]) if close else None,
        url=url("opportunity", record_id),
    )


def case(row: Row, url: RecordUrl) -> Case:
    record_id = text(row, "Id")
    return Case(
        id=record_id,
        title=text(row, "Subject") or text(row, "CaseNumber"),
        ticket_number=text(row, "CaseNumber"),
        status=text(row, "Status"),
        priority=text(row, "Priority"),
        url=url("case", record_id),
    )


#: When an activity happened: an email's ``MessageDate``, a meeting's ``StartDateTime``.
WHEN_FIELD: Mapping[ActivityKind, str] = {"email": "MessageDate", "meeting": "StartDateTime"}


def activity(row: Row, kind: ActivityKind, url: RecordUrl) -> ActivitySummary | None:
    """Return an email or meeting as a one-line item; None if it has no date."""
    record_id, when = text(row, "Id"), text(row, WHEN_FIELD[kind])
    if not when:
        return None
    return ActivitySummary(
        record_id, kind, text(row, "Subject"), parse_timestamp(when), url(kind, record_id)
    )


def activities(rows: Sequence[Row], kind: ActivityKind, url: RecordUrl) -> list[ActivitySummary]:
    return [item for row in rows if (item := activity(row, kind, url)) is not None]
