"""The dev harness: an Outlook-like page around the pane, demo mode only.

``/harness`` shows sample items on the left (built from the sandbox's seed report, see
`samples`) and the real pane on the right, in an iframe, driven by the Office.js stand-in
(``static/harness/office.js``). The harness plays Outlook: which rep is signed in (each demo rep
has a different set of environments, so every branch of rule 3 can be tried), Office's display
language and theme, the pane's width, and which item is selected (or none).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, render_template

from crm_adapters.sandbox import load_seed_report

from ..auth import DEMO_DOMAIN
from .samples import FOLDERS, build_samples

harness = Blueprint("harness", __name__, url_prefix="/harness")

#: The demo reps the harness can sign in as: name, and which branch of rule 3 they show.
REPS = (
    ("alex", "Alex Morgan", "one production environment: connects at once"),
    ("sam", "Sam Rivera", "two production environments: chooses"),
    ("kim", "Kim Larsen", "a single environment: connects at once"),
    ("lee", "Lee Novak", "sandboxes only: chooses"),
    ("admin", "Admin", "the organisation's admin"),
)
#: Office display languages the harness offers (the pane has catalogs for each).
LANGUAGES = (
    ("en-US", "English"),
    ("it-IT", "Italiano"),
    ("da-DK", "Dansk"),
    ("pl-PL", "Polski"),
    ("de-DE", "Deutsch"),
)
WIDTHS = (320, 400, 480)


@harness.before_request
def _demo_only() -> None:
    if not current_app.config["DEMO"]:
        abort(404)


@harness.get("")
def page() -> Any:
    """Show the harness: sample items, the pane beside them, and Outlook's settings."""
    report = load_seed_report(current_app.config["SANDBOX_PATH"])
    if report is None:
        abort(503, "The sandbox has no data yet: run 'sidepane seed'.")
    samples = build_samples(
        report,
        rep_address=f"alex@{DEMO_DOMAIN}",
        rep_name="Alex Morgan",
        now=dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0),
    )
    return render_template(
        "harness.html",
        samples=[dataclasses.asdict(s) for s in samples],
        folders=FOLDERS,
        reps=REPS,
        languages=LANGUAGES,
        widths=WIDTHS,
        domain=DEMO_DOMAIN,
    )


from . import entra  # noqa: E402, F401  (the admin-consent page it plays)
