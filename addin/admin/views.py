"""The admin page's fragments: each parses the request, calls one service, renders HTML.

Requests are pane.js's JSON POSTs (``{"item": null, "fields": {...}}``). Consent and the CRM
features live in one region (``#admin-status``) that pane.js fetches again when the admin comes
back from the consent tab; the settings form answers with the whole page, so the recent changes
show the change just saved.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from flask import current_app, render_template, request
from flask_babel import format_datetime, gettext

import workers
from crm_adapters import CrmError

from .. import connections, crm, store
from ..auth import current_identity
from ..connections import ConnectionState
from ..errors import ApiError
from ..pane import content_security_policy, messages
from ..pane.views import fragment_errors
from ..services import consent, provisioning, tenant_settings
from ..services.tenant_settings import FIELDS, InvalidSetting, Settings, StaleSettings
from . import admin

MEGABYTE = 1024 * 1024
#: Settings chosen from a fixed list (checkboxes), with the values each may hold.
CHOICES: Mapping[str, tuple[str, ...]] = {
    "email_fields": ("email1", "email2", "email3"),
    "search_record_types": tenant_settings.SEARCHABLE_TYPES,
    "shown_record_types": tenant_settings.SHOWN_TYPES,
}
BOOLEANS = ("inline_contact_creation", "auto_save_replies")
#: Settings written one value per line in a text box.
LINES = ("attachment_extensions", "attachment_mime_types", "internal_domains")
TEXT_MAX = 20_000


def _(text: str, **values: Any) -> str:
    return str(gettext(text, **values))


def labels() -> dict[str, str]:
    """Each setting's name as the admin page shows it."""
    return {
        "inline_contact_creation": _("Create contacts in the pane"),
        "email_fields": _("Email fields to match"),
        "search_record_types": _("Record types the save card searches"),
        "shown_record_types": _("Related records the Account tab shows"),
        "attachment_max_bytes": _("Largest attachment saved (MB)"),
        "attachment_extensions": _("File types saved (extensions)"),
        "attachment_mime_types": _("Content types saved"),
        "auto_save_replies": _("Save replies to saved emails automatically"),
        "related_items": _("Related items shown at first"),
        "internal_domains": _("Your organisation's mail domains"),
    }


def choice_labels() -> dict[str, str]:
    return {
        "email1": _("Email 1 (primary)"),
        "email2": _("Email 2"),
        "email3": _("Email 3"),
        "account": _("Account"),
        "case": _("Case"),
        "opportunity": _("Opportunity"),
        "contact": _("Contact"),
        "activity": _("Activity"),
    }


# --- the request ------------------------------------------------------------------------------


def _fields() -> dict[str, Any]:
    data = request.get_json(silent=True)
    fields = data.get("fields") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(fields, dict | None):
        raise ApiError(400, "bad_request", _("The pane sent a request this server cannot read."))
    return fields or {}


def _text(fields: Mapping[str, Any], name: str, limit: int = 200) -> str:
    value = fields.get(name, "")
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise ApiError(400, "bad_field", _("The field %(name)s is not valid.", name=name))
    return value.strip()


def _values(fields: Mapping[str, Any], name: str) -> list[str]:
    """A group of checkboxes: pane.js sends one value as text, several as a list."""
    value = fields.get(name, [])
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError(400, "bad_field", _("The field %(name)s is not valid.", name=name))
    return values[: tenant_settings.MAX_LIST + 1]


# --- what the page shows ----------------------------------------------------------------------


def _connection() -> tuple[ConnectionState | None, str]:
    """The admin's own CRM connection (the checks run on it), or what stops reading it."""
    try:
        state = connections.state(
            store.session(), current_identity(), crm.directories(), crm.default_crm()
        )
    except CrmError as error:
        return None, messages.for_crm_error(error)[2]
    return state, ""


def _status_context(notice: str = "", error: str = "") -> dict[str, Any]:
    session, identity = store.session(), current_identity()
    consent_state = consent.state_of(session, identity.tenant_id)
    status = provisioning.status(session, identity.tenant_id)
    state, crm_error = (None, "")
    if consent_state.granted and not status.features_on and not status.checking:
        state, crm_error = _connection()
    crm_name = state.crm if state is not None else crm.default_crm()
    return {
        "consent_state": consent_state,
        "consent_when": format_datetime(consent_state.at, "short") if consent_state.at else "",
        "consent_url": consent.consent_link(session, identity, current_app.config),
        "status": status,
        "environment": provisioning.environment_of(status.run) if status.run else None,
        "failed_checks": [c for c in status.checks() if not c.ok],
        "connection": state,
        "crm_error": crm_error,
        "directory": crm.directories()[crm_name],
        "features_notice": notice,
        "gate_off": not current_app.config["REQUIRE_PROVISIONING"],
        "features_error": error,
    }


