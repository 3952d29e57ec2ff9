"""What the pane says, in the rep's language, about connections and failures.

CRM errors carry the adapter's English detail; the pane leads with a translated sentence that
says what to do next and keeps the detail after it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, ngettext

from crm_adapters import errors as crm

from ..connections import ConnectionState


def _(text: str, **values: Any) -> str:
    return str(gettext(text, **values))


def connected(state: ConnectionState) -> str:
    if state.environment is None:
        return ""
    return _("Connected to %(name)s.", name=state.environment.name)


def for_crm_error(error: crm.CrmError) -> tuple[int, str, str]:
    """Return status, code and the rep's message for a CRM failure."""
    detail = str(error)
    if isinstance(error, crm.ConsentRequired):
        return (
            403,
            "crm_consent_required",
            _(
                "Your organisation has not allowed Sidepane to reach the CRM yet. "
                "Ask your administrator to give consent."
            ),
        )
    if isinstance(error, crm.NotSignedIn):
        return 401, "crm_sign_in_required", _("Your CRM session ended. Sign in again.")
    if isinstance(error, crm.RateLimited):
        return (
            429,
            "crm_rate_limited",
            str(
                ngettext(
                    "The CRM is busy. Try again in %(num)s second.",
                    "The CRM is busy. Try again in %(num)s seconds.",
                    max(1, round(error.retry_after)),
                )
            ),
        )
    if isinstance(error, crm.Unavailable):
        return (
            503,
            "crm_unavailable",
            _("The CRM does not answer right now. Try again in a moment."),
        )
    if isinstance(error, crm.NotFound):
        return (
            404,
            "crm_not_found",
            _("The CRM no longer has this record: %(detail)s", detail=detail),
        )
    if isinstance(error, crm.Rejected):
        return 422, "crm_rejected", _("The CRM refused it: %(detail)s", detail=detail)
    if isinstance(error, crm.Conflict):
        return 409, "crm_conflict", _("The CRM reports a conflict: %(detail)s", detail=detail)
    return 502, "crm_error", _("The CRM answered with an error. Try again in a moment.")


def for_api_error(code: str, message: str) -> str:
    """Return the rep's message for one of our own errors, by its code.

    The JSON API keeps the English message; the pane says it in the rep's language. A code
    without an entry here keeps its English message.
    """
    translated = {
        "missing_token": lambda: _("Sidepane could not sign you in. Close and reopen the pane."),
        "signed_out": lambda: _("You signed out of the CRM. Sign in again."),
        "no_environments": lambda: _(
            "Your account has no CRM environment. Ask your admin to give you access to one."
        ),
        "choose_environment": lambda: _("Choose your CRM environment first."),
        "unknown_environment": lambda: _(
            "This environment is not one of yours. Choose one from the list."
        ),
        "unknown_crm": lambda: _("Your organisation does not offer this CRM."),
        "invalid_item": lambda: _(
            "Outlook sent an item Sidepane cannot read. Select it again; if it persists, "
            "tell your admin."
        ),
        "contact_not_matching": lambda: _(
            "That contact does not have this address. Choose one of the contacts listed."
        ),
        "note_not_found": lambda: _("This note no longer exists."),
        "missing_field": lambda: _("Fill in the required fields."),
        "bad_field": lambda: _("A field is too long or not valid."),
    }.get(code)
    return translated() if translated else message


def for_http_status(status: int) -> str:
    if status == 413:
        return _("This request is too large for the server.")
    return _("The pane sent a request this server cannot read.")
