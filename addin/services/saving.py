"""Save an email or meeting to the CRM (rules 13-18): the rep's request, then the worker's save.

The rep's side (`request_save`) is quick and makes no CRM write: it applies the rules that can
refuse at once (a shared mailbox, a CRM that cannot save what is being written, server-side sync
off), then creates the job, which the view sends to the queue. The worker's side
(`perform_save`) reads the whole item from the rep's mailbox, leaves out the attachments the
policy refuses, and asks the adapter to save, which looks for an existing activity by message id
before it creates one. What happens next is decided here and carried out by the task:

==========================  ===============================================================
what happened               what the job does
==========================  ===============================================================
saved (or found saved)      ``saved``, with the activity's link and the files left out
a draft not sent yet        ``waiting``; looked for in Sent Items every DRAFT_CHECK_SECONDS
429 from CRM or mailbox     back to ``queued`` after the server's Retry-After
5xx, dropped connection     back to ``queued`` with exponential backoff
sign-in needed, refused     ``failed``, with what the rep should do and a Retry button
too many attempts           ``failed``, naming the last problem
==========================  ===============================================================
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_adapters import CrmAdapter
from crm_adapters.errors import (
    Conflict,
    CrmError,
    NotFound,
    NotSignedIn,
    RateLimited,
    Rejected,
    Unavailable,
)
from crm_adapters.models import (
    AttachmentFile,
    EmailActivity,
    Environment,
    MeetingActivity,
    Party,
    RecordRef,
    SavedActivity,
)

from ..errors import ApiError
from ..identity import Identity
from ..mailbox import AttachmentPolicy, Mailbox, MailEvent, MailMessage
from ..pane.item import OpenItem
from ..store.models import ContactChoice, MailboxCheck, SaveJob
from . import save_jobs
from .addresses import InvalidAddress, normalise
from .attachments import ITEM, LINK, SIZE, TYPE
from .save_jobs import Skipped, aware, utcnow

log = logging.getLogger(__name__)
ActivityT = TypeVar("ActivityT", EmailActivity, MeetingActivity)


# --- the rep's request ------------------------------------------------------------------------


def item_key(item: OpenItem) -> tuple[str, str | None]:
    """Return the job key of an item and its CRM message id when the pane already knows it.

    A received or sent email is named by its internet message id, which every copy of it shares.
    A draft or a meeting is named by its mailbox item id until the worker reads the real key.
    """
    if item.type == "message" and item.mode == "read" and item.internet_message_id:
        return item.internet_message_id, item.internet_message_id
    if not item.item_id:
        raise ApiError(
            400,
            "no_item_id",
            _("Outlook has not stored this item yet. Save it in Outlook, then try again."),
        )
    return "item:" + item.item_id, None


def refuse_unsaveable(item: OpenItem, adapter: CrmAdapter, crm_label: str) -> None:
    """Raise the rule that forbids saving this item, if any (rules 16 and 17)."""
    if item.shared_owner:
        raise ApiError(
            409,
            "shared_mailbox",
            _(
                "Items in shared mailboxes cannot be saved to the CRM. Forward it to your own "
                "mailbox or ask its owner to save it."
            ),
        )
    if item.mode == "compose" and item.type == "message" and not adapter.capabilities.save_drafts:
        raise ApiError(
            409,
            "drafts_not_saved",
            _(
                "%(crm)s does not save emails while they are being written. Once this email "
                "is sent, open it from Sent Items to save it.",
                crm=crm_label,
            ),
        )
    if (
        item.mode == "compose"
        and item.type == "appointment"
        and not adapter.capabilities.save_compose_meetings
    ):
        raise ApiError(
            409,
            "compose_meetings_not_saved",
            _(
                "%(crm)s does not save meetings while they are being set up. Once the "
                "invitation is sent, open the meeting from your calendar to save it.",
                crm=crm_label,
            ),
        )


def _stored_check(session: Session, identity: Identity, environment_id: str) -> MailboxCheck | None:
    return session.scalars(
        select(MailboxCheck).where(
            MailboxCheck.tenant_id == identity.tenant_id,
            MailboxCheck.user_oid == identity.user_oid,
            MailboxCheck.environment_id == environment_id,
        )
    ).first()


def mailbox_check(
    session: Session,
    identity: Identity,
    environment_id: str,
    adapter: CrmAdapter | None,
    ttl: float,
) -> MailboxCheck | None:
    """Return what the CRM says of the rep's mailbox, asking it at most once per ``ttl``.

    With ``adapter=None`` only the stored answer is returned (the pane's opened item costs no
    CRM round trip for this).
    """
    row = _stored_check(session, identity, environment_id)
    fresh = (
        row is not None and (utcnow() - (aware(row.checked_at) or utcnow())).total_seconds() < ttl
    )
    if fresh or adapter is None:
        return row
    settings = adapter.mailbox_settings()
    values = {
        "server_side_sync": settings.server_side_sync,
        "track_replies": settings.track_replies,
        "problem": settings.problem,
        "checked_at": utcnow(),
    }
    if row is None:
        row = MailboxCheck(
            tenant_id=identity.tenant_id,
            user_oid=identity.user_oid,
            environment_id=environment_id,
            **values,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the rep's other request stored it a moment ago: ours is as new
            row = _stored_check(session, identity, environment_id)
            assert row is not None  # the row that collided with ours
    for name, value in values.items():
        setattr(row, name, value)
    session.commit()
    return row


def server_side_sync_off() -> ApiError:
    return ApiError(
        409,
        "server_side_sync_off",
        _(
            "Server-side synchronization is off for your mailbox, so Dynamics 365 cannot "
            "track your emails. Ask your admin to turn it on for your mailbox."
        ),
    )


def request_save(
    session: Session,
    *,
    identity: Identity,
    adapter: CrmAdapter,
    environment: Environment,
    crm_label: str,
    item: OpenItem,
    regarding: RecordRef | None,
    mailbox_check_ttl: float,
    before_create: Callable[[], None] = lambda: None,
) -> tuple[SaveJob, bool]:
    """Create the job that saves the item, or return the one there is; (job, created).

    ``before_create`` runs only when a job is about to be made (the mailbox's preparation:
    nothing to do for an item refused or already saved).
    """
    refuse_unsaveable(item, adapter, crm_label)
    key, message_id = item_key(item)
    existing = save_jobs.find_job(
        session, environment.id, item_key=key, message_id=message_id or ""
    )
    if existing is not None:
        return existing, False
    if adapter.capabilities.needs_server_side_sync:
        check = mailbox_check(session, identity, environment.id, adapter, mailbox_check_ttl)
        if check is not None and check.server_side_sync is False:
            raise server_side_sync_off()
    before_create()
    return save_jobs.create_job(
        session,
        identity=identity,
        environment=environment,
        kind="email" if item.type == "message" else "meeting",
        item_key=key,
        item_id=item.item_id,
        message_id=message_id,
        conversation_id=item.conversation_id,
        regarding=regarding,
        mailbox=item.mailbox or identity.email,
    )


# --- the worker's save ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SaveSettings:
    lease_seconds: float = 300
    max_attempts: int = 10
    draft_check_seconds: float = 60
    draft_wait_days: float = 14

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SaveSettings:
        return cls(
            lease_seconds=float(config["SAVE_LEASE_SECONDS"]),
            max_attempts=int(config["SAVE_MAX_ATTEMPTS"]),
            draft_check_seconds=float(config["DRAFT_CHECK_SECONDS"]),
            draft_wait_days=float(config["DRAFT_WAIT_DAYS"]),
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the task does after `perform_save`: send the job again in ``requeue_in`` seconds,
    or nothing (``None``: finished, failed, waiting for the sweep, or someone else's)."""

    status: str
    requeue_in: float | None = None


