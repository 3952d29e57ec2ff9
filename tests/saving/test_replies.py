"""Replies in saved conversations are saved too (rule 15), where the CRM and the rep want it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from addin import config
from addin.services import replies, save_jobs, tenant_settings
from addin.services.replies import OVERLAP, WatchedRep
from addin.store.models import MailboxCheck, ReplyWatch, SaveJob
from crm_adapters.models import RecordRef
from crm_adapters.sandbox import SandboxAdapter

from .conftest import REP, TENANT, count_jobs, mail, make_job, set_job, utcnow

pytestmark = pytest.mark.usefixtures("database_url")

WATCHED = WatchedRep(TENANT, REP.user_oid, "contoso")
#: The deployment's defaults: replies are saved unless an organisation's admin says otherwise.
CONFIG = config.defaults("instance")
OTHER_TENANT_REP = dataclasses.replace(REP, tenant_id="tenant-2", user_oid="rep-9")
REGARDING = RecordRef("account", "acc-1", "Rossi Costruzioni")


class NoReplies(SandboxAdapter):
    """A CRM that does not save replies by itself (as Salesforce, rule 16)."""

    capabilities = dataclasses.replace(SandboxAdapter.capabilities, auto_save_replies=False)


@pytest.fixture
def adapter(sandbox):
    crm = SandboxAdapter(sandbox[0], base_url="http://crm.test", environment_id="contoso")
    yield crm
    crm.close()


def saved_job(session, key: str, conversation_id: str, **options) -> SaveJob:
    """A job the workers saved already: the rep saved an email of the conversation."""
    job = make_job(session, key=key, message_id=key, conversation_id=conversation_id, **options)
    claimed = save_jobs.claim(session, job.id, 300)
    assert claimed is not None
    save_jobs.finish(
        session,
        job,
        claimed[1],
        ref=RecordRef("email", f"act-{key}", "", ""),
        created=True,
        skipped=[],
        crm_requests=1,
        mailbox_requests=1,
    )
    return job


def look(session, adapter, mailbox, window_days: float = 30) -> list[str]:
    return replies.save_replies_for(
        session,
        WATCHED,
        adapter=adapter,
        mailbox=mailbox,
        window_days=window_days,
        mailbox_check_ttl=900,
    )


def test_each_new_message_of_a_saved_conversation_gets_a_job_like_its_conversation(
    session, adapter, mailbox
):
    original = saved_job(session, "<m1@x>", "conv-1", regarding=REGARDING)
    now = utcnow()
    mailbox.add(mail("m-1", "<m1@x>", REP.email, "giulia@customer.example", when=now))
    mailbox.add(mail("r-1", "<r1@x>", "giulia@customer.example", REP.email, when=now))
    mailbox.add(mail("r-2", "<r2@x>", "luca@customer.example", REP.email, when=now))
    mailbox.add(mail("d-1", "<d1@x>", REP.email, "giulia@customer.example", draft=True))
    mailbox.add(mail("o-1", "<o1@x>", "x@other.example", REP.email, conversation_id="conv-9"))

    created = look(session, adapter, mailbox)

    jobs = {job.id: job for job in session.scalars(select(SaveJob))}
    assert sorted(jobs[i].item_key for i in created) == ["<r1@x>", "<r2@x>"]
    for job_id in created:
        reply = jobs[job_id]
        assert (reply.origin, reply.status, reply.kind) == ("reply", "queued", "email")
        assert reply.message_id == reply.item_key
        assert reply.item_id in ("r-1", "r-2") and reply.conversation_id == "conv-1"
        assert save_jobs.regarding_of(reply) == REGARDING
        assert (reply.tenant_id, reply.user_oid, reply.mailbox) == (
            TENANT,
            REP.user_oid,
            original.mailbox,
        )
        assert save_jobs.environment_of(reply) == save_jobs.environment_of(original)
    assert count_jobs(session) == 3  # not the draft, not the other conversation's message
    [(conversations, _since)] = mailbox.conversation_calls
    assert conversations == ("conv-1",)


def test_a_conversation_saved_twice_takes_its_latest_saves_record(session, adapter, mailbox):
    saved_job(session, "<m1@x>", "conv-1", regarding=REGARDING)
    later = RecordRef("case", "case-7", "Crane repair")
    saved_job(session, "<m2@x>", "conv-1", regarding=later)
    mailbox.add(mail("r-1", "<r1@x>", "giulia@customer.example", REP.email, when=utcnow()))
    [job_id] = look(session, adapter, mailbox)
    assert save_jobs.regarding_of(session.get(SaveJob, job_id)) == later


def test_looks_that_overlap_never_make_a_job_twice_and_the_watch_moves_on(
    session, adapter, mailbox
):
    saved_job(session, "<m1@x>", "conv-1")
    before = utcnow()
    mailbox.add(mail("r-1", "<r1@x>", "giulia@customer.example", REP.email, when=before))

    first = look(session, adapter, mailbox)
    assert len(first) == 1
    watch = session.scalars(select(ReplyWatch)).one()
    checked_through = watch.checked_through
    assert abs((save_jobs.aware(checked_through) - before).total_seconds()) < 5

    # A reply arrives; the next look reaches back before the last one ended (OVERLAP), so it
    # sees the first reply again too.
    mailbox.add(mail("r-2", "<r2@x>", "giulia@customer.example", REP.email, when=utcnow()))
    second = look(session, adapter, mailbox)
    assert [session.get(SaveJob, i).item_key for i in second] == ["<r2@x>"]
    assert mailbox.conversation_calls[1][1] == save_jobs.aware(checked_through) - OVERLAP
    assert look(session, adapter, mailbox) == []
    assert count_jobs(session) == 3
    moved_to = session.scalars(select(ReplyWatch)).one().checked_through
    assert save_jobs.aware(moved_to) > save_jobs.aware(checked_through)


def test_the_first_look_starts_at_the_first_save(session, adapter, mailbox):
    job = saved_job(session, "<m1@x>", "conv-1")
    saved_at = utcnow() - dt.timedelta(days=2)
    set_job(session, job, saved_at=saved_at)
    look(session, adapter, mailbox)
    [(_ids, since)] = mailbox.conversation_calls
    assert abs((since - (saved_at - OVERLAP)).total_seconds()) < 1


def test_nothing_is_asked_when_the_crm_does_not_save_replies(session, sandbox, mailbox):
    saved_job(session, "<m1@x>", "conv-1")
    mailbox.add(mail("r-1", "<r1@x>", "giulia@customer.example", REP.email, when=utcnow()))
    crm = NoReplies(sandbox[0], environment_id="contoso")
    try:
        assert look(session, crm, mailbox) == []
    finally:
        crm.close()
    assert mailbox.requests == 0 and count_jobs(session) == 1
    assert session.scalars(select(ReplyWatch)).first() is None


def test_nothing_is_saved_when_the_rep_tracks_no_email(session, adapter, mailbox):
    saved_job(session, "<m1@x>", "conv-1")
    mailbox.add(mail("r-1", "<r1@x>", "giulia@customer.example", REP.email, when=utcnow()))
    session.add(
        MailboxCheck(
            tenant_id=TENANT,
            user_oid=REP.user_oid,
            environment_id="contoso",
            server_side_sync=True,
            track_replies=False,
            problem="",
            checked_at=utcnow(),
        )
    )
    session.commit()
    assert look(session, adapter, mailbox) == []
    assert mailbox.requests == 0 and count_jobs(session) == 1
    assert adapter.round_trips == 0  # the stored answer is fresh: the CRM is not asked


def test_a_stale_mailbox_check_is_asked_again(session, adapter, mailbox):
    saved_job(session, "<m1@x>", "conv-1")
    mailbox.add(mail("r-1", "<r1@x>", "giulia@customer.example", REP.email, when=utcnow()))
    session.add(
        MailboxCheck(
            tenant_id=TENANT,
            user_oid=REP.user_oid,
            environment_id="contoso",
            server_side_sync=None,
            track_replies=False,
            problem="",
            checked_at=utcnow() - dt.timedelta(hours=1),
        )
    )
    session.commit()
    assert len(look(session, adapter, mailbox)) == 1  # the sandbox says replies are tracked
    check = session.scalars(select(MailboxCheck)).one()
    session.refresh(check)
    assert check.track_replies is True
    assert abs((save_jobs.aware(check.checked_at) - utcnow()).total_seconds()) < 5


def test_only_saved_emails_with_a_conversation_inside_the_window_are_watched(
    session, adapter, mailbox
):
    old = saved_job(session, "<old@x>", "conv-old")
    set_job(session, old, saved_at=utcnow() - dt.timedelta(days=40))
    make_job(session, key="<queued@x>", message_id="<queued@x>", conversation_id="conv-q")
    assert replies.watched_reps(session, 30, CONFIG) == []
    assert look(session, adapter, mailbox) == []
    assert mailbox.requests == 0

    saved_job(session, "<new@x>", "conv-new")
    assert replies.watched_reps(session, 30, CONFIG) == [WATCHED]
    look(session, adapter, mailbox)
    [(conversations, _since)] = mailbox.conversation_calls
    assert conversations == ("conv-new",)


def admin_of(tenant_id: str):
    return dataclasses.replace(REP, tenant_id=tenant_id, user_oid="admin-1", roles=frozenset())


def test_an_organisation_whose_admin_turned_reply_saving_off_is_not_watched(session):
    saved_job(session, "<m1@x>", "conv-1")
    saved_job(session, "<m2@x>", "conv-2", identity=OTHER_TENANT_REP)
    other = WatchedRep("tenant-2", "rep-9", "contoso")
    assert sorted(replies.watched_reps(session, 30, CONFIG), key=str) == sorted(
        [WATCHED, other], key=str
    )

    tenant_settings.update(session, admin_of(TENANT), {"auto_save_replies": False}, CONFIG)
    session.commit()
    assert replies.watched_reps(session, 30, CONFIG) == [other]  # the other tenant still is


def test_the_deployments_default_holds_until_an_admin_turns_reply_saving_on(session):
    saved_job(session, "<m1@x>", "conv-1")
    saved_job(session, "<m2@x>", "conv-2", identity=OTHER_TENANT_REP)
    off_by_default = {**CONFIG, "AUTO_SAVE_REPLIES": False}
    assert replies.watched_reps(session, 30, off_by_default) == []

    tenant_settings.update(
        session, admin_of("tenant-2"), {"auto_save_replies": True}, off_by_default
    )
    session.commit()
    assert replies.watched_reps(session, 30, off_by_default) == [
        WatchedRep("tenant-2", "rep-9", "contoso")
    ]
