"""People's names: the sender's display name, name lines in a signature, first/last split.

- ``fold`` compares names without case or diacritics ("Jose" matches "José", "Lodz" "Łódź").
- ``Sender`` reads the From display name in its usual shapes: "First Last", "Last, First",
  Exchange's "Last  First M." (two spaces), Lotus Notes' "First Last/HOU/ECT@ECT", quoted or with a
  "(Company)" or "[Company]" suffix, and the address' local part as a last resort.
- ``split_name`` keeps surname particles and double surnames in the last name and drops academic
  and honorific prefixes and post-nominals.
"""

from __future__ import annotations

import functools
import importlib
import re
import unicodedata
from dataclasses import dataclass

from addin.signature import lexicon

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?", re.UNICODE)
_NOTES_SUFFIX = re.compile(r"[/@].*$")
_BRACKETED = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*")
_EXTRA_FOLDS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE",
                              "ß": "ss", "đ": "d", "Đ": "D", "\u2019": "'"})  # fmt: skip
# Words that appear in display names but are not part of the person's name.
_NOT_NAME_WORDS = frozenset(
    {"enron", "ect", "hou", "corp", "mail", "email", "e-mail", "smtp", "exchange", "admin", "info",
     "office", "team", "support", "noreply", "the", "and", "via", "on", "behalf", "of"}
)  # fmt: skip
_FIRST_NAME_LOCALES = ("en_US", "en_GB", "it_IT", "da_DK", "pl_PL", "de_DE", "fr_FR", "es_ES",
                       "nl_NL")  # fmt: skip
# Words that make a display name a team's or a system's, not a person's.
_NOT_PERSON_WORDS = frozenset(
    {"announcement", "announcements", "management", "team", "desk", "support", "service",
     "services", "notification", "notifications", "news", "newsletter", "department", "system",
     "noreply", "no-reply", "helpdesk", "info", "sales", "office", "customer", "kundenservice",
     "service-client", "servicio", "assistenza", "klantenservice", "kundeservice", "obsługa"}
)  # fmt: skip
# Uppercase-initial word, with its diacritics and inner apostrophes or hyphens ("O'Neill").
_NAME_TOKEN = re.compile(r"^(?:[A-ZÀ-ÞĀ-Ž][\w'\u2019\-]*\.?|[A-Z]\.)$")


@functools.cache
def first_names() -> frozenset[str]:
    """Given names in our eight languages, folded; Faker's locale lists (a project dependency)."""
    found: set[str] = set()
    for locale in _FIRST_NAME_LOCALES:
        try:
            module = importlib.import_module(f"faker.providers.person.{locale}")
        except ImportError:
            continue
        found.update(fold(name) for name in getattr(module.Provider, "first_names", ()))
    return frozenset(found)


def is_first_name(word: str) -> bool:
    return fold(word.strip(".,;:!")) in first_names()


def fold(text: str) -> str:
    """Lower-case and strip diacritics, for comparisons only."""
    if text.isascii():
        return text.lower()
    text = text.translate(_EXTRA_FOLDS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@dataclass(frozen=True, slots=True)
class Sender:
    """The sender as the From header names them."""

    first: str
    last: str
    tokens: frozenset[str]
    initials: frozenset[str]

    @property
    def known(self) -> bool:
        return bool(self.tokens)


def read_sender(display_name: str, address: str) -> Sender:
    """Read first and last name from the From display name (and address as a fallback)."""
    first, last = _display_name_parts(display_name)
    local = address.split("@", 1)[0] if "@" in address else ""
    local_words = [w for w in re.split(r"[._\-+0-9]+", local) if len(w) > 1]
    if not first and not last and len(local_words) == 2:
        first, last = local_words[0].capitalize(), local_words[1].capitalize()
    words = [fold(w) for w in _WORD.findall(f"{first} {last}")]
    if any(w in _NOT_PERSON_WORDS for w in words):
        # A mailbox of a team or a system ("IT Service Desk"): no person's name to look for.
        return Sender(first="", last="", tokens=frozenset(), initials=frozenset())
    tokens = {w for w in words if len(w) > 1 and w not in _NOT_NAME_WORDS}
    tokens.update(fold(w) for w in local_words if len(w) > 2 and fold(w) not in _NOT_NAME_WORDS)
    initials: set[str] = set()
    first_words = [fold(w) for w in _WORD.findall(first)]
    last_words = [fold(w) for w in _WORD.findall(last)]
    if first_words and last_words:
        initials.add(first_words[0][0] + last_words[-1][0])
        initials.add("".join(w[0] for w in first_words + last_words))
    return Sender(first=first, last=last, tokens=frozenset(tokens), initials=frozenset(initials))


def _display_name_parts(display_name: str) -> tuple[str, str]:
    name = display_name.strip().strip("'\"").strip()
    if not name or ("@" in name.split("/")[0] and " " not in name):
        return "", ""
    name = _BRACKETED.sub(" ", name).strip().strip("'\"").strip()
    name = _NOTES_SUFFIX.sub("", name) if ("/" in name or "@" in name) else name
    if "," in name:
        last, _, first = name.partition(",")
        first_name, _ = split_name(first.strip())
        return first_name or first.strip(), last.strip()
    if "  " in name:
        # Exchange's "Last  First M." export: two spaces between last and first name.
        last, _, first = name.partition("  ")
        words = first.split()
        return (words[0] if words else ""), last.strip()
    return split_name(name)


def split_name(name: str) -> tuple[str, str]:
    """Split a person's name into first and last, keeping particles and double surnames."""
    words = [w for w in name.replace(",", " ").split() if w]
    while words and words[0].lower() in lexicon.NAME_PREFIXES:
        words.pop(0)
    while words and (
        words[-1].lower().strip(",") in lexicon.NAME_SUFFIXES
        or words[-1].lower() in lexicon.NAME_PREFIXES
    ):
        words.pop()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    first = [words[0]]
    rest = words[1:]
    # Compound first names written with a hyphen stay whole; middle initials are dropped.
    while len(rest) > 1 and _is_initial(rest[0]):
        rest.pop(0)
    return " ".join(first), " ".join(rest)


def _is_initial(word: str) -> bool:
    return len(word.rstrip(".")) == 1 and word[0].isalpha()


def looks_like_person_name(line: str) -> bool:
    """A line of 1-4 capitalised words (plus particles and initials), no digits or symbols."""
    if len(line) > 45 or any(ch.isdigit() for ch in line) or "@" in line:
        return False
    words = line.replace(",", " ").split()
    while words and words[0].lower() in lexicon.NAME_PREFIXES:
        words.pop(0)
    while words and words[-1].lower().strip(",") in lexicon.NAME_SUFFIXES:
        words.pop()
    if not 1 <= len(words) <= 4:
        return False
    capitalised = 0
    for word in words:
        if word.lower() in lexicon.SURNAME_PARTICLES:
            continue
        if not _NAME_TOKEN.match(word):
            return False
        capitalised += 1
    return capitalised >= 1


def matches_sender(line: str, sender: Sender) -> bool:
    """Tell whether a short line names the sender (a name, a surname, or their initials)."""
    if not sender.known or len(line) > 60:
        return False
    words = [fold(w) for w in _WORD.findall(line)]
    if not words or len(words) > 6:
        return False
    if any(w in sender.tokens for w in words if len(w) > 1):
        return True
    # Names run together ("JohnAnderson") or with a suffix still contain the surname.
    if any(t in w for w in words if len(w) > 6 for t in sender.tokens if len(t) > 3):
        return True
    compact = "".join(words)
    return len(words) <= 2 and compact in sender.initials
