"""The Dataverse tables the emulator serves: columns, navigation properties, formatted values.

Features
--------
- The eleven tables of ``docs/dataverse-requests.md`` (contact, account, opportunity, incident,
  email, appointment, activityparty, activitymimeattachment, systemuser, mailbox, usersettings)
  with the columns of the contract, each with its Edm type and how it is written
  (`Column.kind`).
- Navigation properties: single-valued ones name the lookup column they read and set (for a
  polymorphic lookup, each target has its own navigation, ``parentcustomerid_account``);
  collection-valued ones name the lookup column on the other table that points back.
- `TABLES` implements the `odata.Model` protocol, so ``$filter``/``$select`` are checked
  against it, and finds tables by logical name or entity set.
- `formatted_value` gives the ``OData.Community.Display.V1.FormattedValue`` of a column value:
  option-set labels, Yes/No, money and dates as an en-US user sees them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

LOOKUP_LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
FORMATTED_VALUE = "OData.Community.Display.V1.FormattedValue"
ASSOCIATED_NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its Edm type and how a client may write it.

    ``kind``: ``value`` (writable), ``key`` (the primary key: writable on create only),
    ``lookup`` (``_x_value``: read-only, set through a navigation's ``@odata.bind``),
    ``system`` (set by the server: ``createdon``, ``fullname``...).
    """

    type: str
    kind: str = "value"
    targets: tuple[str, ...] = ()  # lookup: the logical names it may point to
    labels: Mapping[Any, str] = field(default_factory=dict)  # option set / boolean labels
    currency: str = ""  # a money column's currency symbol


@dataclass(frozen=True, slots=True)
class NavigationProperty:
    """A navigation property: ``column`` is on this table (single) or on ``target`` (collection)."""

    name: str
    target: str
    collection: bool
    column: str


@dataclass(frozen=True, slots=True)
class Table:
    logical: str
    entity_set: str
    key: str
    primary_name: str
    columns: Mapping[str, Column]
    navigations: Mapping[str, NavigationProperty]
    required: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)


def _text() -> Column:
    return Column("Edm.String")


def _lookup(*targets: str) -> Column:
    return Column("Edm.Guid", "lookup", targets)


def _system(edm: str = "Edm.DateTimeOffset") -> Column:
    return Column(edm, "system")


def _options(*labels: str, start: int = 0) -> Column:
    return Column("Edm.Int32", labels=dict(enumerate(labels, start)))


def _single(name: str, target: str, column: str) -> NavigationProperty:
    return NavigationProperty(name, target, False, column)


def _many(name: str, target: str, column: str) -> NavigationProperty:
    return NavigationProperty(name, target, True, column)


ACTIVE = ("Active", "Inactive")
YES_NO = {True: "Yes", False: "No"}
PARTY_TYPES = (
    "Sender",
    "To Recipient",
    "CC Recipient",
    "BCC Recipient",
    "Required attendee",
    "Optional attendee",
    "Organizer",
)
EMAIL_STATUS = ("Draft", "Completed", "Sent", "Received", "Canceled", "Pending Send", "Sending")
#: mailbox.incomingemaildeliverymethod; outgoingemaildeliverymethod has the first three.
DELIVERY_METHODS = (
    "None",
    "Microsoft Dynamics 365 for Outlook",
    "Server-Side Synchronization or Email Router",
    "Forward Mailbox",
)
ACT_DELIVERY_METHODS = ("Microsoft Dynamics 365 for Outlook", "Server-Side Synchronization", "None")
#: mailbox.emailrouteraccessapproval ("Email Address Status").
APPROVAL_STATUS = ("Empty", "Approved", "Pending Approval", "Rejected")
#: mailbox.incomingemailstatus, outgoingemailstatus, actstatus, mailboxstatus.
SYNC_STATUS = ("Not Run", "Success", "Failure")
#: systemuser.accessmode: reps are Read-Write; application users are Non-interactive.
ACCESS_MODES = (
    "Read-Write",
    "Administrative",
    "Read",
    "Support User",
    "Non-interactive",
    "Delegated Admin",
)
#: usersettings.incomingemailfilteringmethod (the rep's "Track" option).
FILTERING_METHODS = (
    "All email messages",
    "Email messages in response to Dynamics 365 email",
    "Email messages from Dynamics 365 Leads, Contacts and Accounts",
    "Email messages from Dynamics 365 records that are email enabled",
    "No email messages",
)
CASE_STATUS = (
    "In Progress",
    "On Hold",
    "Waiting for Details",
    "Researching",
    "Problem Solved",
    "Cancelled",
)


