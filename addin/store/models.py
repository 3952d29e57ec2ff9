"""Local state, kept per tenant and per rep: what belongs to one rep is keyed by their user oid.

Nothing here is CRM data: the CRM stays the source of truth. These rows are what the CRM must
not hold (private notes, rule 10) or what makes the pane remember a rep's decisions (contact
choices, rule 7; the connected environment and the environments used most recently, rules 3-4),
and the rep's sign-in to the CRM (an msal token cache, sealed: see `addin.store.sealed`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
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


class CrmConnection(Base):
    """The CRM environment a rep's pane is connected to, or that the rep signed out of (rule 4).

    No row means the rep never opened the pane: the automatic-connection rule (rule 3) decides.
    """

    __tablename__ = "crm_connections"
    __table_args__ = (UniqueConstraint("tenant_id", "user_oid", name="uq_crm_connection"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    crm: Mapped[str] = mapped_column(String(40))
    environment_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EnvironmentUse(Base):
    """When a rep last worked in an environment: the picker lists the most recent first."""

    __tablename__ = "environment_uses"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "user_oid", "crm", "environment_id", name="uq_environment_use"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    crm: Mapped[str] = mapped_column(String(40))
    environment_id: Mapped[str] = mapped_column(String(200))
    last_used_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TokenCache(Base):
    """A rep's tokens from one identity provider, sealed (encrypted and authenticated).

    For Entra this is msal's serialized token cache: the refresh token lets workers act for the
    rep later without the pane (issue 6), so it is a secret and is never stored in the clear.
    """

    __tablename__ = "token_caches"
    __table_args__ = (UniqueConstraint("tenant_id", "user_oid", "provider", name="uq_token_cache"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    #: Who issued the tokens: "entra" (Dynamics 365, Graph) or "salesforce".
    provider: Mapped[str] = mapped_column(String(40))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PendingSignIn(Base):
    """An OAuth sign-in a rep started from the pane and has not finished (Salesforce, rule 4).

    The ``state`` sent to the identity provider is kept only as its SHA-256: the callback proves
    it holds the state, and the row says whose sign-in it is and which login host was chosen.
    The PKCE verifier is sealed. A row is used once and lives a few minutes.
    """

    __tablename__ = "pending_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    crm: Mapped[str] = mapped_column(String(40))
    #: Which login host: "production" or "sandbox".
    login: Mapped[str] = mapped_column(String(20))
    sealed_verifier: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
