"""The admin page (rules 9, 18-21): consent, the CRM features, the organisation's settings.

Same shell as the pane (``GET /admin``: Office.js and pane.js, which starts from ``/admin/view``),
same look, same bearer token on every fragment request. Only the organisation's Sidepane admins
(the ``Sidepane.Admin`` app role in the token) get past ``_require_admin``: everyone else gets a
403 fragment on every route but the shell page and the consent return.

Routes
------
GET  /admin                      the shell page
POST /admin/view                 the whole page: consent, CRM features, settings, recent changes
POST /admin/status               consent and CRM features only (fetched again on focus)
POST /admin/features             turn the CRM features on (a provisioning run) or off
POST /admin/provisioning/<id>    the CRM features section while a run is checked (polled)
POST /admin/sign-in              sign the admin in to the CRM again (single sign-on CRMs)
POST /admin/settings             save the settings form
GET  /admin/consent/return       where the identity provider sends the admin back (no token)
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import authenticate, current_identity
from ..errors import ApiError
from ..pane import content_security_policy

admin = Blueprint("admin", __name__, url_prefix="/admin")

#: Routes that carry no bearer token: the shell page, and the browser's return from consent.
PUBLIC_ENDPOINTS = frozenset({"admin.page", "admin.consent_return"})


@admin.before_request
def _require_admin() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    authenticate()
    if not current_identity().is_admin:
        raise ApiError(
            403,
            "admin_only",
            _("Only your organisation's Sidepane admins can change these settings."),
        )


@admin.get("")
def page() -> Any:
    """Serve the admin page's shell: Office.js, pane.js, and the region it fills."""
    office_js = current_app.config["OFFICE_JS_URL"]
    response = current_app.make_response(
        render_template(
            "pane/page.html",
            office_js=office_js,
            start=url_for("admin.view"),
            no_item=True,
            title=_("Sidepane admin settings"),
        )
    )
    response.headers["Content-Security-Policy"] = content_security_policy(office_js)
    return response


@admin.app_context_processor
def _admin_link() -> dict[str, Any]:
    """Let the pane's templates offer the admin page to admins only."""

    def admin_settings_url() -> str:
        identity = g.get("identity")
        return url_for("admin.page") if identity is not None and identity.is_admin else ""

    return {"admin_settings_url": admin_settings_url}


from . import views  # noqa: E402, F401  (registers the fragment routes)