def _settings_context(
    settings: Settings,
    form: Mapping[str, Any] | None = None,
    *,
    invalid: str = "",
    reason: str = "",
    settings_error: str = "",
) -> dict[str, Any]:
    return {
        "settings": settings,
        "form": dict(form) if form is not None else _form_of(settings),
        "fields": FIELDS,
        "labels": labels(),
        "choice_labels": choice_labels(),
        "choices": CHOICES,
        "booleans": BOOLEANS,
        "lines": LINES,
        "invalid": invalid,
        "reason": reason,
        "settings_error": settings_error,
        "max_megabytes": tenant_settings.MAX_ATTACHMENT_BYTES // MEGABYTE,
    }


def _form_of(settings: Settings) -> dict[str, Any]:
    """The settings as the form's controls hold them."""
    form: dict[str, Any] = {}
    for field in FIELDS:
        value = getattr(settings, field)
        if field in LINES:
            form[field] = "\n".join(value)
        elif field == "attachment_max_bytes":
            form[field] = _megabytes(value)
        elif field == "related_items":
            form[field] = str(value)
        elif field in CHOICES:
            form[field] = list(value)
        else:
            form[field] = value
    return form


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.2f}".rstrip("0").rstrip(".")


def _current_settings() -> Settings:
    return tenant_settings.current(
        store.session(), current_identity().tenant_id, current_app.config
    )


def _audit_lines() -> list[dict[str, Any]]:
    names = labels()
    lines = []
    for row in tenant_settings.audit_trail(store.session(), current_identity().tenant_id):
        old, new = json.loads(row.old_value), json.loads(row.new_value)
        if row.action == "setting":
            what = names.get(row.field, row.field)
            old_text, new_text = _shown(row.field, old), _shown(row.field, new)
        elif row.action == "consent":
            what, old_text, new_text = _("Consent"), _consent_word(old), _consent_word(new)
        elif row.action == "crm_features":
            what, old_text, new_text = _("CRM features"), _on_off(old), _on_off(new)
        elif row.action == "provisioning":
            what, old_text, new_text = _("Provisioning checks started"), "", str(new or "")
        else:
            what, old_text, new_text = row.action, str(old or ""), str(new or "")
        lines.append(
            {
                "who": row.user_name,
                "what": what,
                "field": row.field or row.action,
                "old": old_text,
                "new": new_text,
                "at": format_datetime(row.at, "short"),
            }
        )
    return lines


