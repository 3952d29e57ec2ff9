"""The worker's save (rules 13-18): `perform_save` on the real sandbox CRM and a stand-in mailbox.

No Celery here: the test plays the worker and calls `perform_save` itself, as the task does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy import update

from addin import config
from addin.mailbox import MailAttachment, MailEvent
from addin.services import save_jobs, saving, tenant_settings
from addin.services.attachments import AttachmentPolicy, tenant_policy
from addin.services.save_jobs import Skipped
from addin.services.saving import Outcome, SaveSettings
from addin.store.models import ContactChoice, SaveJob
from crm_adapters.errors import (
    Conflict,
    CrmError,
    NotSignedIn,
    RateLimited,
    Unavailable,
)
from crm_adapters.models import EmailActivity, Party, RecordRef, SavedActivity
from crm_adapters.sandbox import SandboxAdapter

from .conftest import (
    ENVIRONMENT,
    OTHER_REP,
    REP,
    TENANT,
    Adapters,
    crm_rows,
    file,
    mail,
    make_job,
    seconds_from_now,
    set_job,
    utcnow,
)

POLICY = AttachmentPolicy.of(
    1000, ["pdf", "png", "txt"], ["application/pdf", "image/*", "text/plain"]
)
SETTINGS = SaveSettings(
    lease_seconds=300, max_attempts=3, draft_check_seconds=60, draft_wait_days=14
)


class Killed(BaseException):
    """The worker process dies (SIGKILL, OOM): nothing after this line of the worker runs."""


@pytest.fixture
def report(sandbox):
    return sandbox[1]


@pytest.fixture
def path(sandbox):
    return sandbox[0]


@pytest.fixture
def crm(path):
    return Adapters(path)


@pytest.fixture
def save(session, crm, mailbox):
    """Run the worker's save of a job, as the task does; the job is refreshed afterwards."""

    def run(job: SaveJob, *, adapters: Any = None, **options: Any) -> Outcome:
        outcome = saving.perform_save(
            session,
            job.id,
            open_adapter=adapters or crm,
            open_mailbox=lambda _job: mailbox,
            policy_for=lambda _job: options.get("policy", POLICY),
            settings=options.get("settings", SETTINGS),
        )
        session.refresh(job)
        return outcome

    return run


def activities(path, message_id: str) -> list[tuple[Any, ...]]:
    return crm_rows(
        path,
        "SELECT id, kind, direction, regarding_type, regarding_id, subject, at FROM activities"
        " WHERE message_id = ?",
        message_id,
    )


def parties(path, activity_id: str) -> dict[tuple[str, str], str | None]:
    rows = crm_rows(
        path,
        "SELECT role, address, contact_id FROM activity_parties WHERE activity_id = ?",
        activity_id,
    )
    return {(role, address): contact for role, address, contact in rows}


def due(session, job: SaveJob) -> None:
    """Time passes until the job is due again."""
    set_job(session, job, next_attempt_at=utcnow() - dt.timedelta(seconds=1))


