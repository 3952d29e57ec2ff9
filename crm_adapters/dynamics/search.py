"""Fuzzy record search on Dataverse: wide ``contains`` filters, then rapidfuzz ranks.

How a search runs
-----------------
1. Split the text into words with a letter or digit (at most `MAX_WORDS`); nothing to search
   for means no request.
2. Per record type, two GETs (all of them in one ``$batch``), each capped at
   `CANDIDATES_PER_TYPE` rows: records whose name ``contains`` every word, and records whose name
   contains any word or, for words of four letters or more, either of their two overlapping
   halves, so a word with one typo still finds its record ("Costrizioni" → "Costri",
   "rizioni"). The first keeps exact names from being crowded out of the capped answer by
   merely similar ones; a one-word query of under four letters needs only one GET. Text shorter
   than three letters asks ``startswith`` instead. Cases match on ``title`` and ``ticketnumber``.
3. rapidfuzz scores each candidate like the sandbox: mostly how closely each typed word matches
   one of the name's words (a completion of the last word counts as exact), partly the ratio of
   the whole names; records under `MIN_RECORD_SCORE` are dropped, the best ``limit`` returned.

Every word goes through `odata.wildcard` then `odata.literal`: ``%``, ``_``, ``[`` and ``'`` are
data, never syntax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..models import RecordRef
from ..ranking import MIN_RECORD_SCORE, WORD_CHARACTERS, best_first, fold, score_name, scored
from .odata import literal, resource, wildcard
from .records import ENTITY, RecordUrl, Row, text

CANDIDATES_PER_TYPE = 50
MAX_WORDS = 8
#: Words this long also match by either half, to forgive one typo.
HALVES_FROM = 4

#: Searchable types → the columns their text is matched against.
SEARCH_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "account": ("name",),
    "contact": ("fullname",),
    "opportunity": ("name",),
    "case": ("title", "ticketnumber"),
}
#: A word, here and in ranking: letters, digits and underscores.
_WORD = WORD_CHARACTERS


@dataclass(frozen=True, slots=True)
class Query:
    """What one search asks: the words, and the record types in order."""

    text: str
    words: tuple[str, ...]
    types: tuple[str, ...]


def plan(text_typed: str, types: Sequence[str], limit: int) -> Query | None:
    """Return the search to run, or None when there is nothing to ask for."""
    wanted = tuple(t for t in dict.fromkeys(str(t) for t in types) if t in SEARCH_COLUMNS)
    words = tuple(word for word in text_typed.split() if _WORD.search(word))[:MAX_WORDS]
    if limit <= 0 or not wanted or not words:
        return None
    return Query(" ".join(words), words, wanted)


def requests_for(query: Query, record_type: str) -> list[str]:
    """Return the GETs (relative to the API) asking for one type's candidates.

    The first asks for records holding every word (exact names are never crowded out of the
    capped answer by merely similar ones); the second, when it differs, for any word or half.
    """
    columns = SEARCH_COLUMNS[record_type]
    if len(query.text) < 3:
        return [_get(record_type, _any_column(columns, "startswith", query.text))]
    every = " and ".join(
        f"({_any_column(columns, 'contains', word)})" for word in dict.fromkeys(query.words)
    )
    fragments = list(dict.fromkeys(part for word in query.words for part in _fragments(word)))
    loose = " or ".join(_any_column(columns, "contains", fragment) for fragment in fragments)
    if len(fragments) == 1:
        return [_get(record_type, loose)]
    return [_get(record_type, every), _get(record_type, loose)]


def _any_column(columns: Sequence[str], function: str, value: str) -> str:
    return " or ".join(f"{function}({column},{literal(wildcard(value))})" for column in columns)


def _get(record_type: str, condition: str) -> str:
    entity = ENTITY[record_type]
    select = ",".join(dict.fromkeys((entity.key, entity.name_column, *SEARCH_COLUMNS[record_type])))
    return resource(
        entity.entity_set,
        {"$select": select, "$filter": condition, "$top": str(CANDIDATES_PER_TYPE)},
    )


def _fragments(word: str) -> list[str]:
    if len(word) < HALVES_FROM:
        return [word]
    half = (len(word) + 2) // 2
    return [word, word[:half], word[-half:]]


def rank(
    query: Query, found: Mapping[str, list[Row]], limit: int, url: RecordUrl
) -> list[RecordRef]:
    """Return the best ``limit`` candidates of every type, best first."""
    terms = fold(query.text, _WORD).split()
    candidates = []
    for record_type, rows in found.items():
        entity = ENTITY[record_type]
        for row in {text(row, entity.key): row for row in rows}.values():
            record_id, name = text(row, entity.key), text(row, entity.name_column)
            score = score_name(terms, name, _WORD)
            if record_type == "case":
                ticket = text(row, "ticketnumber")
                if ticket and ticket.lower() == query.text.strip().lower():
                    score = 100.0
            if record_id and score >= MIN_RECORD_SCORE:
                candidates.append(scored(score, name, record_type, record_id))
    return best_first(candidates, limit, url)
