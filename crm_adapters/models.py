"""The vocabulary of the whole product: what adapters return and accept.

Every value is a frozen dataclass so it can be cached, hashed and handed between threads without
copies. Adapters translate their vendor's payloads into these and nothing else crosses the adapter
boundary. Identifiers are the CRM's own, as strings; URLs are absolute and open the record in the
CRM's own web client.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

EnvironmentKind = Literal["production", "sandbox"]


class RecordType(StrEnum):
    """Record types the pane knows; admins choose which are searchable."""

    CONTACT = "contact"
    ACCOUNT = "account"
    OPPORTUNITY = "opportunity"
    CASE = "case"
    EMAIL = "email"
    MEETING = "meeting"


#: The email fields of a contact, in the order a CRM stores them. Dynamics calls them
#: emailaddress1..3; Salesforce has Email plus custom fields the admin maps.
EMAIL_FIELDS: tuple[str, ...] = ("email1", "email2", "email3")


@dataclass(frozen=True, slots=True)
class Environment:
    """One CRM instance a rep can connect to (a Dataverse org, a Salesforce org, a sandbox)."""

    id: str
    name: str
    kind: EnvironmentKind
    url: str
    crm: str
    api_url: str = ""


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A pointer to any CRM record, enough to show it and open it."""

    type: str
    id: str
    name: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """A person in the CRM."""

    id: str
    first_name: str
    last_name: str
    emails: tuple[str, ...]
    job_title: str = ""
    account_id: str | None = None
    company: str = ""
    business_phone: str = ""
    mobile_phone: str = ""
    url: str = ""
    crm: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """What the rep fills in (or the signature reader pre-fills) for a new contact."""

    last_name: str
    email: str
    first_name: str = ""
    job_title: str = ""
    company: str = ""
    account_id: str | None = None
    business_phone: str = ""
    mobile_phone: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: str
    name: str
    stage: str
    amount: float | None = None
    close_date: dt.date | None = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    title: str
    ticket_number: str
    status: str
    priority: str = ""
    url: str = ""


ActivityKind = Literal["email", "meeting"]


@dataclass(frozen=True, slots=True)
class ActivitySummary:
    """A saved email or meeting as a one-line item."""

    id: str
    kind: ActivityKind
    subject: str
    when: dt.datetime
    url: str = ""


@dataclass(frozen=True, slots=True)
class Account:
    """A company, with what the Account tab shows about it."""

    id: str
    name: str
    website: str = ""
    phone: str = ""
    city: str = ""
    country: str = ""
    url: str = ""
    opportunities: tuple[Opportunity, ...] = ()
    cases: tuple[Case, ...] = ()
    activities: tuple[ActivitySummary, ...] = ()


@dataclass(frozen=True, slots=True)
class RelatedItems:
    """Recent emails from a contact and upcoming meetings with them (rule 12)."""

    emails: tuple[ActivitySummary, ...] = ()
    meetings: tuple[ActivitySummary, ...] = ()


@dataclass(frozen=True, slots=True)
class ContactContext:
    """What the pane shows beyond the contacts themselves: their accounts (rule 11) and the
    related items of the contact the item is about (rule 12)."""

    accounts: tuple[Account, ...] = ()
    related: RelatedItems = RelatedItems()


@dataclass(frozen=True, slots=True)
class Party:
    """A sender, recipient, organizer or attendee of an activity."""

    address: str
    name: str = ""
    contact_id: str | None = None


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    name: str
    content_type: str
    content: bytes = field(repr=False)


Direction = Literal["incoming", "outgoing"]


@dataclass(frozen=True, slots=True)
class EmailActivity:
    """An email to save, identified by its internet message id."""

    message_id: str
    subject: str
    sender: Party
    sent_at: dt.datetime
    to: tuple[Party, ...] = ()
    cc: tuple[Party, ...] = ()
    bcc: tuple[Party, ...] = ()
    body_html: str = field(default="", repr=False)
    direction: Direction = "incoming"
    regarding: RecordRef | None = None
    attachments: tuple[AttachmentFile, ...] = ()
    conversation_id: str = ""


@dataclass(frozen=True, slots=True)
class MeetingActivity:
    """A meeting to save, identified by its iCalendar uid."""

    message_id: str
    subject: str
    organizer: Party
    start: dt.datetime
    end: dt.datetime
    attendees: tuple[Party, ...] = ()
    location: str = ""
    body_html: str = field(default="", repr=False)
    regarding: RecordRef | None = None


@dataclass(frozen=True, slots=True)
class SavedActivity:
    """The CRM record a save produced or found; ``created`` is False when it already existed."""

    ref: RecordRef
    created: bool
    skipped_attachments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    """The rep's own mailbox settings in the CRM, which decide what it saves by itself (rule 15).

    ``server_side_sync``: whether the CRM synchronizes the rep's mailbox on the server (Dynamics
    365 needs it to track email); None when the CRM has no such thing or it could not be told.
    ``track_replies``: False when the rep's tracking option says no email messages are tracked, so
    replies to a saved email are not saved automatically.
    ``problem``: what is off, in short English for logs and admins (the pane has its own
    translated text); empty when nothing is.
    """

    server_side_sync: bool | None
    track_replies: bool = True
    problem: str = ""


#: What a provisioning check is about (rule 20), in the order the admin page lists them.
CheckName = Literal["reachable", "permissions", "server_side_sync"]


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """One prerequisite of an environment for Sidepane, as `CrmAdapter.readiness` found it.

    ``code`` says what is wrong when ``ok`` is False, so the admin page can say it in the admin's
    language with what to do: "unreachable", "missing_privileges", "signed_out",
    "mailboxes_not_synced", "mailbox_check_denied". ``details`` names what is missing (privilege
    or object names, mailbox addresses: at most `READINESS_DETAILS` of them) and ``count`` how
    many there are in all (it can exceed ``len(details)``).
    """

    name: CheckName
    ok: bool
    code: str = ""
    details: tuple[str, ...] = ()
    count: int = 0


#: At most this many names are listed in a failed check's details.
READINESS_DETAILS = 5


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a CRM can do; callers branch on these, never on the CRM's name."""

    save_drafts: bool = False
    save_compose_meetings: bool = False
    auto_save_replies: bool = False
    auto_save_meeting_updates: bool = False
    needs_server_side_sync: bool = False
    email_fields: tuple[str, ...] = EMAIL_FIELDS
    record_types: tuple[RecordType, ...] = (
        RecordType.ACCOUNT,
        RecordType.CONTACT,
        RecordType.OPPORTUNITY,
        RecordType.CASE,
    )
    #: `ContactDraft` fields the CRM refuses to create a contact without (the form marks them).
    contact_required_fields: tuple[str, ...] = ("last_name",)
