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


class SaveJob(Base):
    """One save of an email or meeting to the CRM (rules 13-18): the queue's source of truth.

    The broker only rings the bell (tasks carry the job id); this row says what to save, where,
    for whom and how far it got, so a job survives a lost message or a killed worker and the
    periodic sweep (`workers.tasks.sweep`) sends it again. Two unique keys make doubles
    impossible: one job per item the pane named (``item_key``: the internet message id of a
    received or sent email, else the mailbox item id) and one per CRM idempotency key
    (``message_id``: the internet message id, or a meeting's iCalendar uid, known once the
    worker has read the item) in each CRM environment.

    A worker *claims* the job before touching the CRM (``lease_token`` and ``lease_until``);
    only the lease holder may record the outcome, and a lease that outlives a dead worker lets
    the sweep hand the job to another. The adapter's own check for an existing activity (by
    message id) makes the redone save find, not repeat, what the dead worker already wrote.
    """

    __tablename__ = "save_jobs"
    __table_args__ = (
        UniqueConstraint("environment_id", "item_key", name="uq_save_job_item"),
        UniqueConstraint("environment_id", "message_id", name="uq_save_job_message"),
        Index("ix_save_jobs_due", "status", "next_attempt_at"),
        Index("ix_save_jobs_conversation", "tenant_id", "user_oid", "conversation_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    #: The rep's address (Graph's "me"); never a shared mailbox (rule 17).
    mailbox: Mapped[str] = mapped_column(String(320))
    crm: Mapped[str] = mapped_column(String(40))
    environment_id: Mapped[str] = mapped_column(String(200))
    #: The environment as discovery gave it (name, kind, url, api_url): JSON.
    environment: Mapped[str] = mapped_column(Text)
    #: "email" or "meeting".
    kind: Mapped[str] = mapped_column(String(20))
    item_key: Mapped[str] = mapped_column(String(1000))
    message_id: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    #: The item's REST id in the rep's mailbox (Graph); for a draft, the draft's until it is sent.
    item_id: Mapped[str] = mapped_column(String(1000))
    conversation_id: Mapped[str] = mapped_column(String(1000), default="")
    regarding_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    regarding_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    regarding_name: Mapped[str] = mapped_column(String(400), default="")
    #: "rep" (the rep pressed Save) or "reply" (saved automatically with its conversation).
    origin: Mapped[str] = mapped_column(String(20), default="rep")
    #: queued, waiting (a draft not sent yet), saving, saved, failed, or merged: the item turned
    #: out to be one another job saves (the same message id), named by ``merged_into``.
    status: Mapped[str] = mapped_column(String(20), default="queued")
    merged_into: Mapped[str | None] = mapped_column(String(36), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error_code: Mapped[str] = mapped_column(String(60), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    activity_id: Mapped[str] = mapped_column(String(200), default="")
    activity_url: Mapped[str] = mapped_column(String(2000), default="")
    #: Whether this job's save created the activity (False: the CRM already had it).
    activity_created: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Attachments left out (rule 18): JSON list of {"name", "reason"}.
    skipped: Mapped[str] = mapped_column(Text, default="[]")
    crm_requests: Mapped[int] = mapped_column(Integer, default=0)
    mailbox_requests: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    saved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MailboxCheck(Base):
    """What the CRM last said about a rep's mailbox (server-side sync, tracking option).

    Asked at most once per ``MAILBOX_CHECK_TTL`` per rep and environment, so the pane can say
    "server-side sync is off" (rule 15) without a CRM round trip on every opened item, and the
    reply task knows whether the rep tracks replies.
    """

    __tablename__ = "mailbox_checks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_oid", "environment_id", name="uq_mailbox_check"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    environment_id: Mapped[str] = mapped_column(String(200))
    server_side_sync: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    track_replies: Mapped[bool] = mapped_column(Boolean, default=True)
    problem: Mapped[str] = mapped_column(Text, default="")
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReplyWatch(Base):
    """How far the reply task has looked through a rep's saved conversations (rule 15)."""

    __tablename__ = "reply_watches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_oid", "environment_id", name="uq_reply_watch"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    environment_id: Mapped[str] = mapped_column(String(200))
    checked_through: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Tenant(Base):
    """An organisation's admin decisions: consent (rule 19), CRM features on (rule 20), settings.

    One row per Entra tenant, made on first need. ``settings`` is the whole validated settings
    document (JSON) once an admin has saved it, else empty (the deployment's defaults apply);
    ``settings_version`` grows with every change so two admins cannot overwrite each other.
    """

    __tablename__ = "tenants"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: "" (never asked), "granted" or "refused".
    consent: Mapped[str] = mapped_column(String(20), default="")
    consent_error: Mapped[str] = mapped_column(String(200), default="")
    consent_error_description: Mapped[str] = mapped_column(Text, default="")
    consent_by: Mapped[str] = mapped_column(String(400), default="")
    consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    crm_features: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[str] = mapped_column(Text, default="")
    settings_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConsentRequest(Base):
    """A Provide consent link handed to an admin: its ``state`` is checked on the way back."""

    __tablename__ = "consent_requests"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ProvisioningRun(Base):
    """One run of provisioning's checks (rule 20), done by a worker, newest per tenant shown."""

    __tablename__ = "provisioning_runs"
    __table_args__ = (Index("ix_provisioning_runs_tenant", "tenant_id", "requested_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(400))
    crm: Mapped[str] = mapped_column(String(40))
    environment_id: Mapped[str] = mapped_column(String(200))
    #: The environment checked, as `Environment` JSON (a worker opens the adapter on it).
    environment: Mapped[str] = mapped_column(Text)
    #: queued, running, succeeded, failed.
    status: Mapped[str] = mapped_column(String(20), default="queued")
    #: JSON list of {"name", "ok", "code", "details", "count"} (see `ReadinessCheck`).
    checks: Mapped[str] = mapped_column(Text, default="[]")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AdminAudit(Base):
    """Who changed what and when: a setting, consent, the CRM features (rule 21's trail)."""

    __tablename__ = "admin_audit"
    __table_args__ = (Index("ix_admin_audit_tenant", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_oid: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(400))
    #: "setting", "consent", "crm_features".
    action: Mapped[str] = mapped_column(String(40))
    #: The setting's name for "setting"; empty otherwise.
    field: Mapped[str] = mapped_column(String(60), default="")
    #: JSON of the value before and after.
    old_value: Mapped[str] = mapped_column(Text, default="null")
    new_value: Mapped[str] = mapped_column(Text, default="null")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
