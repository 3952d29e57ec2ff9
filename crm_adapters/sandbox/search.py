"""Fuzzy record search over contacts, accounts, opportunities and cases.

How a query runs
----------------
1. Fold the text (`folding.fold`) and split it into words.
2. Forgive typos word by word, in the *vocabulary* (every distinct word of every record name, a
   few tens of thousands even for a million contacts): a trigram FTS5 index over the vocabulary
   gives the words sharing trigrams with the typed one, rapidfuzz's ``ratio`` keeps the close
   ones ("rosi" → "rossi", "rosa"); words with two letters swapped are looked up directly
   (a swap breaks every trigram of a short word). The last word also counts as a prefix of what
   is being typed ("costr" → "costruzioni").
   Words shorter than three letters (the "S" of "A/S") only count in step 4.
3. Find records in the word index (``search_index``): every typed word must match one of its
   variants, e.g. ``(rossi OR rosa) AND costruzioni``, closest variants first (the best ones,
   then those within `CLOSE_WORD_SCORE`, then all); when that finds fewer than ``limit`` records,
   any word may match. Each record type is asked separately through its block of rowids and
   capped (`CANDIDATES_PER_TYPE`), so a million contacts cannot crowd out the accounts. No bm25
   ordering: it would prefer rare variants ("giuliano") to the word typed ("giulia") and must rank
   every match, while an unordered FTS5 query stops at the cap.
4. Score each candidate with rapidfuzz: mostly how closely each typed word matches one of the
   record's words (``ratio``, completions of the last word count as exact), partly ``ratio`` of
   the whole folded name, so "Rossi Costruzioni S.p.A." beats its longer opportunity names.
   (``WRatio`` alone ranks "Jilani Costruzioni Group" above "Rossi Costruzioni S.p.A." for
   "rosi costruzioni": its partial match ignores the word that differs.)

Why not trigrams over the names directly: common trigrams occur in hundreds of thousands of names,
so a typo-tolerant OR over them makes SQLite rank most of the table. The vocabulary is small, so
fuzzy matching there is cheap, and the word index then fetches only records that are plausible.

Queries shorter than three letters match the start of record names instead, alphabetically.
A case ticket number (``CAS-0001234``) finds its case exactly.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence

from rapidfuzz import fuzz

from ..models import RecordRef
from ..ranking import COVERAGE_WEIGHT, MIN_RECORD_SCORE, best_first, scored
from .convert import RecordUrl
from .folding import fold, words
from .schema import SEARCH_BLOCK_SIZE, SEARCH_BLOCKS

#: Records fetched per type before rapidfuzz scores them.
CANDIDATES_PER_TYPE = 120
#: Vocabulary words tried in place of each typed word.
VARIANTS_PER_WORD = 8
#: rapidfuzz ``ratio`` a vocabulary word needs to stand in for a typed word.
MIN_WORD_SCORE = 75
#: Variants at least this close are tried before the rest.
CLOSE_WORD_SCORE = 85
#: What a completion of the last typed word counts as ("costr" → "costruzioni").
PREFIX_WORD_SCORE = 90
#: Words of a query that count (the rest of a pasted sentence only costs time).
MAX_WORDS = 8
_END = "\U0010ffff"  # sorts after any text, for prefix ranges
_TICKET = re.compile(r"CAS-\d{7}", re.IGNORECASE)

Candidate = tuple[str, str, str, str]  # record type, id, display name, folded name
Variant = tuple[str, float]  # vocabulary word, closeness to the typed word


def worth_asking(text: str, types: Sequence[str], limit: int) -> bool:
    """Return whether a search could find anything (words, a searchable type, a positive limit)."""
    return limit > 0 and bool(words(fold(text))) and any(t in SEARCH_BLOCKS for t in types)


def search_records(
    connection: sqlite3.Connection, text: str, types: Sequence[str], limit: int, url: RecordUrl
) -> list[RecordRef]:
    """Return up to ``limit`` records of ``types`` whose names resemble ``text``, best first."""
    if not worth_asking(text, types, limit):
        return []
    wanted = [t for t in dict.fromkeys(types) if t in SEARCH_BLOCKS]
    if "case" in wanted and _TICKET.fullmatch(text.strip()):
        return _by_ticket(connection, text.strip().upper(), url)
    terms = words(fold(text))[:MAX_WORDS]
    query = " ".join(terms)
    if len(query.replace(" ", "")) < 3:
        candidates = _name_prefix(connection, query, wanted, limit)
    else:
        candidates = _candidates(connection, terms, wanted, limit)
    return _best(terms, candidates, limit, url)


def _by_ticket(connection: sqlite3.Connection, ticket: str, url: RecordUrl) -> list[RecordRef]:
    row = connection.execute(
        "SELECT id, title FROM cases WHERE ticket_number = ?", (ticket,)
    ).fetchone()
    return [RecordRef("case", row[0], row[1], url("case", row[0]))] if row else []


def index_record(
    connection: sqlite3.Connection, record_type: str, record_id: str, name: str
) -> None:
    """Add a new record to the search index and its vocabulary."""
    folded, start = fold(name), SEARCH_BLOCKS[record_type]
    connection.execute(
        "INSERT INTO search_names (entry, record_type, record_id, name, folded) VALUES ("
        " (SELECT COALESCE(MAX(entry), ?) + 1 FROM search_names WHERE entry >= ? AND entry < ?),"
        " ?, ?, ?, ?)",
        (start - 1, start, start + SEARCH_BLOCK_SIZE, record_type, record_id, name, folded),
    )
    connection.executemany(
        "INSERT INTO search_words (word, docs) VALUES (?, 1)"
        " ON CONFLICT (word) DO UPDATE SET docs = docs + 1",
        [(word,) for word in dict.fromkeys(words(folded))],
    )


def _name_prefix(
    connection: sqlite3.Connection, prefix: str, types: list[str], limit: int
) -> list[Candidate]:
    candidates: list[Candidate] = []
    for record_type in types:
        candidates += connection.execute(
            "SELECT record_type, record_id, name, folded FROM search_names"
            " WHERE record_type = ? AND folded >= ? AND folded < ? ORDER BY folded LIMIT ?",
            (record_type, prefix, prefix + _END, limit),
        ).fetchall()
    return candidates


def _variants(connection: sqlite3.Connection, term: str, is_last: bool) -> list[Variant]:
    """Return the vocabulary words that may stand for ``term`` with their closeness, best first."""
    found: dict[str, tuple[float, int]] = {}
    if len(term) >= 3:
        trigrams = sorted({term[i : i + 3] for i in range(len(term) - 2)})
        rows = connection.execute(
            "SELECT w.word, w.docs FROM search_words w WHERE w.id IN ("
            " SELECT rowid FROM search_words_fts WHERE search_words_fts MATCH ?"
            " ORDER BY rank LIMIT 300)",
            (" OR ".join(_quote(trigram) for trigram in trigrams),),
        )
        for word, docs in rows:
            score = fuzz.ratio(term, word)
            if len(word) >= 4 and word in term:  # a lost space or hyphen: "totinoboiardo"
                score = max(score, MIN_WORD_SCORE)
            if score >= MIN_WORD_SCORE:
                found[word] = (score, docs)
        # Two swapped letters break every trigram of a short word ("tnaja" / "tanja"): look the
        # swaps up directly, as close variants (one slip of the fingers).
        swaps = {term[:i] + term[i + 1] + term[i] + term[i + 2 :] for i in range(len(term) - 1)}
        for word, docs in connection.execute(
            "SELECT word, docs FROM search_words WHERE word IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(swaps - {term})),),
        ):
            found[word] = max(found.get(word, (0.0, 0)), (CLOSE_WORD_SCORE, docs))
    if is_last:
        for word, docs in connection.execute(
            "SELECT word, docs FROM search_words WHERE word >= ? AND word < ?"
            " ORDER BY docs DESC LIMIT ?",
            (term, term + _END, VARIANTS_PER_WORD),
        ):
            found[word] = max(found.get(word, (0.0, 0)), (PREFIX_WORD_SCORE, docs))
    ranked = sorted(found.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return [(word, score) for word, (score, _) in ranked[:VARIANTS_PER_WORD]]


def _candidates(
    connection: sqlite3.Connection, terms: list[str], types: list[str], limit: int
) -> list[Candidate]:
    groups = []
    for position, term in enumerate(terms):
        if len(term) >= 3:  # shorter words ("di", the "s" of "A/S") only count when scoring
            variants = _variants(connection, term, is_last=position == len(terms) - 1)
            if variants:
                groups.append(variants)
    if not groups:
        return _name_prefix(connection, " ".join(terms), types, CANDIDATES_PER_TYPE)
    # Closest variants first: bm25 would prefer rare variants ("giuliano") to the typed word.
    tiers = []
    for floor in (None, CLOSE_WORD_SCORE, MIN_WORD_SCORE):
        tier = " AND ".join(_any_of(group, floor) for group in groups)
        if tier not in tiers:
            tiers.append(tier)
    found: dict[str, Candidate] = {}
    for record_type in types:
        of_type: dict[str, Candidate] = {}
        for tier in tiers:
            found_here = _matching(connection, tier, record_type, CANDIDATES_PER_TYPE)
            of_type.update((row[1], row) for row in found_here)
            if len(of_type) >= CANDIDATES_PER_TYPE:
                break
        found.update(of_type)
    if len(found) < limit and len(groups) > 1:  # no record has every word: any word will do
        anywhere = " OR ".join(_any_of(group, MIN_WORD_SCORE) for group in groups)
        for record_type in types:
            found_here = _matching(connection, anywhere, record_type, CANDIDATES_PER_TYPE // 2)
            found.update((row[1], row) for row in found_here)
    return list(found.values())


def _any_of(variants: list[Variant], floor: float | None) -> str:
    """Return an FTS5 OR over the variants scoring at least ``floor`` (None: the best score)."""
    best = variants[0][1]
    floor = best if floor is None else min(floor, best)  # never an empty group
    return "(" + " OR ".join(_quote(word) for word, score in variants if score >= floor) + ")"


def _matching(
    connection: sqlite3.Connection, query: str, record_type: str, cap: int
) -> list[Candidate]:
    """Return up to ``cap`` records of a type matching an FTS5 query."""
    start = SEARCH_BLOCKS[record_type]
    # No ORDER BY rank: FTS5 then streams and stops at the LIMIT instead of ranking every match.
    return connection.execute(
        "SELECT record_type, record_id, name, folded FROM search_names WHERE entry IN ("
        " SELECT rowid FROM search_index WHERE search_index MATCH ?"
        " AND rowid >= ? AND rowid < ? LIMIT ?)",
        (query, start, start + SEARCH_BLOCK_SIZE, cap),
    ).fetchall()


def _best(
    terms: list[str], candidates: list[Candidate], limit: int, url: RecordUrl
) -> list[RecordRef]:
    query = " ".join(terms)
    closeness: list[dict[str, float]] = [{} for _ in terms]  # per typed word: name word -> ratio
    found = []
    for record_type, record_id, name, folded in candidates:
        name_words = words(folded)
        if not name_words:
            continue
        covered = 0.0
        for position, term in enumerate(terms):
            best = 0.0
            for word in name_words:
                ratio = closeness[position].get(word)
                if ratio is None:
                    is_completion = position == len(terms) - 1 and word.startswith(term)
                    ratio = 100.0 if is_completion else fuzz.ratio(term, word)
                    closeness[position][word] = ratio
                best = max(best, ratio)
            covered += best * len(term)
        coverage = covered / len(query.replace(" ", ""))
        score = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * fuzz.ratio(query, folded)
        if score >= MIN_RECORD_SCORE:
            found.append(scored(score, name, record_type, record_id))
    return best_first(found, limit, url)


def _quote(term: str) -> str:
    """Quote a term for an FTS5 query, so words like AND or NEAR stay words."""
    return '"' + term.replace('"', '""') + '"'
