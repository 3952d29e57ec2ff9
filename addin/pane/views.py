"""The pane's fragment endpoints: each parses the request, calls one service, renders HTML.

Every request is a JSON POST ``{"item": <pane.js item or null>, "fields": {...}, "body": text}``
(``body`` only where the signature is read). Most actions answer with the whole pane for the
item, so what the rep sees is always what the CRM and the store now hold.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from crm_adapters import CrmError, NotSignedIn
from crm_adapters.errors import RateLimited, Rejected

from .. import connections, crm, store
from ..auth import current_identity
from ..errors import ApiError
from ..services import choices, new_contact, notes, tenant_settings
from ..services.open_item import open_item
from . import messages, pane
from .item import BODY_MAX, OpenItem, parse_item

FIELD_MAX = 10_000


# --- the request ------------------------------------------------------------------------------


def _payload() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", _("The pane sent a request this server cannot read."))
    return data


def _item() -> OpenItem | None:
    item = _payload().get("item")
    return None if item is None else parse_item(item)


def _field(name: str, *, required: bool = True, limit: int = FIELD_MAX) -> str:
    fields = _payload().get("fields") or {}
    value = fields.get(name, "") if isinstance(fields, dict) else ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise ApiError(400, "bad_field", _("The field %(name)s is not valid.", name=name))
    if required and not value.strip():
        raise ApiError(400, "missing_field", _("The field %(name)s is missing.", name=name))
    return value.strip()


def _body() -> str:
    body = _payload().get("body", "")
    return body[:BODY_MAX] if isinstance(body, str) else ""


def _settings() -> tenant_settings.Settings:
    """The organisation's settings (rule 21), read afresh so the pane obeys a change at once."""
    return tenant_settings.current(
        store.session(), current_identity().tenant_id, current_app.config
    )


# --- rendering --------------------------------------------------------------------------------


def render_pane(item: OpenItem | None, notice: str = "", status: int = 200) -> Any:
    """Render the whole pane for the item: connection bar, then the tabs or what to do first."""
    state = crm.connection()
    directory = crm.directories()[state.crm]
    settings = _settings()
    common = {
        "item": item,
        "state": state,
        "directory": directory,
        "crms": crm.directories(),
        "notice": notice or (messages.connected(state) if state.automatic else ""),
        "settings": settings,
    }
    if state.status != "connected" or item is None:
        return render_template("pane/unconnected.html", **common), status
    adapter = crm.adapter()
    opened = open_item(
        adapter=adapter,
        session=store.session(),
        identity=current_identity(),
        environment_id=state.environment.id if state.environment else "",
        recipients=item.recipients(),
        mailbox=item.mailbox,
        shared_mailbox=item.shared_owner,
        internal_domains=settings.internal_domains,
        email_fields=tenant_settings.email_fields_for(settings, adapter.capabilities),
    )
    # The CRM's own form is where Add to CRM goes only when inline creation is off.
    prefill_urls = (
        {}
        if settings.inline_contact_creation
        else {
            a.address: adapter.new_contact_url(new_contact.prefill(a.address, a.name).draft())
            for a in opened.resolution.addresses
            if a.status in ("unsaved", "ambiguous")
        }
    )
    from .save_card import card_context, card_for  # the card's module imports this one

    card = card_for(
        item,
        adapter,
        environment_id=state.environment.id if state.environment else "",
        crm_label=directory.label,
        context=opened.context,
        identity=current_identity(),
        settings=settings,
    )
    return render_template(
        "pane/item.html",
        opened=opened,
        adapter=adapter,
        prefill_urls=prefill_urls,
        **card_context(card, settings),
        **common,
    ), status


@pane.post("/view")
def view() -> Any:
    """Render the pane for the open item (or for no item)."""
    return render_pane(_item())


# --- environments and sign-in (rules 1-5) -----------------------------------------------------


@pane.post("/environments")
def environments() -> Any:
    """Show the environment picker, to switch environment or CRM."""
    state = crm.connection()
    if state.status == "signed_out":
        return render_pane(_item())
    return render_template(
        "pane/picker.html",
        state=state,
        directory=crm.directories()[state.crm],
        crms=crm.directories(),
        switching=True,
    )


@pane.post("/connect")
def connect() -> Any:
    """Connect to the environment the rep chose and confirmed."""
    state = connections.connect(
        store.session(),
        current_identity(),
        crm.directories(),
        _field("crm", limit=40),
        _field("environment_id", limit=200),
    )
    crm.forget_connection()
    return render_pane(_item(), messages.connected(state))


@pane.post("/crm")
def choose_crm() -> Any:
    """Switch to another of the organisation's CRMs."""
    connections.choose_crm(
        store.session(), current_identity(), crm.directories(), _field("crm", limit=40)
    )
    crm.forget_connection()
    return render_pane(_item())


@pane.post("/sign-out")
def sign_out() -> Any:
    """Sign out of the CRM in the pane."""
    connections.sign_out(
        store.session(), current_identity(), crm.directories(), crm.connection().crm
    )
    crm.forget_connection()
    return render_pane(_item(), _("You signed out of the CRM."))


@pane.post("/sign-in")
def sign_in() -> Any:
    """Sign in to the CRM again."""
    state = crm.connection()
    connections.sign_in(store.session(), current_identity(), crm.directories(), state.crm)
    crm.forget_connection()
    state = crm.connection()
    return render_pane(_item(), messages.connected(state) if state.environment else "")


