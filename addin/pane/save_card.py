"""The save card (rules 13-18): what the rep can connect the item to, then the job's progress.

``POST /pane/save`` creates the job and answers at once with the card in "queued"; the card
polls ``POST /pane/saves/<id>`` (pane.js, while ``data-poll`` is on it) until the job is saved or
failed. ``/pane/save/search`` finds records to connect the item to; ``/pane/saves/<id>/retry``
queues a failed job again. An item saved before shows as saved when it is opened: the pane
finds its job in the local store, with no CRM round trip.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm_adapters import CrmAdapter
from crm_adapters.models import ContactContext, RecordRef

from .. import crm, mailbox, store
from ..auth import current_identity
from ..errors import ApiError
from ..identity import Identity
from ..services import save_jobs, saving
from ..services.attachments import describe
from ..services.tenant_settings import Settings
from ..store.models import SaveJob
from . import pane
from .item import OpenItem
from .views import _field, _item, _settings

SEARCH_MAX = 8
#: Record types an item can be connected to, when the CRM has them.
REGARDING_TYPES = ("account", "case", "opportunity", "contact")
#: Refusals that come from a capability the CRM lacks (rule 16), by refusal code.
REFUSED_FOR_LACK_OF = {
    "drafts_not_saved": "save_drafts",
    "compose_meetings_not_saved": "save_compose_meetings",
}


@dataclass(frozen=True, slots=True)
class SaveCard:
    """What the card shows: a refusal, the job, or the choice of record (suggestions first)."""

    refusal: str = ""
    refusal_code: str = ""
    job: SaveJob | None = None
    suggestions: tuple[RecordRef, ...] = ()
    search_types: tuple[str, ...] = ()
    crm_label: str = ""

    @property
    def capability(self) -> str:
        """The capability the CRM lacks, when that is why it refuses (rule 16)."""
        return REFUSED_FOR_LACK_OF.get(self.refusal_code, "")


def search_types(adapter: CrmAdapter, settings: Settings) -> tuple[str, ...]:
    """The admin's searchable record types that the CRM has and an item can be connected to."""
    offered = {str(t) for t in adapter.capabilities.record_types}
    wanted = settings.search_record_types
    return tuple(t for t in wanted if t in offered and t in REGARDING_TYPES)


def suggestions(context: ContactContext) -> tuple[RecordRef, ...]:
    """The accounts of the item's contacts and their open cases, offered first (rule 13)."""
    found: dict[tuple[str, str], RecordRef] = {}
    for account in context.accounts:
        found.setdefault(
            ("account", account.id), RecordRef("account", account.id, account.name, account.url)
        )
    for account in context.accounts:
        for case in account.cases:
            name = f"{case.title} ({case.ticket_number})" if case.ticket_number else case.title
            found.setdefault(("case", case.id), RecordRef("case", case.id, name, case.url))
    return tuple(found.values())


def existing_job(session: Session, environment_id: str, item: OpenItem) -> SaveJob | None:
    """The job of an item saved (or being saved) before, found by its key or message id."""
    message_id = item.internet_message_id if item.type == "message" else ""
    key = ""
    with contextlib.suppress(ApiError):  # a compose item not stored yet has no key, nor a job
        key, _message = saving.item_key(item)
    if not (key or message_id):
        return None
    return save_jobs.find_job(session, environment_id, item_key=key, message_id=message_id)


def card_for(
    item: OpenItem,
    adapter: CrmAdapter,
    *,
    environment_id: str,
    crm_label: str,
    context: ContactContext,
    identity: Identity,
    settings: Settings,
) -> SaveCard:
    """Build the card of an opened item."""
    session = store.session()
    job = existing_job(session, environment_id, item)
    if job is not None:
        return SaveCard(job=job, crm_label=crm_label)
    try:
        saving.refuse_unsaveable(item, adapter, crm_label)
    except ApiError as refused:
        return SaveCard(refusal=refused.message, refusal_code=refused.code, crm_label=crm_label)
    if adapter.capabilities.needs_server_side_sync:
        check = saving.mailbox_check(
            session, identity, environment_id, None, current_app.config["MAILBOX_CHECK_TTL"]
        )
        if check is not None and check.server_side_sync is False:
            off = saving.server_side_sync_off()
            return SaveCard(refusal=off.message, refusal_code=off.code, crm_label=crm_label)
    return SaveCard(
        suggestions=suggestions(context),
        search_types=search_types(adapter, settings),
        crm_label=crm_label,
    )


