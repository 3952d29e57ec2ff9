"""The OAuth round trip of a manual sign-in (Salesforce), in the pane's dialog or popup window.

Neither page carries the rep's bearer token (a dialog is a new browsing context): the pending
sign-in's unguessable state, recorded when the rep's own pane started it, says whose it is.

GET /sign-in/<crm>/authorize?state=   sends the window to the CRM's login page (Office dialogs
                                      must open on the add-in's own domain first)
GET /sign-in/<crm>/callback?code=&state=   where the CRM sends the rep back (the callback URL
                                      registered with the CRM): the code is
                                      exchanged, the tokens kept, the rep connected; the page
                                      tells the pane (``postMessage`` to its opener, or Office's
                                      ``messageParent``) and closes
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request
from flask_babel import gettext as _

from crm_adapters import CrmError

from . import connections, crm, store
from .connections import SignInFailed
from .identity import Identity
from .pane import content_security_policy

sign_in = Blueprint("sign_in", __name__, url_prefix="/sign-in")


def _directory(crm_name: str) -> connections.ManualSignIn:
    directory = crm.directories().get(crm_name)
    if not isinstance(directory, connections.ManualSignIn):
        raise SignInFailed(_("Your organisation does not offer this CRM."))
    return directory


@sign_in.get("/<crm_name>/authorize")
def authorize(crm_name: str) -> Any:
    """Send the sign-in window to the CRM's login page for a pending sign-in."""
    try:
        url = _directory(crm_name).authorize_url(store.session(), request.args.get("state", ""))
    except SignInFailed as failed:
        return _done(False, str(failed), 400)
    return redirect(url, code=302)


@sign_in.get("/<crm_name>/callback")
def callback(crm_name: str) -> Any:
    """Finish the sign-in the CRM sent back, then tell the pane."""
    state = request.args.get("state", "")
    session = store.session()
    try:
        directory = _directory(crm_name)
        if request.args.get("error"):
            directory.cancel_sign_in(session, state)
            return _done(False, _("You did not allow Sidepane to use your CRM account."), 200)
        tenant_id, user_oid = directory.finish_sign_in(session, state, request.args.get("code", ""))
    except SignInFailed as failed:
        return _done(False, str(failed), 400)
    except CrmError as error:
        return _done(False, str(error), 502)
    rep = Identity(tenant_id, user_oid, "", "", frozenset(), frozenset())
    connections.sign_in(session, rep, crm.directories(), crm_name)
    return _done(True, _("You are signed in. You can close this window."), 200)


def _done(ok: bool, message: str, status: int) -> Any:
    response = current_app.make_response(
        (
            render_template(
                "sign_in/done.html",
                ok=ok,
                message=message,
                office_js=current_app.config["OFFICE_JS_URL"],
            ),
            status,
        )
    )
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app.config["OFFICE_JS_URL"]
    )
    response.headers["Cache-Control"] = "no-store"
    return response
