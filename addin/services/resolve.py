"""Resolve an open item: who is in it, and what the CRM knows about each of them (rules 6-7).

Every address of the item (from, to, cc, bcc, organizer, attendees) is validated, de-duplicated
and matched in **one** adapter call, whatever their number. Each address then gets a status:

matched    exactly one contact, or several of which the rep chose one (the choice sticks)
ambiguous  several contacts and no choice yet: the pane asks "Choose the right contact"
unsaved    no contact: the pane offers "Add to CRM"
internal   no contact, and the rep's own or an internal domain: never offered as a new contact
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_adapters import CrmAdapter
from crm_adapters.models import EMAIL_FIELDS, Contact

from ..identity import Identity
from ..store.models import ContactChoice
from .addresses import InvalidAddress, domain_of, normalise

Role = Literal["from", "to", "cc", "bcc", "organizer", "attendee"]
Status = Literal["matched", "ambiguous", "unsaved", "internal"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """An address as the item shows it, with the role it plays there."""

    address: str
    name: str
    role: Role


@dataclass(slots=True)
class ResolvedAddress:
    address: str
    name: str
    roles: list[Role]
    status: Status = "unsaved"
    contacts: list[Contact] = field(default_factory=list)
    chosen_contact_id: str | None = None


@dataclass(frozen=True, slots=True)
class InvalidRecipient:
    address: str
    role: Role
    reason: str


@dataclass(frozen=True, slots=True)
class Resolution:
    environment_id: str
    addresses: list[ResolvedAddress]
    invalid: list[InvalidRecipient]
    round_trips: int


def resolve_item(
    *,
    adapter: CrmAdapter,
    session: Session,
    identity: Identity,
    environment_id: str,
    recipients: Iterable[Recipient],
    mailbox: str = "",
    shared_mailbox: str = "",
    internal_domains: Sequence[str] = (),
    email_fields: Sequence[str] = EMAIL_FIELDS,
) -> Resolution:
    """Match every address of an item in one adapter call and classify each."""
    by_address: dict[str, ResolvedAddress] = {}
    invalid: list[InvalidRecipient] = []
    for recipient in recipients:
        try:
            address = normalise(recipient.address)
        except InvalidAddress as error:
            invalid.append(InvalidRecipient(recipient.address, recipient.role, str(error)))
            continue
        entry = by_address.get(address)
        if entry is None:
            by_address[address] = ResolvedAddress(address, recipient.name, [recipient.role])
        elif recipient.role not in entry.roles:
            entry.roles.append(recipient.role)
            entry.name = entry.name or recipient.name

    before = adapter.round_trips
    matches = adapter.match_contacts(list(by_address), email_fields) if by_address else {}
    round_trips = adapter.round_trips - before

    choices = _choices_for(session, identity, environment_id, list(by_address))
    own = {
        a
        for a in map(_safe_normalise, (mailbox, shared_mailbox, identity.email))
        if a  # the rep's own mailbox, the shared one the item is in, and the signed-in rep
    }
    internal = {d.lower() for d in internal_domains}
    for address, entry in by_address.items():
        entry.contacts = list(matches.get(address, []))
        chosen = choices.get(address)
        if len(entry.contacts) == 1:
            entry.status = "matched"
        elif chosen and any(c.id == chosen for c in entry.contacts):
            entry.status = "matched"
            entry.chosen_contact_id = chosen
        elif entry.contacts:
            entry.status = "ambiguous"
        elif address in own or domain_of(address) in internal:
            entry.status = "internal"
    return Resolution(environment_id, list(by_address.values()), invalid, round_trips)


def _choices_for(
    session: Session, identity: Identity, environment_id: str, addresses: list[str]
) -> dict[str, str]:
    if not addresses:
        return {}
    rows = session.execute(
        select(ContactChoice.address, ContactChoice.contact_id).where(
            ContactChoice.tenant_id == identity.tenant_id,
            ContactChoice.user_oid == identity.user_oid,
            ContactChoice.environment_id == environment_id,
            ContactChoice.address.in_(addresses),
        )
    )
    return {address: contact_id for address, contact_id in rows}


def _safe_normalise(address: str) -> str:
    try:
        return normalise(address) if address else ""
    except InvalidAddress:
        return ""