def to_db(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


# --- emails -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sender", "direction"), [("rep", "outgoing"), ("contact", "incoming")])
def test_an_email_is_saved_with_its_direction_and_regarding_record(
    session, save, mailbox, path, report, crm, sender, direction
):
    # The rep's own address in another case is still the rep.
    rep_as_sent = REP.email.upper()
    from_address, to_address = (
        (rep_as_sent, report.single_address)
        if sender == "rep"
        else (report.single_address, REP.email)
    )
    sent_at = utcnow().replace(microsecond=0) - dt.timedelta(hours=2)
    mailbox.add(mail("m-1", "<m1@x>", from_address, to_address, when=sent_at))
    regarding = RecordRef("account", report.account_id, report.account_name)
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1", regarding=regarding)

    assert save(job) == Outcome("saved")

    assert (job.status, job.activity_created, job.lease_token) == ("saved", True, None)
    assert job.activity_url == f"http://crm.test/sandbox/contoso/email/{job.activity_id}"
    assert activities(path, "<m1@x>") == [
        (
            job.activity_id,
            "email",
            direction,
            "account",
            report.account_id,
            "Delivery dates",
            to_db(sent_at),
        )
    ]
    assert (job.crm_requests, job.mailbox_requests) == (1, 1)
    assert save_jobs.skipped_of(job) == []
    assert mailbox.closed and len(crm.opened) == 1
    # Saved once, done: the job is not claimed again.
    assert save(job) == Outcome("not_due") and mailbox.requests == 1


def test_an_email_without_a_record_is_linked_to_its_people(session, save, mailbox, path, report):
    mailbox.add(
        mail(
            "m-1",
            "<m1@x>",
            report.single_address,
            REP.email,
            cc=[report.second_field_address, "nobody@unknown.example"],
        )
    )
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")

    assert save(job) == Outcome("saved")

    [(activity_id, _kind, _dir, regarding_type, regarding_id, *_rest)] = activities(path, "<m1@x>")
    assert (regarding_type, regarding_id) == (None, None)
    linked = parties(path, activity_id)
    assert linked[("from", report.single_address)] == report.single_contact_id
    assert linked[("cc", report.second_field_address)] == report.second_field_contact_id
    assert linked[("cc", "nobody@unknown.example")] is None


def test_attachments_outside_the_policy_are_left_out_and_the_rest_saved(
    session, save, mailbox, path
):
    mailbox.add(
        mail(
            "m-1",
            "<m1@x>",
            "giulia@customer.example",
            REP.email,
            attachments=[
                file("scan.pdf", "application/pdf"),
                file("big.pdf", "application/pdf", size=5000),
                file("setup.exe", "application/octet-stream"),
                file("invoice.pdf.exe", "application/pdf"),
                file("photo.png", "application/x-msdownload"),
                MailAttachment("Fwd: order", "message/rfc822", 300, kind="item"),
                MailAttachment("Specs (OneDrive)", "", 0, kind="reference"),
                file("notes.txt", "text/plain; charset=utf-8"),
                file("logo.png", "image/png", is_inline=True),
            ],
        )
    )
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")

    assert save(job) == Outcome("saved")

    assert save_jobs.skipped_of(job) == [
        Skipped("big.pdf", "size"),
        Skipped("setup.exe", "type"),
        Skipped("invoice.pdf.exe", "type"),
        Skipped("photo.png", "type"),
        Skipped("Fwd: order", "item"),
        Skipped("Specs (OneDrive)", "link"),
    ]
    saved = crm_rows(
        path,
        "SELECT name, content_type, content FROM activity_attachments WHERE activity_id = ?"
        " ORDER BY name",
        job.activity_id,
    )
    assert saved == [
        ("logo.png", "image/png", b"logo.png"),
        ("notes.txt", "text/plain; charset=utf-8", b"notes.txt"),
        ("scan.pdf", "application/pdf", b"scan.pdf"),
    ]
    # The organisation's policy is what the mailbox was asked with, before any download.
    assert mailbox.policies == [POLICY]
    assert sorted(mailbox.downloaded) == ["logo.png", "notes.txt", "scan.pdf"]


def test_each_job_is_saved_under_its_own_organisations_attachment_policy(
    session, crm, mailbox, path
):
    """The worker saves for every tenant: the policy is the job's tenant's, read at the save."""
    deployment = config.defaults("instance")
    admin = dataclasses.replace(REP, user_oid="admin-1", roles=frozenset({"Sidepane.Admin"}))
    tenant_settings.update(
        session, admin, {"attachment_max_bytes": 3000, "attachment_extensions": ["txt"]}, deployment
    )
    session.commit()
    attachments = [file("offer.pdf", "application/pdf", size=5000), file("notes.txt", "text/plain")]
    mailbox.add(
        mail("m-1", "<m1@x>", "giulia@customer.example", REP.email, attachments=attachments)
    )
    ours = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    theirs = make_job(
        session,
        key="<m1@x>",
        message_id="<m1@x>",
        item_id="m-1",
        identity=dataclasses.replace(REP, tenant_id="tenant-2"),
        environment=dataclasses.replace(ENVIRONMENT, id="fabrikam"),
    )

    for job in (ours, theirs):
        outcome = saving.perform_save(
            session,
            job.id,
            open_adapter=crm,
            open_mailbox=lambda _job: mailbox,
            policy_for=lambda job: tenant_policy(session, job.tenant_id, deployment),
            settings=SETTINGS,
        )
        assert outcome == Outcome("saved")
        session.refresh(job)

    assert save_jobs.skipped_of(ours) == [Skipped("offer.pdf", "size")]
    assert save_jobs.skipped_of(theirs) == []  # the deployment's defaults: 10 MB, pdf allowed
    assert mailbox.policies[0].max_bytes == 3000
    assert mailbox.policies[1] == AttachmentPolicy.from_settings(
        tenant_settings.defaults(deployment)
    )


def test_files_the_crm_itself_refuses_are_listed_too(session, save, mailbox, path):
    class Picky(SandboxAdapter):
        def save_email(self, activity: EmailActivity) -> SavedActivity:
            kept = tuple(a for a in activity.attachments if a.name != "scan.pdf")
            saved = super().save_email(dataclasses.replace(activity, attachments=kept))
            return dataclasses.replace(saved, skipped_attachments=("scan.pdf",))

    mailbox.add(
        mail(
            "m-1",
            "<m1@x>",
            "a@customer.example",
            REP.email,
            attachments=[
                file("scan.pdf", "application/pdf"),
                file("big.pdf", "application/pdf", 5000),
            ],
        )
    )
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    assert save(job, adapters=Adapters(path, Picky)) == Outcome("saved")
    assert save_jobs.skipped_of(job) == [Skipped("big.pdf", "size"), Skipped("scan.pdf", "type")]


# --- drafts -------------------------------------------------------------------------------------


def test_a_draft_waits_until_it_is_sent_then_the_sent_email_is_saved(
    session, save, mailbox, path, report
):
    mailbox.add(mail("draft-1", "<d1@x>", REP.email, report.single_address, draft=True))
    job = make_job(session, key="item:draft-1", item_id="draft-1")

    assert save(job) == Outcome("waiting")
    assert (job.status, job.message_id, job.lease_token) == ("waiting", "<d1@x>", None)
    assert 55 < seconds_from_now(job.next_attempt_at) <= 60  # DRAFT_CHECK_SECONDS
    assert activities(path, "<d1@x>") == []
    assert save(job) == Outcome("not_due")  # looked for again only at the next check

    sent_at = utcnow().replace(microsecond=0) - dt.timedelta(minutes=1)
    mailbox.send("draft-1", "sent-1", subject="Sent!", when=sent_at)  # the draft is gone now
    due(session, job)

    assert save(job) == Outcome("saved")
    [row] = activities(path, "<d1@x>")
    assert (row[1], row[2], row[5], row[6]) == ("email", "outgoing", "Sent!", to_db(sent_at))
    assert job.status == "saved" and job.activity_id == row[0]


def test_a_draft_never_sent_gives_up_after_the_wait(session, save, mailbox, path, report):
    mailbox.add(mail("draft-1", "<d1@x>", REP.email, report.single_address, draft=True))
    job = make_job(session, key="item:draft-1", item_id="draft-1")
    set_job(session, job, created_at=utcnow() - dt.timedelta(days=13))
    assert save(job) == Outcome("waiting")

    set_job(session, job, created_at=utcnow() - dt.timedelta(days=14, minutes=1))
    due(session, job)
    assert save(job) == Outcome("failed")
    assert (job.status, job.error_code) == ("failed", "never_sent")
    assert "not sent" in job.error_message
    assert activities(path, "<d1@x>") == []


def test_a_draft_discarded_unsent_fails_not_found(session, save, mailbox, path, report):
    mailbox.add(mail("draft-1", "<d1@x>", REP.email, report.single_address, draft=True))
    job = make_job(session, key="item:draft-1", item_id="draft-1")
    assert save(job) == Outcome("waiting")
    del mailbox.messages["draft-1"]  # deleted, not sent: Sent Items has nothing either
    due(session, job)
    assert save(job) == Outcome("failed")
    assert (job.status, job.error_code) == ("failed", "not_found")
    assert activities(path, "<d1@x>") == []


def test_looking_for_a_draft_often_does_not_use_up_its_attempts(
    session, save, mailbox, path, report
):
    """A draft checked more often than SAVE_MAX_ATTEMPTS still gets its retries once sent."""
    mailbox.add(mail("draft-1", "<d1@x>", REP.email, report.single_address, draft=True))
    job = make_job(session, key="item:draft-1", item_id="draft-1")
    for _check in range(SETTINGS.max_attempts + 2):
        assert save(job) == Outcome("waiting")
        due(session, job)

    mailbox.send("draft-1", "sent-1")
    mailbox.fault = Unavailable("Graph answered 503.")
    outcome = save(job)
    assert outcome.status == "queued" and job.error_code == "unavailable"

    due(session, job)
    assert save(job) == Outcome("saved")
    assert len(activities(path, "<d1@x>")) == 1


def test_a_draft_whose_sent_email_was_saved_already_merges_into_that_job(
    session, save, mailbox, path, report
):
    """The rep saved the sent email first, then the draft's job learns the same message id."""
    mailbox.add(mail("sent-1", "<d1@x>", REP.email, report.single_address))
    mailbox.add(mail("draft-1", "<d1@x>", REP.email, report.single_address, draft=True))
    sent = make_job(session, key="<d1@x>", message_id="<d1@x>", item_id="sent-1")
    draft = make_job(session, key="item:draft-1", item_id="draft-1")
    assert save(sent) == Outcome("saved")

    assert save(draft) == Outcome("merged")
    assert (draft.status, draft.merged_into) == ("merged", sent.id)
    assert save_jobs.find_job(session, "contoso", item_key="item:draft-1").id == sent.id
    assert len(activities(path, "<d1@x>")) == 1


# --- meetings -----------------------------------------------------------------------------------


def test_a_meeting_is_saved_by_its_ical_uid_and_a_second_job_for_it_merges(
    session, save, mailbox, path, report
):
    start = utcnow().replace(microsecond=0) + dt.timedelta(days=2)
    event = MailEvent(
        item_id="ev-1",
        ical_uid="040000008200E00074C5B7101A82E008@x",
        subject="Quarterly review",
        organizer=Party(REP.email, "Alex"),
        start=start,
        end=start + dt.timedelta(hours=1),
        required=(Party(report.single_address),),
        optional=(Party(report.second_field_address),),
        location="Teams",
    )
    mailbox.events["ev-1"] = event
    mailbox.events["ev-2"] = dataclasses.replace(event, item_id="ev-2")  # the other rep's copy
    regarding = RecordRef("case", report.open_case_id, "Crane")
    job = make_job(session, key="item:ev-1", kind="meeting", item_id="ev-1", regarding=regarding)

    assert save(job) == Outcome("saved")
    assert job.message_id == event.ical_uid
    [row] = activities(path, event.ical_uid)
    expected = ("meeting", None, "case", report.open_case_id, "Quarterly review", to_db(start))
    assert row == (job.activity_id, *expected)
    linked = parties(path, job.activity_id)
    assert linked[("attendee", report.single_address)] == report.single_contact_id
    assert linked[("attendee", report.second_field_address)] == report.second_field_contact_id

    other = make_job(session, key="item:ev-2", kind="meeting", item_id="ev-2", identity=OTHER_REP)
    assert save(other) == Outcome("merged")
    assert (other.status, other.merged_into, other.lease_token) == ("merged", job.id, None)
    assert save_jobs.find_job(session, "contoso", item_key="item:ev-2").id == job.id
    assert len(activities(path, event.ical_uid)) == 1


# --- faults -------------------------------------------------------------------------------------


class Throttled(SandboxAdapter):
    """The CRM answers 429 to the save."""

    def save_email(self, activity: EmailActivity) -> SavedActivity:
        self._count_round_trip()
        raise RateLimited("The CRM asked to slow down.", retry_after=12)


@pytest.mark.parametrize("where", ["mailbox", "crm"])
def test_a_rate_limit_requeues_after_the_servers_retry_after(
    session, save, mailbox, path, report, where
):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    if where == "mailbox":
        mailbox.fault = RateLimited("Graph is busy.", retry_after=30)
        outcome = save(job)
        wait = 30.0
    else:
        outcome = save(job, adapters=Adapters(path, Throttled))
        wait = 12.0

    assert outcome == Outcome("queued", requeue_in=wait)
    assert (job.status, job.error_code, job.lease_token, job.attempts) == (
        "queued",
        "rate_limited",
        None,
        1,
    )
    assert wait - 5 < seconds_from_now(job.next_attempt_at) <= wait
    assert (job.crm_requests, job.mailbox_requests) == ((0, 1) if where == "mailbox" else (1, 1))
    assert activities(path, "<m1@x>") == []
    assert save(job) == Outcome("not_due")  # not before its time


def test_a_tiny_retry_after_still_waits_a_second(session, save, mailbox, report):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    mailbox.fault = RateLimited("busy", retry_after=0)
    assert save(job) == Outcome("queued", requeue_in=1.0)


@pytest.mark.parametrize(
    "fault", [Unavailable("Graph answered 503."), Conflict("stale etag"), CrmError("odd")]
)
def test_an_outage_requeues_with_growing_backoff(session, save, mailbox, path, report, fault):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")

    mailbox.fault = fault
    first = save(job)
    assert first.status == "queued" and first.requeue_in is not None
    assert 1.6 <= first.requeue_in <= 2.4  # 2 s, with jitter
    assert (job.status, job.error_code, job.error_message) == ("queued", "unavailable", str(fault))
    assert abs(seconds_from_now(job.next_attempt_at) - first.requeue_in) < 2

    due(session, job)
    mailbox.fault = fault
    second = save(job)
    assert second.requeue_in is not None and 3.2 <= second.requeue_in <= 4.8  # 4 s

    due(session, job)
    assert save(job) == Outcome("saved")
    assert job.error_code == "" and job.attempts == 3


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (NotSignedIn(), "Sign in to the CRM again."),
        (NotSignedIn(""), "Sign in to the CRM again in the pane, then press Retry."),
    ],
)
def test_a_rep_who_must_sign_in_again_fails_at_once(session, save, mailbox, report, fault, message):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    mailbox.fault = fault
    assert save(job) == Outcome("failed")
    assert (job.status, job.error_code, job.error_message) == ("failed", "signed_out", message)
    assert job.lease_token is None


