"""The side pane: one server-rendered page and the HTML fragments pane.js swaps into it.

The page (``GET /pane``) is a shell: Office.js (Microsoft's CDN in production, the harness's
stand-in in demo and tests) and ``pane.js``, which reads the open item and posts it to the
fragment endpoints below. Every fragment request carries the rep's bearer token, exactly like
the JSON API, and returns HTML; failures return an HTML fragment with a 4xx and a message that
says what to do next (never a 500 page inside the pane).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request

from ..auth import authenticate

pane = Blueprint("pane", __name__, url_prefix="/pane")


@pane.before_request
def _require_identity() -> None:
    if request.endpoint != "pane.page":
        authenticate()


@pane.get("")
def page() -> Any:
    """Serve the pane's page: Office.js, pane.js and the empty regions they fill."""
    response = current_app.make_response(
        render_template("pane/page.html", office_js=current_app.config["OFFICE_JS_URL"])
    )
    # Outlook shows the pane in an iframe of its own pages; nobody else may frame it.
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app.config["OFFICE_JS_URL"]
    )
    return response


def content_security_policy(office_js: str) -> str:
    """Return the policy of our pages in Office: our own scripts and Office.js, framed by Office."""
    # Office.js loads its other parts from its own host, so allow that origin, not one file.
    parts = urlsplit(office_js)
    script = f"'self' {parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"
    return (
        f"default-src 'self'; script-src {script}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'self' https://*.office.com https://*.office365.com "
        "https://*.outlook.com https://*.live.com https://*.microsoft.com; base-uri 'none'; "
        "form-action 'self'"
    )


from . import save_card, views  # noqa: E402, F401  (registers the fragment routes)
