"""The tasks: save one job, run one provisioning run's checks, sweep for jobs and runs to send
again, save replies in saved conversations.

A worker serves every organisation: what its admin decided (the attachment policy, automatic
saving of replies) is read from the tenant's settings of each job, never from the configuration,
whose keys are only the defaults of a tenant that saved none.

Tasks take job ids and run inside the app's context (`workers.celery_init_app`), calling the
same services as the views. The job row, not the broker message, is the truth: a message that
is lost (a worker killed before it acknowledged, the filesystem transport's unacked messages)
or sent twice costs nothing, because the sweep re-sends what is due and `claim` lets only one
worker at a time work on a job.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from flask import current_app

from addin import crm, store
from addin.mailbox import Mailbox, open_mailbox
from addin.services import provisioning, replies, save_jobs, saving
from addin.services.attachments import tenant_policy
from addin.store.models import ProvisioningRun, SaveJob
from crm_adapters import CrmAdapter
from crm_adapters.errors import CrmError, Rejected

log = logging.getLogger(__name__)

SAVE = "sidepane.save"
SWEEP = "sidepane.sweep"
SAVE_REPLIES = "sidepane.save_replies"
PROVISION = "sidepane.provision"


def open_adapter(job: SaveJob) -> CrmAdapter:
    """The adapter on the job's environment, acting for the job's rep."""
    directory = crm.directories().get(job.crm)
    if directory is None:
        raise Rejected(f"This organisation no longer offers {job.crm}; the item was not saved.")
    return directory.adapter(save_jobs.environment_of(job), saving.identity_of(job))


def open_rep_mailbox(job: SaveJob) -> Mailbox:
    return open_mailbox(current_app._get_current_object(), saving.identity_of(job))  # type: ignore[attr-defined]


@shared_task(name=SAVE, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def save(job_id: str) -> str:
    """Save one job's item to the CRM; send it again later when the outcome says so."""
    session = store.session()
    outcome = saving.perform_save(
        session,
        job_id,
        open_adapter=open_adapter,
        open_mailbox=open_rep_mailbox,
        policy_for=lambda job: tenant_policy(session, job.tenant_id, current_app.config),
        settings=saving.SaveSettings.from_config(current_app.config),
    )
    if outcome.requeue_in is not None:
        save.apply_async((job_id,), countdown=outcome.requeue_in)
    return outcome.status


def open_admin_adapter(run: ProvisioningRun) -> CrmAdapter:
    """The adapter on the run's environment, acting for the admin who turned the features on."""
    directory = crm.directories().get(run.crm)
    if directory is None:
        raise Rejected(f"This organisation no longer offers {run.crm}.")
    return directory.adapter(provisioning.environment_of(run), provisioning.identity_of(run))


@shared_task(name=PROVISION, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def provision(run_id: str) -> str:
    """Run one provisioning run's checks (rule 20); try again later when the CRM said wait."""
    status, retry_in = provisioning.run_checks(store.session(), run_id, open_admin_adapter)
    if retry_in is not None:
        provision.apply_async((run_id,), countdown=retry_in)
    return status


@shared_task(name=SWEEP, ignore_result=True)  # type: ignore[untyped-decorator]
def sweep() -> int:
    """Send again every job and provisioning run that is due and was not picked up, or whose
    worker died."""
    redeliver = float(current_app.config["SAVE_REDELIVER_SECONDS"])
    session = store.session()
    ids = save_jobs.due_jobs(session, redeliver_seconds=redeliver)
    for job_id in ids:
        save.delay(job_id)
    runs = provisioning.due_runs(session, redeliver)
    for run_id in runs:
        provision.delay(run_id)
    if ids:
        log.info("sweep sent %d save job(s) again", len(ids))
    if runs:
        log.info("sweep sent %d provisioning run(s) again", len(runs))
    return len(ids) + len(runs)


@shared_task(name=SAVE_REPLIES, ignore_result=True)  # type: ignore[untyped-decorator]
def save_replies() -> int:
    """Create and send save jobs for new messages in each rep's saved conversations, in the
    organisations whose admin keeps automatic saving of replies on."""
    config = current_app.config
    session = store.session()
    sent = 0
    for rep in replies.watched_reps(session, float(config["REPLY_WINDOW_DAYS"]), config):
        source = replies.latest_job(session, rep)
        if source is None:
            continue
        adapter: CrmAdapter | None = None
        mailbox: Mailbox | None = None
        try:
            adapter = open_adapter(source)
            mailbox = open_rep_mailbox(source)
            created = replies.save_replies_for(
                session,
                rep,
                adapter=adapter,
                mailbox=mailbox,
                window_days=float(config["REPLY_WINDOW_DAYS"]),
                mailbox_check_ttl=float(config["MAILBOX_CHECK_TTL"]),
            )
        except CrmError as error:  # this rep's turn fails; the next look tries again
            session.rollback()
            log.warning("looking for replies of a rep failed: %s", type(error).__name__)
            continue
        finally:
            for closable in (adapter, mailbox):
                if closable is not None:
                    closable.close()
        for job_id in created:
            save.delay(job_id)
        sent += len(created)
    return sent


@worker_ready.connect  # type: ignore[untyped-decorator]
def _sweep_on_start(sender: object = None, **_kwargs: object) -> None:
    """A worker that starts (perhaps after one was killed) first sends what was left behind."""
    from celery import current_app as celery_app

    celery_app.send_task(SWEEP)
