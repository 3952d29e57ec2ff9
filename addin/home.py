"""The demo's front door: ``/`` opens the dev harness; ``/about`` says what runs and where to look.

Shown only in demo mode; a production deployment has no page at ``/``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, url_for

from crm_adapters.models import RecordType
from crm_adapters.sandbox import load_seed_report

from . import crm

home = Blueprint("home", __name__)

#: (label, record type, SeedReport field) of the showcase records worth opening first.
SHOWCASE = (
    (
        "A contact with an account, opportunities and cases",
        RecordType.CONTACT,
        "account_contact_id",
    ),
    (
        "A contact with many past emails and upcoming meetings",
        RecordType.CONTACT,
        "related_contact_id",
    ),
    ("A contact linked to several accounts", RecordType.CONTACT, "multi_account_contact_id"),
    ("An account", RecordType.ACCOUNT, "account_id"),
    ("An open opportunity", RecordType.OPPORTUNITY, "open_opportunity_id"),
    ("An open case", RecordType.CASE, "open_case_id"),
)


@home.get("/")
def index() -> Any:
    """Open the demo on the dev harness."""
    if not current_app.config["DEMO"]:
        abort(404)
    return redirect(url_for("harness.page"))


@home.get("/about")
def about() -> Any:
    """Show what the demo runs and its showcase records."""
    if not current_app.config["DEMO"]:
        abort(404)
    report = load_seed_report(current_app.config["SANDBOX_PATH"])
    links = []
    if report is not None:
        directory = crm.sandbox_directory()
        adapter = directory.adapter(directory.primary())
        try:
            links = [
                (label, adapter.record_url(kind, getattr(report, field)))
                for label, kind, field in SHOWCASE
            ]
        finally:
            adapter.close()
    return render_template("home.html", report=report, links=links)
