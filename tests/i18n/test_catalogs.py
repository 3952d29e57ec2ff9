"""The pane speaks every language it claims: complete catalogs, in step with the sources, chosen
from the language Office displays (sent by pane.js as Accept-Language)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from addin import create_app
from addin.i18n import LANGUAGES
from crm_adapters.sandbox import SeedReport

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "addin" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
#: English is the source language: it has no catalog.
TRANSLATED = [language for language in LANGUAGES if language != "en"]
#: A printf-style conversion: ``%(name)s``, ``%s``, ``%.2f``... and the escaped ``%%``.
CONVERSION = re.compile(r"%(?:\(\w+\))?[-#0 +]?\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def msgids(catalog: Catalog) -> set[tuple[object, str | None]]:
    return {(message.id, message.context) for message in catalog if message.id}


def conversions(text: str) -> Counter[str]:
    return Counter(CONVERSION.findall(text))


def forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def entries(language: str) -> Iterator[Message]:
    yield from (message for message in load(po_path(language), language) if message.id)


@pytest.fixture(scope="module")
def template() -> Catalog:
    return load(TEMPLATE)


def test_every_language_has_a_catalog_and_every_catalog_a_language():
    on_disk = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert on_disk == sorted(TRANSLATED)


def test_the_template_is_up_to_date_with_the_sources(template, tmp_path):
    """A new _() string in the pane's Python or templates fails here until `make translations`."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-o", str(fresh), "."],
        cwd=ROOT,
        check=True,
    )  # fmt: skip
    extracted, committed = msgids(load(fresh)), msgids(template)
    assert extracted - committed == set(), "new strings: run `make translations`, then translate"
    assert committed - extracted == set(), "strings no longer used: run `make translations`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated(language, template):
    catalog = load(po_path(language), language)
    assert not catalog.fuzzy, "the catalog header is fuzzy: pybabel compile would skip it"
    assert msgids(catalog) == msgids(template), "run `make translations` to merge the template"
    untranslated = [m.id for m in catalog if m.id and not all(s.strip() for s in forms(m.string))]
    assert untranslated == []
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == [], "fuzzy entries are guesses pybabel compile leaves out: check and unflag"
    wrong_forms = [m.id for m in catalog if m.pluralizable and len(m.string) != catalog.num_plurals]
    assert wrong_forms == [], f"plurals need {catalog.num_plurals} forms in {language}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_of_the_source(language):
    for message in entries(language):
        sources = forms(message.id)
        for translation in forms(message.string):
            if len(sources) == 1:
                # Same placeholders, same number of times: a lost one hides a value, a new or
                # misspelt one breaks the page (Jinja's gettext always applies %).
                expected = conversions(sources[0])
                assert conversions(translation) == expected, (message.id, translation)
            else:
                # Plural forms may leave the count out (e.g. "One contact").
                allowed = set(conversions(sources[0])) | set(conversions(sources[1]))
                assert set(conversions(translation)) <= allowed, (message.id, translation)
            # A number for %(name)d, text for the rest: as the views pass them.
            names = {
                name: 1 if kind == "d" else "x"
                for name, kind in re.findall(r"%\((\w+)\)(\w)", "".join(sources))
            }
            assert isinstance(translation % names, str)  # as gettext(..., **names) formats it


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_mo_files_are_the_compiled_po_files(language):
    """The app loads the .mo files; `make translations` compiles them after every .po change."""
    compiled = io.BytesIO()
    write_mo(compiled, load(po_path(language), language))
    committed = po_path(language).with_suffix(".mo")
    stale = "run `make translations` (pybabel compile)"
    assert committed.exists(), stale
    assert committed.read_bytes() == compiled.getvalue(), stale


# --- the app picks the language --------------------------------------------------------------


@pytest.fixture
def client(sandbox: tuple[Path, SeedReport], tmp_path: Path) -> Iterator[FlaskClient]:
    from addin import store

    url = f"sqlite:///{tmp_path / 'i18n.db'}"
    store.upgrade(url)
    app: Flask = create_app(
        {
            "TESTING": True,
            "DEMO": True,
            "BROKER_URL": "memory://",
            "DATABASE_URL": url,
            "SANDBOX_PATH": str(sandbox[0]),
        }
    )
    yield app.test_client()
    app.extensions["store_engine"].dispose()


def page_language(client: FlaskClient, accept_language: str) -> str:
    html = client.get("/pane", headers={"Accept-Language": accept_language}).get_data(as_text=True)
    match = re.search(r'<html lang="([^"]*)">', html)
    assert match, html[:200]
    return match.group(1)


@pytest.mark.parametrize(
    ("office_language", "expected"),
    [
        ("it-IT", "it"),
        ("it", "it"),
        ("da-DK", "da"),
        ("pl-PL", "pl"),
        ("de-CH", "de"),
        ("en-GB", "en"),
        ("ja-JP", "en"),  # not translated: English
        ("ja-JP,de;q=0.5", "de"),  # the browser's fallbacks count outside Office
    ],
)
def test_the_page_is_in_the_language_office_displays(client, office_language, expected):
    assert page_language(client, office_language) == expected


def test_the_page_strings_are_translated(client):
    html = client.get("/pane", headers={"Accept-Language": "pl-PL"}).get_data(as_text=True)
    assert "Nic nie zaznaczono" in html and "Nothing selected" not in html


def view_without_item(client: FlaskClient, accept_language: str) -> str:
    response = client.post(
        "/pane/view",
        json={"item": None},
        headers={"Authorization": "Bearer demo:alex", "Accept-Language": accept_language},
    )
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_the_fragments_are_in_the_language_office_displays(client):
    danish = view_without_item(client, "da-DK")
    assert "Intet valgt" in danish
    assert "Vælg en mail eller et møde for at se, hvem der er med." in danish
    assert "Nothing selected" not in danish
    assert "Nessun elemento selezionato" in view_without_item(client, "it")
    assert "Nichts ausgewählt" in view_without_item(client, "de-DE")


def test_an_untranslated_language_falls_back_to_english(client):
    html = view_without_item(client, "ja-JP")
    assert "Nothing selected" in html
    assert "Select an email or a meeting to see who is in it." in html