def _shown(field: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _on_off(value)
    if field == "attachment_max_bytes" and isinstance(value, int):
        return _("%(size)s MB", size=_megabytes(value))
    if isinstance(value, list):
        names = choice_labels() if field in CHOICES else {}
        return ", ".join(str(names.get(v, v)) for v in value) if value else _("none")
    return str(value)


def _on_off(value: Any) -> str:
    return _("On") if value else _("Off")


def _consent_word(value: Any) -> str:
    if value == consent.GRANTED:
        return _("granted")
    if value == consent.REFUSED:
        return _("refused")
    return _("not given")


def _render_view(
    settings_context: dict[str, Any], notice: str = "", status: int = 200
) -> tuple[str, int]:
    return render_template(
        "admin/view.html",
        notice=notice,
        audit=_audit_lines(),
        **_status_context(),
        **settings_context,
    ), status


def _render_status(notice: str = "", error: str = "", status: int = 200) -> tuple[str, int]:
    return render_template("admin/_status.html", **_status_context(notice, error)), status


# --- the routes -------------------------------------------------------------------------------


@admin.post("/view")
def view() -> Any:
    """Render the whole admin page."""
    return _render_view(_settings_context(_current_settings()))


@admin.post("/status")
def status() -> Any:
    """Render consent and the CRM features (fetched again when the admin comes back)."""
    return _render_status()


@admin.post("/features")
def features() -> Any:
    """Turn the CRM features on (checks first, in a worker) or off (at once)."""
    fields = _fields()
    session, identity = store.session(), current_identity()
    if _text(fields, "on", 10) != "true":
        provisioning.turn_off(session, identity)
        return _render_status(notice=_("CRM features are off. Reps are told to ask you."))
    if provisioning.features_on(session, identity.tenant_id):
        return _render_status()  # on already (a page left open): nothing to check
    state, _crm_error = _connection()
    if state is not None and state.status == "choose" and fields.get("environment_id"):
        state = connections.connect(
            session, identity, crm.directories(), state.crm, _text(fields, "environment_id")
        )
    environment = state.environment if state is not None else None
    try:
        run, created = provisioning.turn_on(session, identity, environment)
    except provisioning.ProvisioningRefused as refused:
        return _render_status(error=_refusal(refused.code), status=409)
    session.commit()  # the worker must find the run
    if created:
        workers.enqueue_provisioning(run.id)
    return _render_status()


def _refusal(code: str) -> str:
    if code == "consent_required":
        return _("Provide consent first: Sidepane cannot be turned on without it.")
    return _("Connect to your CRM first: the checks run on the environment you are connected to.")


@admin.post("/provisioning/<run_id>")
def provisioning_run(run_id: str) -> Any:
    """Render the CRM features section while a run is checked (pane.js polls it)."""
    if provisioning.find_run(store.session(), current_identity().tenant_id, run_id) is None:
        raise ApiError(404, "unknown_run", _("There is no such provisioning run."))
    return render_template("admin/_features.html", **_status_context())


@admin.post("/sign-in")
def sign_in() -> Any:
    """Sign the admin in to the CRM again (single sign-on), so the checks can run as them."""
    state, _crm_error = _connection()
    name = state.crm if state is not None else crm.default_crm()
    connections.sign_in(store.session(), current_identity(), crm.directories(), name)
    return _render_status()


@admin.post("/settings")
def save_settings() -> Any:
    """Save the settings form: all of it or nothing, and only over the version it was read at."""
    fields = _fields()
    try:
        version = int(_text(fields, "version", 12))
    except ValueError:
        raise ApiError(
            400, "bad_field", _("The field %(name)s is not valid.", name="version")
        ) from None
    form = _form_from(fields)
    session, identity = store.session(), current_identity()
    try:
        saved = tenant_settings.update(
            session, identity, _changes(form), current_app.config, version=version
        )
    except InvalidSetting as invalid:
        session.rollback()
        reason = invalid.reason
        if invalid.field == "attachment_max_bytes":
            reason = _(
                "must be a number of MB from 0 to %(max)d.",
                max=tenant_settings.MAX_ATTACHMENT_BYTES // MEGABYTE,
            )
        context = _settings_context(_current_settings(), form, invalid=invalid.field, reason=reason)
        return _render_view(context, status=422)
    except StaleSettings:
        session.rollback()
        message = _(
            "Another admin changed the settings while you had them open. These are the "
            "settings now: make your change again."
        )
        return _render_view(
            _settings_context(_current_settings(), settings_error=message), status=409
        )
    session.commit()
    return _render_view(_settings_context(saved), notice=_("Settings saved."))


def _form_from(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The form as the admin filled it in (shown again as it is when a value is refused)."""
    form: dict[str, Any] = {}
    for field in FIELDS:
        if field in BOOLEANS:
            form[field] = fields.get(field) == "true"
        elif field in CHOICES:
            form[field] = _values(fields, field)
        else:
            form[field] = _text(fields, field, TEXT_MAX)
    return form


def _changes(form: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values as `tenant_settings.update` takes them."""
    changes = dict(form)
    changes["related_items"] = _whole_number(form["related_items"])
    size = form["attachment_max_bytes"]
    try:
        megabytes = float(size)
    except ValueError:
        changes["attachment_max_bytes"] = size  # refused by the check, naming the field
    else:
        changes["attachment_max_bytes"] = (
            round(megabytes * MEGABYTE) if math.isfinite(megabytes) else size
        )
    return changes


def _whole_number(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text  # refused by the check, naming the field


# --- the consent return (no bearer token) -----------------------------------------------------


@admin.get("/consent/return")
def consent_return() -> Any:
    """Record the identity provider's answer to a Provide consent link, and say how it went."""
    session = store.session()
    try:
        _tenant_id, answer = consent.finish(session, request.args)
    except consent.InvalidReturn:
        session.rollback()
        return _consent_done("invalid", status=400)
    session.commit()
    if answer.granted:
        return _consent_done("granted")
    return _consent_done("refused", answer.error, answer.error_description)


def _consent_done(outcome: str, error: str = "", description: str = "", status: int = 200) -> Any:
    office_js = current_app.config["OFFICE_JS_URL"]
    response = current_app.make_response(
        (
            render_template(
                "admin/consent_done.html",
                outcome=outcome,
                error=error,
                description=description,
            ),
            status,
        )
    )
    response.headers["Content-Security-Policy"] = content_security_policy(office_js)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the address carries the state
    return response


# --- errors as fragments ----------------------------------------------------------------------


fragment_errors(admin)