def failure_text(job: SaveJob) -> str:
    """Why a job failed, in the rep's language, with what to do next."""
    detail = job.error_message
    if job.error_code == "signed_out":
        return str(_("Your CRM session ended. Sign in again in the pane, then press Retry."))
    if job.error_code == "not_found":
        return str(_("This item is no longer in your mailbox, so it could not be saved."))
    if job.error_code == "never_sent":
        return str(_("This draft was never sent, so it was not saved."))
    if job.error_code == "rejected":
        return str(_("The CRM refused to save this item: %(detail)s", detail=detail))
    return str(
        _("Saving did not succeed after several tries (%(detail)s). Press Retry.", detail=detail)
    )


def card_context(card: SaveCard, settings: Settings, *, focus: bool = False) -> dict[str, Any]:
    """The values ``save_card.html`` is rendered with, alone or inside ``item.html``."""
    job = card.job
    skipped = save_jobs.skipped_of(job) if job is not None else []
    limit = settings.attachment_max_bytes  # the organisation's limit, as the rep reads it now
    return {
        "save_card": card,
        "save_skipped": [(s.name, describe(s.reason, limit)) for s in skipped],
        "save_failure": failure_text(job)
        if job is not None and job.status == save_jobs.FAILED
        else "",
        "save_focus": focus,
    }


def render_card(card: SaveCard, *, status: int = 200, focus: bool = False) -> Any:
    context = card_context(card, _settings(), focus=focus)
    return render_template("pane/save_card.html", **context), status


def _label() -> str:
    return crm.directories()[crm.connection().crm].label


def _regarding() -> RecordRef | None:
    choice = _field("regarding", required=False, limit=260)
    if not choice:
        return None
    kind, _sep, record_id = choice.partition(":")
    if kind not in REGARDING_TYPES or not record_id or len(record_id) > 200:
        raise ApiError(400, "bad_field", _("The field %(name)s is not valid.", name="regarding"))
    return RecordRef(kind, record_id, _field(f"name:{choice}", required=False, limit=400))


def _own_job(job_id: str) -> SaveJob:
    """A job the rep may see: of their organisation and their current environment."""
    identity = current_identity()
    job = store.session().get(SaveJob, job_id) if len(job_id) <= 36 else None
    job = save_jobs.follow(store.session(), job)
    if (
        job is None
        or job.tenant_id != identity.tenant_id
        or job.environment_id != crm.environment_id()
    ):
        raise ApiError(404, "no_such_save", _("This save is not known. Open the item again."))
    return job


@pane.post("/save")
def save() -> Any:
    """Save the open item: create its job (or find it) and answer with the card at once."""
    item = _item()
    if item is None:
        raise ApiError(400, "no_item", _("Open an email or meeting to save it."))
    identity = current_identity()
    adapter = crm.adapter()
    regarding = _regarding()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job, created = saving.request_save(
        store.session(),
        identity=identity,
        adapter=adapter,
        environment=crm.environment(),
        crm_label=_label(),
        item=item,
        regarding=regarding,
        mailbox_check_ttl=float(current_app.config["MAILBOX_CHECK_TTL"]),
        before_create=lambda: mailbox.prepare(app, identity),
    )
    if created:
        from workers import enqueue_save

        enqueue_save(job.id)
    return render_card(
        SaveCard(job=job, crm_label=_label()), status=202 if created else 200, focus=True
    )


@pane.post("/saves/<job_id>")
def save_status(job_id: str) -> Any:
    """The card of a job, for pane.js to poll while it is queued or saving."""
    return render_card(SaveCard(job=_own_job(job_id), crm_label=_label()))


@pane.post("/saves/<job_id>/retry")
def retry(job_id: str) -> Any:
    """Queue a failed save again."""
    job = _own_job(job_id)
    if save_jobs.retry(store.session(), job):
        from workers import enqueue_save

        enqueue_save(job.id)
    return render_card(SaveCard(job=job, crm_label=_label()), focus=True)


@pane.post("/save/search")
def search() -> Any:
    """Find records to connect the item to (fuzzy, over the admin's record types)."""
    text = _field("text", limit=200)
    adapter = crm.adapter()
    found = adapter.search_records(text, search_types(adapter, _settings()), limit=SEARCH_MAX)
    return render_template("pane/save_results.html", records=found, text=text)