def _regarding(activity: str) -> dict[str, NavigationProperty]:
    return {
        f"regardingobjectid_{target}_{activity}": _single(
            f"regardingobjectid_{target}_{activity}", target, "_regardingobjectid_value"
        )
        for target in ("account", "contact", "opportunity", "incident")
    }


def _tables() -> tuple[Table, ...]:
    created = {"createdon": _system(), "modifiedon": _system()}
    contact = Table(
        "contact",
        "contacts",
        "contactid",
        "fullname",
        {
            "contactid": Column("Edm.Guid", "key"),
            "firstname": _text(),
            "lastname": _text(),
            "fullname": _system("Edm.String"),
            "emailaddress1": _text(),
            "emailaddress2": _text(),
            "emailaddress3": _text(),
            "jobtitle": _text(),
            "telephone1": _text(),
            "mobilephone": _text(),
            "websiteurl": _text(),
            "_parentcustomerid_value": _lookup("account", "contact"),
            "statecode": _options(*ACTIVE),
            **created,
        },
        {
            "parentcustomerid_account": _single(
                "parentcustomerid_account", "account", "_parentcustomerid_value"
            ),
            "parentcustomerid_contact": _single(
                "parentcustomerid_contact", "contact", "_parentcustomerid_value"
            ),
            "account_primary_contact": _many(
                "account_primary_contact", "account", "_primarycontactid_value"
            ),
        },
        required=("lastname",),
        defaults={"statecode": 0},
    )
    account = Table(
        "account",
        "accounts",
        "accountid",
        "name",
        {
            "accountid": Column("Edm.Guid", "key"),
            "name": _text(),
            "websiteurl": _text(),
            "telephone1": _text(),
            "address1_city": _text(),
            "address1_country": _text(),
            "_primarycontactid_value": _lookup("contact"),
            "statecode": _options(*ACTIVE),
            **created,
        },
        {
            "primarycontactid": _single("primarycontactid", "contact", "_primarycontactid_value"),
            "contact_customer_accounts": _many(
                "contact_customer_accounts", "contact", "_parentcustomerid_value"
            ),
            "opportunity_customer_accounts": _many(
                "opportunity_customer_accounts", "opportunity", "_customerid_value"
            ),
            "incident_customer_accounts": _many(
                "incident_customer_accounts", "incident", "_customerid_value"
            ),
            "Account_Emails": _many("Account_Emails", "email", "_regardingobjectid_value"),
            "Account_Appointments": _many(
                "Account_Appointments", "appointment", "_regardingobjectid_value"
            ),
        },
        defaults={"statecode": 0},
    )
    opportunity = Table(
        "opportunity",
        "opportunities",
        "opportunityid",
        "name",
        {
            "opportunityid": Column("Edm.Guid", "key"),
            "name": _text(),
            "stepname": _text(),
            "estimatedvalue": Column("Edm.Decimal", currency="$"),
            "estimatedclosedate": Column("Edm.Date"),
            "statecode": _options("Open", "Won", "Lost"),
            "_customerid_value": _lookup("account", "contact"),
            "_parentcontactid_value": _lookup("contact"),
            **created,
        },
        {
            "customerid_account": _single("customerid_account", "account", "_customerid_value"),
            "parentcontactid": _single("parentcontactid", "contact", "_parentcontactid_value"),
        },
        defaults={"statecode": 0},
    )
    incident = Table(
        "incident",
        "incidents",
        "incidentid",
        "title",
        {
            "incidentid": Column("Edm.Guid", "key"),
            "title": _text(),
            "ticketnumber": _text(),
            "statecode": _options("Active", "Resolved", "Cancelled"),
            "statuscode": _options(*CASE_STATUS, start=1),
            "prioritycode": _options("High", "Normal", "Low", start=1),
            "_customerid_value": _lookup("account", "contact"),
            "_primarycontactid_value": _lookup("contact"),
            **created,
        },
        {
            "customerid_account": _single("customerid_account", "account", "_customerid_value"),
            "primarycontactid": _single("primarycontactid", "contact", "_primarycontactid_value"),
        },
        defaults={"statecode": 0, "statuscode": 1, "prioritycode": 2},
    )
    email = Table(
        "email",
        "emails",
        "activityid",
        "subject",
        {
            "activityid": Column("Edm.Guid", "key"),
            "subject": _text(),
            "description": _text(),
            "messageid": _text(),
            "directioncode": Column("Edm.Boolean", labels={True: "Outgoing", False: "Incoming"}),
            "actualend": Column("Edm.DateTimeOffset"),
            "statecode": _options("Open", "Completed", "Canceled"),
            "statuscode": _options(*EMAIL_STATUS, start=1),
            "_regardingobjectid_value": _lookup("account", "contact", "opportunity", "incident"),
            **created,
        },
        {
            **_regarding("email"),
            "email_activity_parties": _many(
                "email_activity_parties", "activityparty", "_activityid_value"
            ),
            "email_activity_mime_attachment": _many(
                "email_activity_mime_attachment", "activitymimeattachment", "_objectid_value"
            ),
        },
        defaults={"statecode": 0, "statuscode": 1, "directioncode": True},
    )
    appointment = Table(
        "appointment",
        "appointments",
        "activityid",
        "subject",
        {
            "activityid": Column("Edm.Guid", "key"),
            "subject": _text(),
            "description": _text(),
            "location": _text(),
            "scheduledstart": Column("Edm.DateTimeOffset"),
            "scheduledend": Column("Edm.DateTimeOffset"),
            "isalldayevent": Column("Edm.Boolean", labels=YES_NO),
            "globalobjectid": _text(),
            "statecode": _options("Open", "Completed", "Canceled", "Scheduled"),
            "_regardingobjectid_value": _lookup("account", "contact", "opportunity", "incident"),
            **created,
        },
        {
            **_regarding("appointment"),
            "appointment_activity_parties": _many(
                "appointment_activity_parties", "activityparty", "_activityid_value"
            ),
        },
        defaults={"statecode": 3, "isalldayevent": False},
    )
    party = Table(
        "activityparty",
        "activityparties",
        "activitypartyid",
        "",
        {
            "activitypartyid": Column("Edm.Guid", "key"),
            "participationtypemask": _options(*PARTY_TYPES, start=1),
            "addressused": _text(),
            "_partyid_value": _lookup("contact", "systemuser", "account"),
            "_activityid_value": _lookup("email", "appointment"),
        },
        {
            f"partyid_{target}": _single(f"partyid_{target}", target, "_partyid_value")
            for target in ("contact", "systemuser", "account")
        },
    )
    attachment = Table(
        "activitymimeattachment",
        "activitymimeattachments",
        "activitymimeattachmentid",
        "filename",
        {
            "activitymimeattachmentid": Column("Edm.Guid", "key"),
            "filename": _text(),
            "mimetype": _text(),
            "body": _text(),
            "filesize": _system("Edm.Int32"),
            "objecttypecode": _text(),
            "_objectid_value": _lookup("email", "appointment"),
        },
        {},
    )
    systemuser = Table(
        "systemuser",
        "systemusers",
        "systemuserid",
        "fullname",
        {
            "systemuserid": Column("Edm.Guid", "key"),
            "fullname": _text(),
            "internalemailaddress": _text(),
            "azureactivedirectoryobjectid": Column("Edm.Guid"),
            "isdisabled": Column("Edm.Boolean", labels=YES_NO),
            "accessmode": _options(*ACCESS_MODES),
            "_defaultmailbox_value": _lookup("mailbox"),
            **created,
        },
        {
            "defaultmailbox": _single("defaultmailbox", "mailbox", "_defaultmailbox_value"),
            "mailbox_regarding_systemuser": _many(
                "mailbox_regarding_systemuser", "mailbox", "_regardingobjectid_value"
            ),
        },
        defaults={"isdisabled": False, "accessmode": 0},
    )
    mailbox = Table(
        "mailbox",
        "mailboxes",
        "mailboxid",
        "name",
        {
            "mailboxid": Column("Edm.Guid", "key"),
            "name": _text(),
            "emailaddress": _text(),
            "incomingemaildeliverymethod": _options(*DELIVERY_METHODS),
            "outgoingemaildeliverymethod": _options(*DELIVERY_METHODS[:3]),
            "actdeliverymethod": _options(*ACT_DELIVERY_METHODS),
            "emailrouteraccessapproval": _options(*APPROVAL_STATUS),
            "incomingemailstatus": _options(*SYNC_STATUS),
            "outgoingemailstatus": _options(*SYNC_STATUS),
            "actstatus": _options(*SYNC_STATUS),
            "enabledforincomingemail": Column("Edm.Boolean", labels=YES_NO),
            "enabledforoutgoingemail": Column("Edm.Boolean", labels=YES_NO),
            "enabledforact": Column("Edm.Boolean", labels=YES_NO),
            "isforwardmailbox": Column("Edm.Boolean", labels=YES_NO),
            "_regardingobjectid_value": _lookup("systemuser"),
            "statecode": _options(*ACTIVE),
            "statuscode": _options(*ACTIVE, start=1),
            **created,
        },
        {
            "systemuser_defaultmailbox_mailbox": _many(
                "systemuser_defaultmailbox_mailbox", "systemuser", "_defaultmailbox_value"
            ),
            # The mailbox's user (relationship mailbox_regarding_systemuser); a queue's mailbox
            # has regardingobjectid_queue instead, which the emulator does not hold.
            "regardingobjectid": _single(
                "regardingobjectid", "systemuser", "_regardingobjectid_value"
            ),
        },
        required=("name",),
        defaults={
            "incomingemaildeliverymethod": 2,
            "outgoingemaildeliverymethod": 2,
            "actdeliverymethod": 1,
            "emailrouteraccessapproval": 0,
            "incomingemailstatus": 0,
            "outgoingemailstatus": 0,
            "actstatus": 0,
            "enabledforincomingemail": True,
            "enabledforoutgoingemail": True,
            "enabledforact": True,
            "isforwardmailbox": False,
            "statecode": 0,
            "statuscode": 1,
        },
    )
    usersettings = Table(
        "usersettings",
        "usersettingscollection",
        "systemuserid",
        "",
        {
            "systemuserid": Column("Edm.Guid", "key"),
            "incomingemailfilteringmethod": _options(*FILTERING_METHODS),
            "uilanguageid": Column("Edm.Int32"),
            "localeid": Column("Edm.Int32"),
            "timezonecode": Column("Edm.Int32"),
            "paginglimit": Column("Edm.Int32"),
            **created,
        },
        {},
        defaults={
            "incomingemailfilteringmethod": 2,
            "uilanguageid": 1033,
            "localeid": 1033,
            "timezonecode": 85,
            "paginglimit": 50,
        },
    )
    return (
        contact,
        account,
        opportunity,
        incident,
        email,
        appointment,
        party,
        attachment,
        systemuser,
        mailbox,
        usersettings,
    )