def test_an_item_gone_from_the_mailbox_fails_not_found(session, save, mailbox):
    job = make_job(session, key="<gone@x>", message_id="<gone@x>", item_id="gone")
    assert save(job) == Outcome("failed")
    assert (job.status, job.error_code) == ("failed", "not_found")
    assert job.error_message == "The item is not in the mailbox."


def test_what_the_crm_refuses_fails_with_its_reason(session, save, mailbox, path, report):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(
        session,
        key="<m1@x>",
        message_id="<m1@x>",
        item_id="m-1",
        regarding=RecordRef("invoice", "inv-1", "An invoice"),
    )
    assert save(job) == Outcome("failed")
    assert (job.status, job.error_code) == ("failed", "rejected")
    assert "cannot save against a 'invoice' record" in job.error_message
    assert job.crm_requests == 1 and activities(path, "<m1@x>") == []


def test_a_record_deleted_from_the_crm_is_not_called_a_missing_mail_item(
    session, save, mailbox, path, report
):
    """The regarding record is gone: the CRM's NotFound is a refusal, not "not in your mailbox"."""
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(
        session,
        key="<m1@x>",
        message_id="<m1@x>",
        item_id="m-1",
        regarding=RecordRef("account", "deleted-account", "Gone Ltd"),
    )
    assert save(job) == Outcome("failed")
    assert job.error_code == "rejected"
    assert "deleted-account" in job.error_message


