"""The harness plays Entra's admin-consent page in demo mode (rule 19's Provide consent link).

``GET /harness/entra/<tenant>/v2.0/adminconsent?client_id=&redirect_uri=&state=&scope=`` shows
the app, the permissions asked and Accept / Cancel, as Microsoft's page does; the answer sends
the browser back exactly as Entra does:

- Accept: ``redirect_uri?admin_consent=True&tenant=<tid>&state=<state>&scope=<scope>``
- Cancel: ``redirect_uri?error=access_denied&error_subcode=cancel&error_description=AADSTS65004:
  User declined to consent to access the app.&admin_consent=True&tenant=<tid>&state=<state>``

Like Entra it refuses, with an error page and no redirect, an unknown app or a redirect URI that
is not the app's registered one (here: the only one, Sidepane's consent return).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import current_app, redirect, render_template, request

from ..services import consent
from . import harness

DECLINED = "AADSTS65004: User declined to consent to access the app."


def _problem(tenant: str) -> str:
    """What Entra would refuse the request for, or ""."""
    args = request.values
    for parameter in ("client_id", "redirect_uri", "scope"):
        if not args.get(parameter):
            return f"AADSTS900144: The request body must contain the parameter '{parameter}'."
    if args["client_id"] != consent.client_id(current_app.config):
        return (
            f"AADSTS700016: Application with identifier '{args['client_id']}' was not found in "
            f"the directory '{tenant}'."
        )
    if args["redirect_uri"] != consent.return_url(current_app.config):
        return (
            f"AADSTS50011: The redirect URI '{args['redirect_uri']}' specified in the request "
            f"does not match the redirect URIs configured for the application "
            f"'{args['client_id']}'."
        )
    return ""


@harness.get("/entra/<tenant>/v2.0/adminconsent")
def admin_consent(tenant: str) -> Any:
    """Show the admin-consent page: the app, the permissions it asks for, Accept / Cancel."""
    problem = _problem(tenant)
    if problem:
        return render_template("harness_consent.html", problem=problem), 400
    return render_template(
        "harness_consent.html",
        problem="",
        tenant=tenant,
        client_id=request.args["client_id"],
        redirect_uri=request.args["redirect_uri"],
        scope=request.args["scope"],
        state=request.args.get("state", ""),
    )


@harness.post("/entra/<tenant>/v2.0/adminconsent")
def admin_consent_answer(tenant: str) -> Any:
    """Send the browser back to the app with the admin's answer, as Entra does."""
    problem = _problem(tenant)
    if problem:
        return render_template("harness_consent.html", problem=problem), 400
    values = request.form
    state = {"state": values["state"]} if values.get("state") else {}
    if values.get("answer") == "accept":
        params = {"admin_consent": "True", "tenant": tenant} | state | {"scope": values["scope"]}
    else:
        params = {
            "error": "access_denied",
            "error_subcode": "cancel",
            "error_description": DECLINED,
            "admin_consent": "True",
            "tenant": tenant,
        } | state
    return redirect(f"{values['redirect_uri']}?{urlencode(params)}", code=302)