def identity_of(job: SaveJob) -> Identity:
    """The rep a job acts for, without a pane token: their stored tokens are used."""
    return Identity(
        tenant_id=job.tenant_id,
        user_oid=job.user_oid,
        email=job.mailbox,
        name="",
        roles=frozenset(),
        scopes=frozenset(),
    )


def backoff(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1`` after a fault with no Retry-After: 2, 4, 8 … 300,
    with jitter so that jobs failed together do not return together."""
    return float(min(300.0, 2.0 ** max(1, attempt)) * random.uniform(0.8, 1.2))


def perform_save(
    session: Session,
    job_id: str,
    *,
    open_adapter: Callable[[SaveJob], CrmAdapter],
    open_mailbox: Callable[[SaveJob], Mailbox],
    policy_for: Callable[[SaveJob], AttachmentPolicy],
    settings: SaveSettings,
) -> Outcome:
    """Claim the job and save its item; record how it ended.

    ``policy_for`` gives the attachment policy of the job's organisation (its admin's settings,
    read once the job is claimed).
    """
    claimed = save_jobs.claim(session, job_id, settings.lease_seconds)
    if claimed is None:
        return Outcome("not_due")  # saved already, someone else holds it, or not due yet
    job, token = claimed
    if job.attempts > settings.max_attempts:  # its workers died each time (never reached _again)
        message = job.error_message or "The save stopped unexpectedly several times."
        save_jobs.fail(session, job, token, code="gave_up", message=message)
        return Outcome(save_jobs.FAILED)
    adapter: CrmAdapter | None = None
    mailbox: Mailbox | None = None

    def counts() -> dict[str, int]:
        return {
            "crm_requests": adapter.round_trips if adapter else 0,
            "mailbox_requests": mailbox.requests if mailbox else 0,
        }

    try:
        policy = policy_for(job)
        adapter = open_adapter(job)
        mailbox = open_mailbox(job)
        return _save(session, job, token, adapter, mailbox, policy, settings, counts)
    except RateLimited as error:
        return _again(session, job, token, settings, max(1.0, error.retry_after), error, counts())
    except (Unavailable, Conflict) as error:
        return _again(session, job, token, settings, backoff(job.attempts), error, counts())
    except NotSignedIn as error:
        save_jobs.fail(
            session, job, token, code="signed_out", message=_signed_out(error), **counts()
        )
        return Outcome(save_jobs.FAILED)
    except NotFound as error:
        message = str(error) or "The item is no longer in your mailbox."
        save_jobs.fail(session, job, token, code="not_found", message=message, **counts())
        return Outcome(save_jobs.FAILED)
    except Rejected as error:
        save_jobs.fail(session, job, token, code="rejected", message=error.reason, **counts())
        return Outcome(save_jobs.FAILED)
    except CrmError as error:
        return _again(session, job, token, settings, backoff(job.attempts), error, counts())
    except Exception as error:  # a bug must not lose the save: log it, retry, then fail
        log.exception("saving job %s failed unexpectedly", job.id)
        session.rollback()
        return _again(session, job, token, settings, backoff(job.attempts), error, counts())
    finally:
        for closable in (adapter, mailbox):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # closing must never hide the outcome
                    log.warning("closing after job %s failed", job.id, exc_info=True)


def _signed_out(error: NotSignedIn) -> str:
    text = str(error).strip()
    return text or "Sign in to the CRM again in the pane, then press Retry."


def _again(
    session: Session,
    job: SaveJob,
    token: str,
    settings: SaveSettings,
    delay: float,
    error: BaseException,
    counts: dict[str, int],
) -> Outcome:
    if isinstance(error, CrmError):
        message = str(error).strip() or type(error).__name__
    else:  # our own bug: its text may hold anything, so the rep gets a plain sentence
        message = "Sidepane hit an unexpected problem; it is logged for your administrator."
    if job.attempts >= settings.max_attempts:
        save_jobs.fail(session, job, token, code="gave_up", message=message, **counts)
        return Outcome(save_jobs.FAILED)
    if isinstance(error, RateLimited):
        code = "rate_limited"
    elif isinstance(error, CrmError):
        code = "unavailable"
    else:
        code = "internal"  # our fault, not the CRM's: logged with its traceback
    if save_jobs.retry_later(
        session, job, token, delay=delay, code=code, message=message, **counts
    ):
        return Outcome(save_jobs.QUEUED, requeue_in=delay)
    return Outcome("lost_lease")


def _save(
    session: Session,
    job: SaveJob,
    token: str,
    adapter: CrmAdapter,
    mailbox: Mailbox,
    policy: AttachmentPolicy,
    settings: SaveSettings,
    counts: Callable[[], dict[str, int]],
) -> Outcome:
    if job.kind == "meeting":
        event = mailbox.event(job.item_id)
        target = save_jobs.learn_message_id(session, job, token, event.ical_uid)
        if target.id != job.id:
            return Outcome(save_jobs.MERGED)
        activity = meeting_activity(event, save_jobs.regarding_of(job))
        saved = _crm_save(adapter.save_meeting, _with_choices(session, job, activity))
        skipped: list[Skipped] = []
    else:
        message = _read_email(mailbox, job, policy)
        if message.is_draft:
            target = save_jobs.learn_message_id(session, job, token, message.internet_message_id)
            if target.id != job.id:
                return Outcome(save_jobs.MERGED)
            sent = mailbox.find_sent(message.internet_message_id)
            if sent is None:
                return _wait_for_send(session, job, token, settings, counts)
            message = mailbox.message(sent.item_id, policy)
        else:
            target = save_jobs.learn_message_id(session, job, token, message.internet_message_id)
            if target.id != job.id:
                return Outcome(save_jobs.MERGED)
        email, skipped = email_activity(message, job.mailbox, save_jobs.regarding_of(job))
        saved = _crm_save(adapter.save_email, _with_choices(session, job, email))
    skipped += [Skipped(name, TYPE) for name in saved.skipped_attachments]
    save_jobs.finish(
        session, job, token, ref=saved.ref, created=saved.created, skipped=skipped, **counts()
    )
    return Outcome(save_jobs.SAVED)


def _read_email(mailbox: Mailbox, job: SaveJob, policy: AttachmentPolicy) -> MailMessage:
    """Read the job's email. A draft sent since the last look has left Drafts (its sent copy
    has an id of its own), so it is then read from Sent Items, found by its message id."""
    try:
        return mailbox.message(job.item_id, policy)
    except NotFound:
        sent = mailbox.find_sent(job.message_id) if job.message_id else None
        if sent is None:
            raise
        return mailbox.message(sent.item_id, policy)


def _crm_save(save: Callable[[ActivityT], SavedActivity], activity: ActivityT) -> SavedActivity:
    """Save through the adapter. Its NotFound names the CRM's side (the record the item is
    connected to was deleted), not the mailbox item: the rep hears it as the CRM's refusal."""
    try:
        return save(activity)
    except NotFound as error:
        raise Rejected(str(error) or "The CRM has no record to save this item against.") from error