def test_a_bug_is_retried_then_gives_up(session, save, mailbox, report, caplog):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    settings = dataclasses.replace(SETTINGS, max_attempts=2)

    mailbox.fault = ValueError("unexpected shape")
    with caplog.at_level(logging.ERROR, logger="addin.services.saving"):
        first = save(job, settings=settings)
    assert first.status == "queued" and first.requeue_in is not None
    assert (job.status, job.error_code, job.error_message) == (
        "queued",
        "internal",
        "Sidepane hit an unexpected problem; it is logged for your administrator.",
    )
    assert "unexpected shape" in caplog.text  # the bug's own text goes to the log only
    assert f"saving job {job.id} failed unexpectedly" in caplog.text

    due(session, job)
    mailbox.fault = ValueError("unexpected shape")
    assert save(job, settings=settings) == Outcome("failed")
    assert (job.status, job.error_code, job.error_message, job.attempts) == (
        "failed",
        "gave_up",
        "Sidepane hit an unexpected problem; it is logged for your administrator.",
        2,
    )


def test_too_many_outages_give_up_naming_the_last_problem(session, save, mailbox, report):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    for attempt in range(1, SETTINGS.max_attempts + 1):
        mailbox.fault = Unavailable(f"503 number {attempt}")
        outcome = save(job)
        due(session, job)
    assert outcome == Outcome("failed")
    assert (job.status, job.error_code, job.error_message) == ("failed", "gave_up", "503 number 3")
    assert save(job) == Outcome("not_due")  # failed stays failed until the rep presses Retry


