"""What one line of a message is: prose, contact details, an address, a title, an organisation.

These small predicates are shared by block finding and field reading; each is a couple of
precompiled regex searches, so a whole message is classified in microseconds.
"""

from __future__ import annotations

import re

from addin.signature import lexicon

EMAIL = re.compile(r"[\w.+'\-]+@[\w\-]+(?:\.[\w\-]+)+")
URL = re.compile(
    r"(?<![@\w.\-])(?:(?:https?://)?(?:www\d?\.)[\w\-]+(?:\.[\w\-]+)+|https?://[\w\-]+(?:\.[\w\-]+)+"
    r"|[\w\-]+(?:\.[\w\-]+)*\.(?:com|net|org|de|it|dk|pl|fr|es|nl|be|at|ch|eu|io|co\.uk|uk|biz|"
    r"info|se|no|pt|lu|ie))(?![\w@\-])(?:/[^\s<>\"')]*)?",
    re.IGNORECASE,
)
# A run of digits that can be a phone number: at least 7 digits overall, common separators.
PHONE_CANDIDATE = re.compile(r"(?:\+|\b00|\(\+?)?\d[\d \t().\-/\u00a0\u2011\u2013]{5,22}\d")
EXTENSION = re.compile(
    r"(?:^|\s)(?:x|ext\.?|extn\.?|durchwahl|dw\.?)\s?-?\d{3,6}\b|^\s*\(?\d{1,3}\)?[-.]\d{4}\.?\s*$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d")

ADDRESS = re.compile(
    r"(?:\b(?:street|st\.|str\.|straße|strasse|avenue|ave\.?|road|rd\.|boulevard|blvd|suite|"
    r"floor|p\.?\s?o\.? box|postfach|via|viale|piazza|piazzale|corso|largo|vicolo|rue|allée|"
    r"chemin|place|bd\.?|calle|c/|avda\.?|avenida|plaza|paseo|ctra\.?|ul\.|ulica|al\.|aleja|"
    r"plac|os\.|straat|laan|weg|plein|gracht|kade|singel|gade|vej|allé|torv|plads|stræde)\b"
    r"|\w(?:straße|strasse|str\.|weg|gasse|platz|allee|damm|straat|laan|gracht|plein|"
    r"vej|vænget)\b"
    r"|\b\d{2}-\d{3}\s+\w|\b(?:[A-Z]{1,2}-)?\d{4,5}\s+[A-ZÀ-Þ][\w\-]+"
    r"|\b[A-Z][a-z]+,?\s+[A-Z]{2}\.?\s+\d{5}\b)",
    re.IGNORECASE,
)

_FUNCTION_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "to",
        "of",
        "is",
        "are",
        "was",
        "you",
        "we",
        "i",
        "for",
        "in",
        "that",
        "this",
        "it",
        "be",
        "will",
        "have",
        "has",
        "please",
        "me",
        "my",
        "if",
        "on",
        "with",
        "as",
        "at",
        "your",
        "our",
        "can",
        "not",
        "do",
        "but",
        "so",
        "all",
        "would",
        "should",
        "could",
        "just",
        "know",
        "let",
        "get",
        "here",
        "there",
        "what",
        "when",
        "which",
        "who",
        "any",
        "been",
        "from",
        "by",
        "or",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "wir",
        "sie",
        "ich",
        "mit",
        "für",
        "bitte",
        "zu",
        "den",
        "dem",
        "ein",
        "eine",
        "nicht",
        "es",
        "auf",
        "auch",
        "noch",
        "le",
        "la",
        "les",
        "et",
        "est",
        "nous",
        "vous",
        "je",
        "pour",
        "avec",
        "une",
        "un",
        "des",
        "du",
        "en",
        "que",
        "ne",
        "pas",
        "il",
        "elle",
        "sur",
        "el",
        "los",
        "las",
        "y",
        "es",
        "que",
        "por",
        "para",
        "con",
        "una",
        "nos",
        "se",
        "no",
        "lo",
        "como",
        "pero",
        "il",
        "è",
        "che",
        "di",
        "per",
        "con",
        "ci",
        "non",
        "si",
        "ho",
        "sono",
        "della",
        "questo",
        "het",
        "een",
        "en",
        "is",
        "wij",
        "ik",
        "je",
        "u",
        "van",
        "voor",
        "met",
        "op",
        "niet",
        "dat",
        "zijn",
        "ook",
        "og",
        "er",
        "vi",
        "jeg",
        "du",
        "at",
        "det",
        "til",
        "med",
        "på",
        "for",
        "ikke",
        "har",
        "som",
        "kan",
        "w",
        "z",
        "na",
        "że",
        "się",
        "jest",
        "nie",
        "do",
        "to",
        "jak",
        "o",
        "po",
    ]
)
_SENTENCE_END = re.compile(r"[.?!:;,]\s*$")
_ABBREVIATION_END = re.compile(
    r"\b(?:inc|corp|co|ltd|jr|sr|st|dept|bros|int|e\.v|b\.v|n\.v|s\.a|s\.l|s\.p\.a|s\.r\.l|"
    r"o\.o|e\.k)\.\s*$",
    re.IGNORECASE,
)


def digit_count(text: str) -> int:
    return len(_DIGITS.findall(text))


def has_contact(line: str) -> bool:
    """A phone, an email address, a short website or an extension is on this line."""
    if "@" in line and EMAIL.search(line):
        return True
    if len(line) < 90 and "." in line and URL.search(line):
        return True
    if not _DIGITS.search(line):
        return False  # neither an extension nor a phone
    if EXTENSION.search(line):
        return True
    match = PHONE_CANDIDATE.search(line)
    return match is not None and digit_count(match.group()) >= 7


def is_address(line: str) -> bool:
    return ADDRESS.search(line) is not None


def is_title(line: str) -> bool:
    return bool(lexicon.TITLE_WORDS.search(line) or lexicon.TITLE_COMPOUND.search(line))


def is_organisation(line: str) -> bool:
    return bool(lexicon.LEGAL_FORM.search(line) or lexicon.ORGANISATION_WORDS.search(line))


def ends_sentence(line: str) -> bool:
    """The line ends with a sentence's (or a clause's) punctuation."""
    return _SENTENCE_END.search(line) is not None


def is_prose(line: str) -> bool:
    """Tell whether a line reads like a sentence of the message rather than a signature line."""
    words = line.split()
    count = len(words)
    if count <= 2:
        return False
    if count <= 8 and lexicon.LEGAL_FORM.search(line):
        return False
    if digit_count(line) >= 5 and lexicon.NOT_A_PHONE.search(line):
        # Company register and VAT lines are long but belong to the signature.
        return False
    if len(line) > 110 and not has_contact(line):
        return True
    function_words = sum(1 for w in words if w.lower().strip(",.!?:;()\"'") in _FUNCTION_WORDS)
    if count >= 9 and function_words >= 2:
        return True
    if count >= 4 and _SENTENCE_END.search(line) and not _ABBREVIATION_END.search(line):
        return function_words >= 1 or count >= 7
    return count >= 4 and function_words >= 3