def _wait_for_send(
    session: Session,
    job: SaveJob,
    token: str,
    settings: SaveSettings,
    counts: Callable[[], dict[str, int]],
) -> Outcome:
    waited = utcnow() - (aware(job.created_at) or utcnow())
    if waited > dt.timedelta(days=settings.draft_wait_days):
        save_jobs.fail(
            session,
            job,
            token,
            code="never_sent",
            message="This draft was not sent, so it was not saved.",
            **counts(),
        )
        return Outcome(save_jobs.FAILED)
    save_jobs.wait(
        session,
        job,
        token,
        delay=settings.draft_check_seconds,
        mailbox_requests=counts()["mailbox_requests"],
    )
    return Outcome(save_jobs.WAITING)


def email_activity(
    message: MailMessage, rep_address: str, regarding: RecordRef | None
) -> tuple[EmailActivity, list[Skipped]]:
    """Turn the mailbox's message into the CRM's email, and list the files left out."""
    files: list[AttachmentFile] = []
    skipped: list[Skipped] = []
    for attachment in message.attachments:
        if attachment.kind != "file":
            skipped.append(
                Skipped(attachment.name, LINK if attachment.kind == "reference" else ITEM)
            )
        elif attachment.content is None:
            reason = attachment.skipped if attachment.skipped in (SIZE, TYPE) else TYPE
            skipped.append(Skipped(attachment.name, reason))
        else:
            files.append(
                AttachmentFile(attachment.name, attachment.content_type, attachment.content)
            )
    sender = message.sender or Party(rep_address)
    outgoing = sender.address.lower() == rep_address.lower()
    when = message.sent_at or message.received_at or utcnow()
    activity = EmailActivity(
        message_id=message.internet_message_id,
        subject=message.subject,
        sender=sender,
        sent_at=when,
        to=message.to,
        cc=message.cc,
        bcc=message.bcc,
        body_html=message.body_html,
        direction="outgoing" if outgoing else "incoming",
        regarding=regarding,
        attachments=tuple(files),
        conversation_id=message.conversation_id,
    )
    return activity, skipped