class Tables:
    """Every table, by logical name and by entity set; the `odata.Model` of the emulator."""

    def __init__(self, tables: tuple[Table, ...]) -> None:
        self.by_logical = {table.logical: table for table in tables}
        self.by_set = {table.entity_set: table for table in tables}

    def __iter__(self) -> Iterator[Table]:
        return iter(self.by_logical.values())

    def __getitem__(self, logical: str) -> Table:
        return self.by_logical[logical]

    def property_type(self, entity: str, name: str) -> str | None:
        column = self.by_logical[entity].columns.get(name)
        return None if column is None else column.type

    def navigation(self, entity: str, name: str) -> NavigationProperty | None:
        return self.by_logical[entity].navigations.get(name)


TABLES = Tables(_tables())


def formatted_value(column: Column, value: Any) -> str | None:
    """Return the FormattedValue annotation of a (non-lookup) value, None if it has none."""
    if value is None:
        return None
    if value in column.labels:
        return column.labels[value]
    if column.currency:
        return f"{column.currency}{float(value):,.2f}"
    if column.type == "Edm.DateTimeOffset" and isinstance(value, str):
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        hour = moment.hour % 12 or 12
        suffix = "AM" if moment.hour < 12 else "PM"
        return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {suffix}"
    if column.type == "Edm.Date" and isinstance(value, str):
        day = dt.date.fromisoformat(value)
        return f"{day.month}/{day.day}/{day.year}"
    if column.type in ("Edm.Int32", "Edm.Decimal") and not isinstance(value, bool):
        return f"{value:,}"
    return None
