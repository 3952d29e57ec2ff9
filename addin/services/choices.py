"""Choose the right contact for an address several contacts hold; the choice sticks (rule 7)."""

from __future__ import annotations

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from crm_adapters import CrmAdapter

from ..errors import ApiError
from ..identity import Identity
from ..store.models import ContactChoice, utcnow
from .addresses import InvalidAddress, normalise


def choose_contact(
    *,
    adapter: CrmAdapter,
    session: Session,
    identity: Identity,
    environment_id: str,
    address: str,
    contact_id: str,
) -> ContactChoice:
    """Remember that, for this rep, ``address`` means ``contact_id``."""
    normalised = _valid(address)
    holders = adapter.match_contacts([normalised]).get(normalised, [])
    if not any(contact.id == contact_id for contact in holders):
        raise ApiError(
            422,
            "contact_not_matching",
            f"The contact {contact_id!r} does not hold the address {normalised}. "
            "Choose one of the contacts listed for it.",
        )
    choice: ContactChoice | None = session.scalar(
        _own(identity, environment_id).where(ContactChoice.address == normalised)
    )
    if choice is None:
        choice = ContactChoice(
            tenant_id=identity.tenant_id,
            user_oid=identity.user_oid,
            environment_id=environment_id,
            address=normalised,
        )
        session.add(choice)
    choice.contact_id = contact_id
    choice.chosen_at = utcnow()
    session.flush()
    return choice


def list_choices(
    *, session: Session, identity: Identity, environment_id: str
) -> list[ContactChoice]:
    """Return the rep's own choices, newest first."""
    query = _own(identity, environment_id).order_by(ContactChoice.chosen_at.desc())
    return list(session.scalars(query))


def forget_choice(
    *, session: Session, identity: Identity, environment_id: str, address: str
) -> bool:
    """Drop the rep's choice for ``address``; tell whether there was one."""
    normalised = _valid(address)
    result = session.execute(
        delete(ContactChoice).where(
            ContactChoice.tenant_id == identity.tenant_id,
            ContactChoice.user_oid == identity.user_oid,
            ContactChoice.environment_id == environment_id,
            ContactChoice.address == normalised,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _own(identity: Identity, environment_id: str) -> Select[ContactChoice]:
    return select(ContactChoice).where(
        ContactChoice.tenant_id == identity.tenant_id,
        ContactChoice.user_oid == identity.user_oid,
        ContactChoice.environment_id == environment_id,
    )


def _valid(address: str) -> str:
    try:
        return normalise(address)
    except InvalidAddress as error:
        raise ApiError(
            422, "invalid_address", f"{address!r} is not an email address: {error}"
        ) from None
