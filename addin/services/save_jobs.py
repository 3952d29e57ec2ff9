"""Save jobs in the store: created once, claimed by one worker at a time, finished by its holder.

Every state change is one short transaction, committed at once, because the web app, the
workers and the sweep all change jobs concurrently and a worker may die at any point:

* `create_job` inserts or returns the job already there for the item (two unique keys: the item,
  and the CRM's idempotency key once known). Two reps pressing Save together get one job.
* `claim` is one conditional UPDATE: only a job that is due (queued or waiting, or saving with a
  lease that has run out) can be claimed, and only one claimer wins. The winner holds a lease
  token; `finish`, `retry_later`, `wait` and `fail` change the job only for the token's holder,
  so a worker that was presumed dead and comes back cannot overwrite its successor.
* `due_jobs` is what the sweep sends again: due jobs nobody picked up (a lost broker message, a
  retry whose message died with its worker) and jobs whose worker's lease ran out.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_adapters.models import Environment, RecordRef

from ..identity import Identity
from ..store.models import SaveJob

QUEUED, WAITING, SAVING, SAVED, FAILED, MERGED = (
    "queued",
    "waiting",
    "saving",
    "saved",
    "failed",
    "merged",
)
#: A message may arrive this much before its job's time (clocks of two hosts) and still claim it.
_EARLY = dt.timedelta(seconds=2)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Skipped:
    """An attachment left out of a save, and the code of why (`services.attachments`)."""

    name: str
    reason: str


def skipped_of(job: SaveJob) -> list[Skipped]:
    try:
        return [Skipped(str(s["name"]), str(s["reason"])) for s in json.loads(job.skipped or "[]")]
    except (ValueError, TypeError, KeyError):
        return []


def environment_of(job: SaveJob) -> Environment:
    """The environment the job saves to, as discovery described it when the rep saved."""
    return stored_environment(job.crm, job.environment_id, job.environment)


def environment_json(environment: Environment) -> str:
    """What a row keeps of an environment, so a worker can open an adapter on it later."""
    return json.dumps(
        {
            "name": environment.name,
            "kind": environment.kind,
            "url": environment.url,
            "api_url": environment.api_url,
        }
    )


def stored_environment(crm: str, environment_id: str, stored: str) -> Environment:
    """The environment `environment_json` kept."""
    data = json.loads(stored)
    return Environment(
        id=environment_id,
        name=data.get("name", ""),
        kind=data.get("kind", "production"),
        url=data.get("url", ""),
        crm=crm,
        api_url=data.get("api_url", ""),
    )


def regarding_of(job: SaveJob) -> RecordRef | None:
    if not (job.regarding_type and job.regarding_id):
        return None
    return RecordRef(job.regarding_type, job.regarding_id, job.regarding_name)


def find_job(
    session: Session, environment_id: str, *, item_key: str = "", message_id: str = ""
) -> SaveJob | None:
    """Return the job for this item (by its key or its message id), following a merge."""
    keys = []
    if item_key:
        keys.append(SaveJob.item_key == item_key)
    if message_id:
        keys.append(SaveJob.message_id == message_id)
    if not keys:
        return None
    job = session.scalars(
        select(SaveJob).where(SaveJob.environment_id == environment_id, or_(*keys)).limit(1)
    ).first()
    return follow(session, job)


def follow(session: Session, job: SaveJob | None) -> SaveJob | None:
    """A merged job stands for the job it was merged into."""
    seen = 0
    while job is not None and job.status == MERGED and job.merged_into and seen < 5:
        job = session.get(SaveJob, job.merged_into)
        seen += 1
    return job


def create_job(
    session: Session,
    *,
    identity: Identity,
    environment: Environment,
    kind: str,
    item_key: str,
    item_id: str,
    message_id: str | None,
    conversation_id: str = "",
    regarding: RecordRef | None = None,
    origin: str = "rep",
    mailbox: str = "",
) -> tuple[SaveJob, bool]:
    """Insert the job for an item, or return the one already there; committed either way."""
    existing = find_job(session, environment.id, item_key=item_key, message_id=message_id or "")
    if existing is not None:
        return existing, False
    now = utcnow()
    job = SaveJob(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        user_oid=identity.user_oid,
        mailbox=mailbox or identity.email,
        crm=environment.crm,
        environment_id=environment.id,
        environment=environment_json(environment),
        kind=kind,
        item_key=item_key,
        message_id=message_id or None,
        item_id=item_id,
        conversation_id=conversation_id,
        regarding_type=regarding.type if regarding else None,
        regarding_id=regarding.id if regarding else None,
        regarding_name=(regarding.name if regarding else "")[:400],
        origin=origin,
        status=QUEUED,
        attempts=0,
        next_attempt_at=now,
        enqueued_at=now,
        error_code="",
        error_message="",
        activity_id="",
        activity_url="",
        activity_created=False,
        skipped="[]",
        crm_requests=0,
        mailbox_requests=0,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:  # another request or worker made it a moment ago
        found = find_job(session, environment.id, item_key=item_key, message_id=message_id or "")
        if found is None:
            raise
        session.commit()
        return found, False
    session.commit()
    return job, True


def claim(session: Session, job_id: str, lease_seconds: float) -> tuple[SaveJob, str] | None:
    """Take the job if it is due and nobody holds it; return it with the lease token."""
    now = utcnow()
    token = str(uuid.uuid4())
    result = session.execute(
        update(SaveJob)
        .where(
            SaveJob.id == job_id,
            or_(
                and_(
                    SaveJob.status.in_((QUEUED, WAITING)),
                    SaveJob.next_attempt_at <= now + _EARLY,
                ),
                and_(SaveJob.status == SAVING, SaveJob.lease_until < now),
            ),
        )
        .values(
            status=SAVING,
            lease_token=token,
            lease_until=now + dt.timedelta(seconds=lease_seconds),
            attempts=SaveJob.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = session.get(SaveJob, job_id, populate_existing=True)
    return (job, token) if job is not None else None


def _settle(session: Session, job: SaveJob, token: str, **values: object) -> bool:
    """Change the job if ``token`` still holds its lease; commit; tell whether it did."""
    values.setdefault("updated_at", utcnow())
    result = session.execute(
        update(SaveJob)
        .where(SaveJob.id == job.id, SaveJob.lease_token == token, SaveJob.status == SAVING)
        .values(lease_token=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(job)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish(
    session: Session,
    job: SaveJob,
    token: str,
    *,
    ref: RecordRef,
    created: bool,
    skipped: Sequence[Skipped],
    crm_requests: int,
    mailbox_requests: int,
) -> bool:
    """Record the saved activity."""
    now = utcnow()
    return _settle(
        session,
        job,
        token,
        status=SAVED,
        activity_id=ref.id,
        activity_url=ref.url,
        activity_created=created,
        skipped=json.dumps([{"name": s.name, "reason": s.reason} for s in skipped]),
        crm_requests=job.crm_requests + crm_requests,
        mailbox_requests=job.mailbox_requests + mailbox_requests,
        error_code="",
        error_message="",
        saved_at=now,
        updated_at=now,
    )


def retry_later(
    session: Session,
    job: SaveJob,
    token: str,
    *,
    delay: float,
    code: str,
    message: str,
    crm_requests: int = 0,
    mailbox_requests: int = 0,
) -> bool:
    """Put the job back in the queue for ``delay`` seconds (the caller sends the message)."""
    now = utcnow()
    return _settle(
        session,
        job,
        token,
        status=QUEUED,
        next_attempt_at=now + dt.timedelta(seconds=delay),
        enqueued_at=now,
        error_code=code,
        error_message=message[:2000],
        crm_requests=job.crm_requests + crm_requests,
        mailbox_requests=job.mailbox_requests + mailbox_requests,
    )


def wait(
    session: Session, job: SaveJob, token: str, *, delay: float, mailbox_requests: int = 0
) -> bool:
    """Park a draft's job until it is looked for in Sent Items again."""
    return _settle(
        session,
        job,
        token,
        status=WAITING,
        next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
        enqueued_at=None,
        # Looking for the send is not a failed attempt: once sent, the save gets all its tries.
        attempts=0,
        mailbox_requests=job.mailbox_requests + mailbox_requests,
    )