# --- leases -------------------------------------------------------------------------------------


def test_a_job_someone_else_holds_is_left_alone(session, sessions, save, mailbox, report):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    with sessions() as other_worker:
        held = save_jobs.claim(other_worker, job.id, 300)
    assert held is not None
    assert save(job) == Outcome("not_due")
    assert mailbox.requests == 0
    assert (job.status, job.lease_token, job.attempts) == ("saving", held[1], 1)


def test_a_worker_that_lost_its_lease_records_nothing(session, sessions, save, mailbox, report):
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    taken: list[str] = []

    def taken_over_while_working() -> None:
        mailbox.during = None
        with sessions() as successor:  # the sweep thought this worker dead and sent the job again
            successor.execute(
                update(SaveJob)
                .where(SaveJob.id == job.id)
                .values(lease_until=utcnow() - dt.timedelta(seconds=1))
            )
            successor.commit()
            claimed = save_jobs.claim(successor, job.id, 300)
            assert claimed is not None
            taken.append(claimed[1])
        mailbox.fault = Unavailable("503")

    mailbox.during = taken_over_while_working
    assert save(job) == Outcome("lost_lease")
    assert (job.status, job.lease_token, job.error_code) == ("saving", taken[0], "")


def test_a_save_redone_after_a_crash_makes_no_second_activity(
    session, sessions, save, mailbox, path, report
):
    """The worker dies between the CRM write and `finish`; its lease runs out; another redoes it."""

    class DiesAfterWriting(SandboxAdapter):
        def save_email(self, activity: EmailActivity) -> SavedActivity:
            super().save_email(activity)
            raise Killed

    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    with sessions() as dying_worker, pytest.raises(Killed):
        saving.perform_save(
            dying_worker,
            job.id,
            open_adapter=Adapters(path, DiesAfterWriting),
            open_mailbox=lambda _job: mailbox,
            policy_for=lambda _job: POLICY,
            settings=SETTINGS,
        )
    [(written_id, *_rest)] = activities(path, "<m1@x>")
    session.refresh(job)
    assert job.status == "saving"  # nobody recorded anything

    assert save(job) == Outcome("not_due")  # the dead worker's lease still holds
    set_job(session, job, lease_until=utcnow() - dt.timedelta(seconds=1))
    assert save(job) == Outcome("saved")

    assert [row[0] for row in activities(path, "<m1@x>")] == [written_id]
    assert (job.activity_id, job.activity_created, job.attempts) == (written_id, False, 2)