def meeting_activity(event: MailEvent, regarding: RecordRef | None) -> MeetingActivity:
    organizer = event.organizer or Party("")
    return MeetingActivity(
        message_id=event.ical_uid,
        subject=event.subject,
        organizer=organizer,
        start=event.start,
        end=event.end,
        attendees=event.required + event.optional,
        location=event.location,
        body_html=event.body_html,
        regarding=regarding,
    )


def _with_choices(session: Session, job: SaveJob, activity: ActivityT) -> ActivityT:
    """Link each address the rep chose a contact for (rule 7) to that contact."""
    parties = _parties(activity)
    # Choices are stored normalised (IDNA domain, lower case), so look them up the same way.
    keys = {p.address: _key(p.address) for p in parties if p.address and not p.contact_id}
    addresses = {key for key in keys.values() if key}
    if not addresses:
        return activity
    rows = session.execute(
        select(ContactChoice.address, ContactChoice.contact_id).where(
            ContactChoice.tenant_id == job.tenant_id,
            ContactChoice.user_oid == job.user_oid,
            ContactChoice.environment_id == job.environment_id,
            ContactChoice.address.in_(sorted(addresses)),
        )
    )
    chosen = {address: contact_id for address, contact_id in rows}
    if not chosen:
        return activity

    def pick(party: Party) -> Party:
        contact_id = chosen.get(keys.get(party.address, ""))
        return Party(party.address, party.name, contact_id) if contact_id else party

    if isinstance(activity, EmailActivity):
        return replace(
            activity,
            sender=pick(activity.sender),
            to=tuple(map(pick, activity.to)),
            cc=tuple(map(pick, activity.cc)),
            bcc=tuple(map(pick, activity.bcc)),
        )
    return replace(
        activity, organizer=pick(activity.organizer), attendees=tuple(map(pick, activity.attendees))
    )


def _key(address: str) -> str:
    try:
        return normalise(address)
    except InvalidAddress:
        return ""


def _parties(activity: EmailActivity | MeetingActivity) -> Sequence[Party]:
    if isinstance(activity, EmailActivity):
        return (activity.sender, *activity.to, *activity.cc, *activity.bcc)
    return (activity.organizer, *activity.attendees)
