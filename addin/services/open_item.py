"""Open an item in the pane: who is in it, their accounts and related items (rules 6-12).

The budget is **two sequential CRM round trips** whatever the number of recipients: one
`match_contacts` for every address, then one `contact_context` for the accounts of all matched
contacts and the related items of the contact the item is about. Private notes come from the
local store in one query. Related items are fetched up to the most the pane ever shows (10), so
"Show more" costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm_adapters import CrmAdapter
from crm_adapters.models import EMAIL_FIELDS, Contact, ContactContext

from ..identity import Identity
from ..store.models import PrivateNote
from .notes import notes_by_contact
from .resolve import Recipient, Resolution, ResolvedAddress, resolve_item

#: The most related items the pane shows after "Show more" (rule 12).
RELATED_MAX = 10


@dataclass(frozen=True, slots=True)
class OpenedItem:
    resolution: Resolution
    context: ContactContext
    #: The contact the Related items tab is about: the first matched sender, organizer or
    #: recipient, in that order.
    focus: Contact | None
    notes: dict[str, list[PrivateNote]]
    round_trips: int

    def matched(self) -> list[tuple[ResolvedAddress, Contact]]:
        """Each matched address with its contact (the chosen one where the rep chose)."""
        return [(a, contact) for a in self.resolution.addresses if (contact := connected(a))]


def connected(address: ResolvedAddress) -> Contact | None:
    """Return the contact an address stands for, or None when it has none or several."""
    if address.status != "matched":
        return None
    if address.chosen_contact_id:
        return next(c for c in address.contacts if c.id == address.chosen_contact_id)
    return address.contacts[0]


def open_item(
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
) -> OpenedItem:
    """Resolve every address, then fetch accounts and related items in one more round trip."""
    before = adapter.round_trips
    resolution = resolve_item(
        adapter=adapter,
        session=session,
        identity=identity,
        environment_id=environment_id,
        recipients=recipients,
        mailbox=mailbox,
        shared_mailbox=shared_mailbox,
        internal_domains=internal_domains,
        email_fields=email_fields,
    )
    contacts = list({c.id: c for a in resolution.addresses if (c := connected(a))}.values())
    focus = contacts[0] if contacts else None
    context = adapter.contact_context(
        [c.id for c in contacts],
        focus.id if focus else None,
        related_limit=RELATED_MAX,
    )
    notes = notes_by_contact(
        session=session,
        identity=identity,
        environment_id=environment_id,
        contact_ids=[c.id for c in contacts],
    )
    return OpenedItem(resolution, context, focus, notes, adapter.round_trips - before)
