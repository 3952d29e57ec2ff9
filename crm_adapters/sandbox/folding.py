"""Text folding shared by the seed, the search index and search queries.

Features
--------
* `fold` turns a display name into what the search index holds: lower case, diacritics removed,
  letters that Unicode does not decompose mapped by hand (``Ł`` → ``l``, ``Ø`` → ``o``,
  ``ß`` → ``ss``), so "Lukasz Wrobel" finds "Łukasz Wróbel" and "Soren" finds "Søren".
* `mailbox_name` turns a name into the local part or domain label of a realistic address, with
  the transliterations people use in addresses (``ü`` → ``ue``, ``ø`` → ``oe``, ``å`` → ``aa``).
* `words` splits folded text the way the FTS5 ``unicode61`` tokenizer does, so the vocabulary
  the seed counts and the terms the index holds are the same strings.

Both folds are pure functions of their input: index and query always agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters NFKD leaves alone (no combining mark to strip).
_SEARCH_LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "æ": "ae",
        "ß": "ss",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "œ": "oe",
        "\N{LATIN SMALL LETTER DOTLESS I}": "i",
    }
)
# How Germans and Danes spell their letters in addresses; the rest falls back to `fold`.
_ADDRESS_LETTERS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ø": "oe", "å": "aa", "æ": "ae", "ß": "ss"}
)
_WORD = re.compile(r"[^\W_]+")
_NOT_LABEL = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Return ``text`` lower-cased without diacritics, for indexing and querying."""
    lowered = text.lower().translate(_SEARCH_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(folded: str) -> list[str]:
    """Split folded text into index terms (letters and digits, as ``unicode61`` does)."""
    return _WORD.findall(folded)


@lru_cache(maxsize=65536)
def mailbox_name(text: str, separator: str = "") -> str:
    """Return ``text`` as an ASCII address part: ``"Jürgen Müller"`` → ``"juergenmueller"``."""
    ascii_text = fold(text.lower().translate(_ADDRESS_LETTERS))
    return _NOT_LABEL.sub(separator, ascii_text).strip("-.")
