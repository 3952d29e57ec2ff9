"""Fuzzy record search on Salesforce: ``parameterizedSearch`` finds candidates, rapidfuzz ranks.

How a search runs
-----------------
1. Split the text into words of letters and digits (at most `MAX_WORDS`); SOSL's reserved
   characters never reach Salesforce, nor do its operator words (``AND``, ``OR``, ``NOT``).
   Nothing left to search for means no request.
2. One composite batch of ``parameterizedSearch`` GETs (contract request 3), each asking every
   wanted object for `CANDIDATES` records: one for all the words, and, so that a word with a
   typo still finds its record, one per word alone (of two letters or more: Salesforce refuses
   shorter search terms) and one per word's first `PREFIX_LETTERS` letters as a prefix
   (``Cos*`` for "Cosrtuzioni"). Salesforce's index matches whole words; ``*`` makes a prefix.
   A search term Salesforce finds too short (``INVALID_SEARCH``) finds nothing.
3. rapidfuzz scores each candidate like the sandbox: mostly how closely each typed word matches
   one of the name's words (a completion of the last word counts as exact), partly the ratio of
   the whole names; records under `MIN_RECORD_SCORE` are dropped, the best ``limit`` returned.
   A case matches on its subject, and exactly on its case number: when cases are asked for and
   the text is one token, the batch also looks the number up with SOQL (Salesforce's search
   index splits ``CAS-0001234`` into words).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simple_salesforce.format import format_soql

from ..models import RecordRef
from ..ranking import (
    LETTERS_AND_DIGITS,
    MIN_RECORD_SCORE,
    best_first,
    fold,
    score_name,
    scored,
)
from .records import RecordUrl, Row, text
from .transport import query_url, search_url

CANDIDATES = 50
MAX_WORDS = 8
#: A word this long is also searched by its first `PREFIX_LETTERS` letters.
PREFIX_LETTERS = 3
#: SOSL operators: never sent as words.
OPERATORS = frozenset({"and", "or", "not"})
#: Salesforce's refusal of a search term under two characters: it finds nothing.
TOO_SHORT = frozenset({"INVALID_SEARCH"})


@dataclass(frozen=True, slots=True)
class Searchable:
    """One record type as search asks for it and reads it."""

    sobject: str
    fields: tuple[str, ...]
    name_field: str


#: Searchable types → their objects.
SEARCHABLE: Mapping[str, Searchable] = {
    "account": Searchable("Account", ("Id", "Name"), "Name"),
    "contact": Searchable("Contact", ("Id", "Name"), "Name"),
    "opportunity": Searchable("Opportunity", ("Id", "Name"), "Name"),
    "case": Searchable("Case", ("Id", "Subject", "CaseNumber"), "Subject"),
}
_WORD = LETTERS_AND_DIGITS


@dataclass(frozen=True, slots=True)
class Query:
    """What one search asks: the words typed, and the record types in order."""

    typed: str
    text: str
    words: tuple[str, ...]
    types: tuple[str, ...]


def plan(typed: str, types: Sequence[str], limit: int) -> Query | None:
    """Return the search to run, or None when there is nothing to ask for."""
    wanted = tuple(t for t in dict.fromkeys(str(t) for t in types) if t in SEARCHABLE)
    words = tuple(_WORD.findall(typed))[:MAX_WORDS]
    if limit <= 0 or not wanted or not [w for w in words if w.lower() not in OPERATORS]:
        return None
    return Query(typed.strip(), " ".join(words), words, wanted)


def search_terms(query: Query) -> list[str]:
    """Return the search strings of one search: all the words, each alone, each's prefix."""
    words = [word for word in query.words if word.lower() not in OPERATORS]
    terms = [" ".join(words)]
    terms += [word for word in words if len(word) > 1] if len(words) > 1 else []
    terms += [
        f"{word[:PREFIX_LETTERS]}*"
        for word in words
        if len(word) > PREFIX_LETTERS and not word.isdigit()
    ]
    return list(dict.fromkeys(terms))


def search_urls(query: Query, version: str) -> list[str]:
    """Return the subrequest URLs of one search: `search_terms`' searches, then a case number's
    lookup when cases are asked for and the text could be one."""
    urls = []
    for term in search_terms(query):
        parameters = [("q", term)]
        for record_type in query.types:
            searchable = SEARCHABLE[record_type]
            parameters += [
                ("sobject", searchable.sobject),
                (f"{searchable.sobject}.fields", ",".join(searchable.fields)),
                (f"{searchable.sobject}.limit", str(CANDIDATES)),
            ]
        urls.append(search_url(version, parameters))
    if "case" in query.types and query.typed and not any(c.isspace() for c in query.typed):
        number = format_soql(
            "SELECT Id, Subject, CaseNumber FROM Case WHERE CaseNumber = {number} LIMIT 1",
            number=query.typed,
        )
        urls.append(query_url(version, number))
    return urls


def rank(query: Query, found: Sequence[Row], limit: int, url: RecordUrl) -> list[RecordRef]:
    """Return the best ``limit`` of the records found, best first."""
    types = {SEARCHABLE[t].sobject: t for t in query.types}
    terms = fold(query.text).split()
    candidates = []
    seen: set[str] = set()
    for row in found:
        attributes = row.get("attributes")
        sobject = attributes.get("type") if isinstance(attributes, Mapping) else None
        record_type = types.get(sobject) if isinstance(sobject, str) else None
        record_id = text(row, "Id")
        if record_type is None or not record_id or record_id in seen:
            continue
        seen.add(record_id)
        searchable = SEARCHABLE[record_type]
        name = text(row, searchable.name_field)
        score = score_name(terms, name)
        if record_type == "case":
            number = text(row, "CaseNumber")
            name = name or number
            if number and number.lower() == query.typed.lower():
                score = 100.0
        if score >= MIN_RECORD_SCORE:
            candidates.append(scored(score, name, record_type, record_id))
    return best_first(candidates, limit, url)