def fail(
    session: Session,
    job: SaveJob,
    token: str,
    *,
    code: str,
    message: str,
    crm_requests: int = 0,
    mailbox_requests: int = 0,
) -> bool:
    """Give up until the rep presses Retry; ``message`` says why and what to do."""
    return _settle(
        session,
        job,
        token,
        status=FAILED,
        error_code=code,
        error_message=message[:2000],
        crm_requests=job.crm_requests + crm_requests,
        mailbox_requests=job.mailbox_requests + mailbox_requests,
    )


def learn_message_id(session: Session, job: SaveJob, token: str, message_id: str) -> SaveJob:
    """Record the CRM key read from the mailbox; return the job that saves this message.

    When another job already saves the same message (the rep saved the draft and then the sent
    email, or two reps the same meeting), this job is merged into it and that job is returned.
    """
    if not message_id or job.message_id == message_id:
        return job
    try:
        with session.begin_nested():
            session.execute(
                update(SaveJob)
                .where(SaveJob.id == job.id, SaveJob.lease_token == token)
                .values(message_id=message_id, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        other = find_job(session, job.environment_id, message_id=message_id)
        if other is None:
            raise
        _settle(session, job, token, status=MERGED, merged_into=other.id)
        return other
    session.commit()
    session.refresh(job)
    return job


def retry(session: Session, job: SaveJob) -> bool:
    """The rep pressed Retry on a failed save: queue it again from the start."""
    now = utcnow()
    result = session.execute(
        update(SaveJob)
        .where(SaveJob.id == job.id, SaveJob.status == FAILED)
        .values(
            status=QUEUED,
            attempts=0,
            next_attempt_at=now,
            enqueued_at=now,
            error_code="",
            error_message="",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(job)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def due_jobs(session: Session, *, redeliver_seconds: float, limit: int = 500) -> list[str]:
    """Mark and return the jobs to send (again): due and unsent, or abandoned by their worker."""
    now = utcnow()
    stale = now - dt.timedelta(seconds=redeliver_seconds)
    ids = list(
        session.scalars(
            select(SaveJob.id)
            .where(
                or_(
                    and_(
                        SaveJob.status == QUEUED,
                        SaveJob.next_attempt_at <= now,
                        or_(SaveJob.enqueued_at.is_(None), SaveJob.enqueued_at <= stale),
                    ),
                    and_(SaveJob.status == WAITING, SaveJob.next_attempt_at <= now),
                    and_(SaveJob.status == SAVING, SaveJob.lease_until < now),
                )
            )
            .order_by(SaveJob.next_attempt_at)
            .limit(limit)
        )
    )
    if ids:
        session.execute(
            update(SaveJob)
            .where(SaveJob.id.in_(ids))
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return ids
