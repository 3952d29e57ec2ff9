"""The pane speaks the rep's language: the one Office displays, among those we translate.

pane.js sends ``Office.context.displayLanguage`` (e.g. ``it-IT``) as ``Accept-Language`` with
every request; outside Office the browser's own header applies. Catalogs live in
``addin/translations/<lang>/LC_MESSAGES/messages.po`` (compiled to ``.mo`` beside them); see the
README for extracting and updating them.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel, get_locale

#: Languages with complete catalogs; English is the source language.
LANGUAGES = ("en", "it", "da", "pl", "de")


def select_locale() -> str:
    """Pick the best of our languages for this request; English when none fits."""
    return request.accept_languages.best_match(LANGUAGES) or "en"


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.context_processor(lambda: {"get_locale": get_locale})
