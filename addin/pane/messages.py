"""What the pane says, in the rep's language, about connections and failures.

CRM errors carry the adapter's English detail; the pane leads with a translated sentence that
says what to do next and keeps the detail after it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

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
    if isinstance(error, crm.NotSignedIn):
        return 401, "crm_sign_in_required", _("Your CRM session ended. Sign in again.")
    if isinstance(error, crm.RateLimited):
        return (
            429,
            "crm_rate_limited",
            _(
                "The CRM is busy. Try again in %(seconds)s seconds.",
                seconds=max(1, round(error.retry_after)),
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


def for_http_status(status: int) -> str:
    if status == 413:
        return _("This request is too large for the server.")
    if status == 415:
        return _("The pane sent a request this server cannot read.")
    return _("The pane sent a request this server cannot read.")
