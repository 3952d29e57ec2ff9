"""The multilingual fixtures: each email's contact matches its language's ``expected.json``."""

from __future__ import annotations

import importlib.util
import json
import sys
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


def _disclaimers() -> dict[str, str]:
    """Each language's disclaimer as the fixture builder writes it."""
    spec = importlib.util.spec_from_file_location("build_fixtures", FIXTURES / "build_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_fixtures", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return {lang.code: lang.disclaimer for lang in module.LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_disclaimer_is_left_out_of_the_signature(language: str) -> None:
    disclaimer = _disclaimers()[language]
    (path,) = (FIXTURES / language).glob("*_disclaimer.eml")
    result = read_eml(path.read_bytes())
    assert result.signature is not None
    opening = " ".join(disclaimer.split()[:4])
    assert opening not in " ".join(result.signature.split())