def test_a_save_that_keeps_killing_its_worker_gives_up(session, save, mailbox, path, report):
    """Workers that die never reach the retry count; the next claim past it gives up."""
    mailbox.add(mail("m-1", "<m1@x>", report.single_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    expired = utcnow() - dt.timedelta(seconds=1)
    set_job(session, job, status="saving", attempts=SETTINGS.max_attempts, lease_until=expired)

    assert save(job) == Outcome("failed")
    assert (job.status, job.error_code, job.lease_token) == ("failed", "gave_up", None)
    assert job.error_message
    assert mailbox.requests == 0 and activities(path, "<m1@x>") == []


# --- the rep's contact choices (rule 7) ---------------------------------------------------------


def test_the_reps_contact_choices_link_the_parties(session, save, mailbox, path, report):
    first, second = report.shared_contact_ids[:2]
    for identity, contact_id in ((REP, second), (OTHER_REP, first)):
        session.add(
            ContactChoice(
                tenant_id=TENANT,
                user_oid=identity.user_oid,
                environment_id="contoso",
                address=report.shared_address.lower(),
                contact_id=contact_id,
            )
        )
    session.commit()
    shared_as_sent = report.shared_address[0].upper() + report.shared_address[1:]
    mailbox.add(mail("m-1", "<m1@x>", shared_as_sent, REP.email, cc=[report.single_address]))
    start = utcnow() + dt.timedelta(days=1)
    mailbox.events["ev-1"] = MailEvent(
        "ev-1",
        "uid-1",
        "Site visit",
        Party(OTHER_REP.email),
        start,
        start,
        (Party(shared_as_sent),),
    )

    email_job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    assert save(email_job) == Outcome("saved")
    linked = parties(path, email_job.activity_id)
    assert linked[("from", report.shared_address.lower())] == second  # the rep's choice
    assert linked[("cc", report.single_address)] == report.single_contact_id

    meeting_job = make_job(
        session, key="item:ev-1", kind="meeting", item_id="ev-1", identity=OTHER_REP
    )
    assert save(meeting_job) == Outcome("saved")
    linked = parties(path, meeting_job.activity_id)
    assert linked[("attendee", report.shared_address.lower())] == first  # the other rep's own


def test_without_a_choice_an_ambiguous_address_stays_unlinked(session, save, mailbox, path, report):
    mailbox.add(mail("m-1", "<m1@x>", report.shared_address, REP.email))
    job = make_job(session, key="<m1@x>", message_id="<m1@x>", item_id="m-1")
    assert save(job) == Outcome("saved")
    assert parties(path, job.activity_id)[("from", report.shared_address.lower())] is None
