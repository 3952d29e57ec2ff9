"""The multilingual fixtures: each email's contact matches its language's ``expected.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from addin.signature import read_eml

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LANGUAGES = ("en", "it", "da", "pl", "de", "fr", "es", "nl")


def _cases() -> list[tuple[str, str, dict[str, object]]]:
    cases = []
    for language in LANGUAGES:
        expected = json.loads((FIXTURES / language / "expected.json").read_text(encoding="utf-8"))
        cases.extend((language, name, want) for name, want in sorted(expected.items()))
    return cases


CASES = _cases()


def test_every_language_has_ten_emails_plain_and_html() -> None:
    for language in LANGUAGES:
        names = [name for lang, name, _ in CASES if lang == language]
        assert len(names) >= 10
        assert any("html" in name for name in names)
        assert any("plain" in name for name in names)


@pytest.mark.parametrize(
    ("language", "name", "want"), CASES, ids=[f"{lang}/{name}" for lang, name, _ in CASES]
)
def test_fixture_contact(language: str, name: str, want: dict[str, object]) -> None:
    result = read_eml((FIXTURES / language / name).read_bytes())
    assert result.contact() == want["contact"]
    assert result.has_signature == want["has_signature"]
