"""Replies in saved conversations are saved too (rule 15), where the CRM does that.

A periodic task looks through each rep's saved conversations of the last REPLY_WINDOW_DAYS: one
mailbox request per 15 conversations for everything new since the last look, then one save
job per new message, connected to what the conversation's latest save is connected to. The
jobs' unique keys make a message seen twice (the looks overlap a little, so that a message
indexed late is not missed) a no-op. Skipped entirely when the CRM cannot (Salesforce, rule 16),
when the organisation's admin turned it off (the tenant's ``auto_save_replies`` setting, whose
default is AUTO_SAVE_REPLIES), or when the rep's tracking option in the CRM says "no email
messages".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_adapters import CrmAdapter

from ..mailbox import Mailbox
from ..store.models import ReplyWatch, SaveJob
from . import save_jobs, tenant_settings
from .save_jobs import SAVED, aware, utcnow
from .saving import identity_of, mailbox_check

#: How far each look reaches back before the previous one ended.
OVERLAP = dt.timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class WatchedRep:
    tenant_id: str
    user_oid: str
    environment_id: str


def watched_reps(
    session: Session, window_days: float, config: Mapping[str, Any]
) -> list[WatchedRep]:
    """Reps with saved emails in a conversation inside the window, per environment, in the
    organisations whose admin keeps automatic saving of replies on (rule 21)."""
    since = utcnow() - dt.timedelta(days=window_days)
    rows = session.execute(
        select(SaveJob.tenant_id, SaveJob.user_oid, SaveJob.environment_id)
        .where(
            SaveJob.status == SAVED,
            SaveJob.kind == "email",
            SaveJob.conversation_id != "",
            SaveJob.saved_at >= since,
        )
        .distinct()
    )
    found = [WatchedRep(*row) for row in rows]
    saves_replies = {
        tenant_id: tenant_settings.current(session, tenant_id, config).auto_save_replies
        for tenant_id in {rep.tenant_id for rep in found}
    }
    return [rep for rep in found if saves_replies[rep.tenant_id]]


def latest_job(session: Session, rep: WatchedRep) -> SaveJob | None:
    """The rep's latest saved email job in the environment: where their adapter points."""
    return session.scalars(
        select(SaveJob)
        .where(
            SaveJob.tenant_id == rep.tenant_id,
            SaveJob.user_oid == rep.user_oid,
            SaveJob.environment_id == rep.environment_id,
            SaveJob.status == SAVED,
            SaveJob.kind == "email",
        )
        .order_by(SaveJob.saved_at.desc())
        .limit(1)
    ).first()


def save_replies_for(
    session: Session,
    rep: WatchedRep,
    *,
    adapter: CrmAdapter,
    mailbox: Mailbox,
    window_days: float,
    mailbox_check_ttl: float,
) -> list[str]:
    """Create the jobs for new messages in the rep's saved conversations; return their ids."""
    if not adapter.capabilities.auto_save_replies:
        return []
    window_start = utcnow() - dt.timedelta(days=window_days)
    saved = session.scalars(
        select(SaveJob)
        .where(
            SaveJob.tenant_id == rep.tenant_id,
            SaveJob.user_oid == rep.user_oid,
            SaveJob.environment_id == rep.environment_id,
            SaveJob.status == SAVED,
            SaveJob.kind == "email",
            SaveJob.conversation_id != "",
            SaveJob.saved_at >= window_start,
        )
        .order_by(SaveJob.saved_at)
    ).all()
    latest: dict[str, SaveJob] = {job.conversation_id: job for job in saved}  # newest wins
    if not latest:
        return []
    identity = identity_of(saved[-1])
    check = mailbox_check(session, identity, rep.environment_id, adapter, mailbox_check_ttl)
    if check is not None and not check.track_replies:
        return []
    watch = session.scalars(
        select(ReplyWatch).where(
            ReplyWatch.tenant_id == rep.tenant_id,
            ReplyWatch.user_oid == rep.user_oid,
            ReplyWatch.environment_id == rep.environment_id,
        )
    ).first()
    # ``saved`` is in order of saving: the first is the earliest.
    since = aware(watch.checked_through) if watch else aware(saved[0].saved_at)
    started = utcnow()
    messages = mailbox.conversation_messages(sorted(latest), (since or window_start) - OVERLAP)
    created: list[str] = []
    for message in messages:
        conversation = latest.get(message.conversation_id)
        if message.is_draft or not message.internet_message_id or conversation is None:
            continue
        job, new = save_jobs.create_job(
            session,
            identity=identity,
            environment=save_jobs.environment_of(conversation),
            kind="email",
            item_key=message.internet_message_id,
            item_id=message.item_id,
            message_id=message.internet_message_id,
            conversation_id=message.conversation_id,
            regarding=save_jobs.regarding_of(conversation),
            origin="reply",
            mailbox=conversation.mailbox,
        )
        if new:
            created.append(job.id)
    if watch is None:
        watch = ReplyWatch(
            tenant_id=rep.tenant_id,
            user_oid=rep.user_oid,
            environment_id=rep.environment_id,
            checked_through=started,
        )
        session.add(watch)
    watch.checked_through = started
    session.commit()
    return created