@pane.post("/sign-in/<crm_name>/start")
def start_sign_in(crm_name: str) -> Any:
    """Start a manual sign-in (Salesforce's OAuth): answer the URL the dialog or popup opens."""
    directory = crm.directories().get(crm_name)
    if not isinstance(directory, connections.ManualSignIn):
        raise ApiError(404, "unknown_crm", _("Your organisation does not offer this CRM."))
    try:  # the directory knows its logins (Salesforce: production or sandbox)
        state = directory.start_sign_in(
            store.session(), current_identity(), _field("login", limit=20)
        )
    except ValueError:
        raise ApiError(
            400, "bad_field", _("The field %(name)s is not valid.", name="login")
        ) from None
    return jsonify({"url": url_for("sign_in.authorize", crm_name=crm_name, state=state)})


@pane.post("/signature")
def signature() -> Any:
    """Show what the sender's signature says; works before any CRM sign-in (rule 1)."""
    item = _item()
    if item is None or item.sender is None:
        raise ApiError(400, "no_sender", _("This item has no sender whose signature to read."))
    draft = new_contact.prefill(item.sender.address, item.sender.name, body=_body(), sender=True)
    return render_template("pane/signature.html", draft=draft, fields=new_contact.FIELDS)


# --- contacts (rules 6-9) ---------------------------------------------------------------------


@pane.post("/choose")
def choose() -> Any:
    """Remember which contact an address shared by several contacts means for this rep."""
    choices.choose_contact(
        adapter=crm.adapter(),
        session=store.session(),
        identity=current_identity(),
        environment_id=crm.environment_id(),
        address=_field("address", limit=320),
        contact_id=_field("contact_id", limit=200),
    )
    return render_pane(_item(), _("Contact connected."))


@pane.post("/contacts/new")
def new_contact_form() -> Any:
    """Show the New contact form, pre-filled from the signature or the email."""
    item = _item()
    address = _field("address", limit=320)
    sender = item is not None and item.sender is not None and item.sender.address == address
    draft = new_contact.prefill(
        address, _field("name", required=False, limit=256), body=_body(), sender=sender
    )
    return _contact_form(draft)


@pane.post("/contacts")
def create_contact() -> Any:
    """Save the New contact form to the CRM, then show the item with the contact matched."""
    fields = _payload().get("fields") or {}
    draft = new_contact.form_values(fields if isinstance(fields, dict) else {})
    try:
        contact = new_contact.add_contact(crm.adapter(), draft.draft())
    except Rejected as error:
        # Adapters name the refused field first ("last_name: ..."): mark it in the form.
        field, _sep, reason = error.reason.partition(": ")
        if field in new_contact.FIELDS and reason:
            return _contact_form(draft, error=reason, invalid=field, status=422)
        return _contact_form(draft, error=error.reason, status=422)
    return render_pane(_item(), _("%(name)s was added to the CRM.", name=contact.full_name))


def _contact_form(
    draft: new_contact.PrefilledDraft, error: str = "", invalid: str = "", status: int = 200
) -> Any:
    adapter = crm.adapter()
    return render_template(
        "pane/new_contact.html",
        draft=draft,
        fields=new_contact.FIELDS,
        required=adapter.capabilities.contact_required_fields,
        crm_form_url=adapter.new_contact_url(draft.draft()),
        error=error,
        invalid=invalid,
    ), status


# --- private notes (rule 10) ------------------------------------------------------------------


@pane.post("/notes")
def add_note() -> Any:
    """Write a private note on a contact."""
    contact_id = _field("contact_id", limit=200)
    notes.create_note(
        session=store.session(),
        identity=current_identity(),
        environment_id=crm.environment_id(),
        contact_id=contact_id,
        body=_field("body"),
    )
    return _notes(contact_id, _("Note saved."))


@pane.post("/notes/<int:note_id>/delete")
def delete_note(note_id: int) -> Any:
    """Delete one of the rep's notes."""
    notes.delete_note(session=store.session(), identity=current_identity(), note_id=note_id)
    return _notes(_field("contact_id", limit=200), _("Note deleted."))


def _notes(contact_id: str, notice: str) -> Any:
    found = notes.list_notes(
        session=store.session(),
        identity=current_identity(),
        environment_id=crm.environment_id(),
        contact_id=contact_id,
    )
    return render_template("pane/notes.html", contact_id=contact_id, notes=found, notice=notice)


# --- errors as fragments ----------------------------------------------------------------------


def fragment_errors(blueprint: Blueprint) -> None:
    """Answer the blueprint's failures as an HTML fragment with its 4xx/503 (the pane's and the
    admin page's), never a 500 page inside Outlook's frame."""
    blueprint.register_error_handler(ApiError, _api_error)
    blueprint.register_error_handler(CrmError, _crm_error)
    blueprint.register_error_handler(HTTPException, _http_error)


def _api_error(error: ApiError) -> Any:
    message = messages.for_api_error(error.code, error.message)
    return _error(error.status, error.code, message, error.headers)


def _crm_error(error: CrmError) -> Any:
    status, code, message = messages.for_crm_error(error)
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    claims = error.claims if isinstance(error, NotSignedIn) else None
    return _error(status, code, message, headers, claims=claims)


def _http_error(error: HTTPException) -> Any:
    status = error.code or 400
    return _error(status, f"http_{status}", messages.for_http_status(status))


def _error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    claims: str | None = None,
) -> Any:
    html = render_template(
        "pane/error.html", code=code, message=message, status=status, claims=claims
    )
    return html, status, headers or {}


fragment_errors(pane)
