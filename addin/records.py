"""The sandbox CRM's own web pages: a read-only page per record and its new-contact form.

These are what "Open in CRM" opens in the demo, the way Dynamics or Salesforce open their own
record pages in production. They exist only while the configured CRM is the sandbox.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session

from crm_adapters import CrmError
from crm_adapters.models import ContactDraft, RecordType

from . import crm
from .services.new_contact import FIELDS as DRAFT_FIELDS  # the pane's form, same order

records = Blueprint("records", __name__, url_prefix="/sandbox/<environment_id>")

RECORD_TYPES = {t.value for t in RecordType}


@records.before_request
def _only_for_the_sandbox() -> None:
    if "sandbox" not in current_app.config["CRMS"]:
        abort(404)


@records.url_value_preprocessor
def _open_environment(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    directory = crm.sandbox_directory()
    environment = directory.find((values or {}).get("environment_id", ""))
    if environment is None:
        abort(404)
    g.crm_adapter = directory.adapter(environment)  # closed with the request, like crm.adapter()


@records.get("/contact/new")
def new_contact(environment_id: str) -> Any:
    """Show the sandbox's new-contact form, filled in from the query string."""
    draft = {name: request.args.get(name, "")[:320] for name in DRAFT_FIELDS}
    session["csrf"] = session.get("csrf") or secrets.token_urlsafe(24)
    return render_template(
        "records/new_contact.html", draft=draft, fields=DRAFT_FIELDS, csrf=session["csrf"], error=""
    )


@records.post("/contact/new")
def create_contact(environment_id: str) -> Any:
    """Create the contact the form describes, then show it."""
    if not secrets.compare_digest(request.form.get("csrf", ""), session.get("csrf", "-")):
        abort(400)
    draft = {name: request.form.get(name, "").strip()[:320] for name in DRAFT_FIELDS}
    try:
        contact = g.crm_adapter.create_contact(ContactDraft(**draft))
    except CrmError as error:
        return render_template(
            "records/new_contact.html",
            draft=draft,
            fields=DRAFT_FIELDS,
            csrf=session["csrf"],
            error=str(error),
        ), 422
    return redirect(contact.url, code=303)


@records.get("/<record_type>/<record_id>")
def record(environment_id: str, record_type: str, record_id: str) -> Any:
    """Show one record with its related records."""
    if record_type not in RECORD_TYPES:
        abort(404)
    try:
        data = g.crm_adapter.get_record(record_type, record_id)
    except CrmError:
        abort(404)
    fields = {k: v for k, v in data.items() if not isinstance(v, list | dict)}
    related = {k: v for k, v in data.items() if isinstance(v, list) and v}
    return render_template(
        "records/record.html", record_type=record_type, fields=fields, related=related
    )
