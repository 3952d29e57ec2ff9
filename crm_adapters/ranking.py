"""Ranking of fuzzy record search candidates: rapidfuzz scores, best ``limit`` first.

The Dynamics and Salesforce adapters (``dynamics/search.py``, ``salesforce/search.py``) fetch
candidates their own way and score them here; the sandbox (``sandbox/search.py``) scores with
its own cached loop, but by the same weights (`COVERAGE_WEIGHT`, `MIN_RECORD_SCORE`), and orders
and cuts its answer with `best_first` too.

Features
--------
* `fold`: lower case, accents stripped, words joined by single spaces.
* `score_name`: how well a name matches the typed (folded) words, 0 to 100: mostly how closely
  each typed word matches one of the name's words (a completion of the last word counts as
  exact), partly (1 - `COVERAGE_WEIGHT`) the ratio of the whole names.
* `best_first`: scored candidates → the best ``limit`` `RecordRef`, best score first, then the
  shorter name, then by name, type and id.

What counts as a word is the caller's: `LETTERS_AND_DIGITS` (the default, Salesforce's) or
`WORD_CHARACTERS` (Dataverse's, which keeps ``_``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from rapidfuzz import fuzz

from .models import RecordRef

#: Score a record needs to be returned at all.
MIN_RECORD_SCORE = 60
#: Share of a record's score from how well each typed word matches one of its words; the rest
#: is rapidfuzz ``ratio`` of the whole name, so of two names containing the words the shorter wins.
COVERAGE_WEIGHT = 0.8
#: Words of letters and digits only.
LETTERS_AND_DIGITS = re.compile(r"[^\W_]+")
#: Words of letters, digits and underscores.
WORD_CHARACTERS = re.compile(r"\w+")

#: One scored candidate: (-score, len(name), name, record type, record id); sorts best first.
Scored = tuple[float, int, str, str, str]


def fold(value: str, word: re.Pattern[str] = LETTERS_AND_DIGITS) -> str:
    """Lower-case, strip accents, keep the words: "Ølgaard A/S" → "ølgaard a s"."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(word.findall(plain))


def score_name(terms: list[str], name: str, word: re.Pattern[str] = LETTERS_AND_DIGITS) -> float:
    """Return how well a name matches the typed (folded) words, 0 to 100."""
    name_words = word.findall(fold(name, word))
    letters = sum(len(term) for term in terms)
    if not name_words or not letters:
        return 0.0
    covered = 0.0
    for position, term in enumerate(terms):
        is_last = position == len(terms) - 1
        best = max(
            100.0 if is_last and candidate.startswith(term) else fuzz.ratio(term, candidate)
            for candidate in name_words
        )
        covered += best * len(term)
    whole = fuzz.ratio(" ".join(terms), " ".join(name_words))
    return COVERAGE_WEIGHT * covered / letters + (1 - COVERAGE_WEIGHT) * whole


def scored(score: float, name: str, record_type: str, record_id: str) -> Scored:
    """Return one candidate as `best_first` sorts it."""
    return (-score, len(name), name, record_type, record_id)


def best_first(
    candidates: Iterable[Scored], limit: int, url: Callable[[str, str], str]
) -> list[RecordRef]:
    """Return the best ``limit`` candidates as `RecordRef`, best first."""
    ordered = sorted(candidates)
    return [
        RecordRef(record_type, record_id, name, url(record_type, record_id))
        for _, _, name, record_type, record_id in ordered[:limit]
    ]
