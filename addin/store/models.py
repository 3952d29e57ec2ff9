"""Local state, kept per tenant and per rep: what belongs to one rep is keyed by their user oid.

Nothing here is CRM data: the CRM stays the source of truth. These rows are what the CRM must
not hold (private notes, rule 10) or what makes the pane remember a rep's decisions (contact
choices, rule 7).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class PrivateNote(Base):
    """A rep's note on a contact; only its author ever reads it; never synced to the CRM."""

    __tablename__ = "private_notes"
    __table_args__ = (
        Index("ix_private_notes_owner_contact", "tenant_id", "user_oid", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    environment_id: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContactChoice(Base):
    """The contact a rep picked for an address that several contacts hold; it sticks."""

    __tablename__ = "contact_choices"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "user_oid", "environment_id", "address", name="uq_contact_choice"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    environment_id: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(320))
    contact_id: Mapped[str] = mapped_column(String(200))
    chosen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
