"""Phone numbers in a signature: found, labelled (work / mobile / fax), normalised to E.164.

Numbers are parsed and validated with the ``phonenumbers`` library. A number written without its
country code is read in the first country the signature points to where it is valid
(``countries_of``): an explicit country name, a distinctive postcode, the company's legal form,
the website's or address' top-level domain, the valediction's language, then the United States.

Not phones: VAT and company-register numbers, bank details, postcodes and dates. A line that names
such an identifier yields no phone unless the number itself carries a phone label.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

from addin.signature import lexicon, lines

_MIN_DIGITS = 7
_MAX_DIGITS = 15
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")
_LABEL_SPLIT = re.compile(r"[|•·;,\t]|\s{3,}")
_HOST = re.compile(r"(?:@|\b(?:www\.)?)[\w\-]+(?:\.[\w\-]+)*\.([a-z]{2})\b", re.IGNORECASE)
_FALLBACK_REGION = "US"
_DIGIT = re.compile(r"\d")
# A label is a few words ("Facsimile Transmission No.:"); text further left is not one.
_MAX_LABEL_CHARS = 40


@dataclass(frozen=True, slots=True)
class Phone:
    """One phone of the contact."""

    kind: str  # "work", "mobile" or "fax"
    e164: str


def countries_of(texts: list[str], from_address: str, valediction: str) -> tuple[str, ...]:
    """Every country the signature points to, strongest clue first, the United States last.

    A number is read in the first of them where it is valid: the clues can disagree (an "LLP"
    is British or American), and a number that is invalid in one country may be valid in the
    next.
    """
    joined = "\n".join(texts)
    found: list[str] = []
    match = lexicon.COUNTRY_NAME.search(joined)
    if match:
        found.append(lexicon.COUNTRY_NAMES[match.group().lower()])
    for pattern, country in lexicon.POSTCODE_COUNTRY[:-1]:
        if pattern.search(joined):
            found.append(country)
            break
    for form in lexicon.LEGAL_FORM.findall(joined):
        country = lexicon.LEGAL_FORM_COUNTRY.get(form, "")
        if country:
            found.append(country)
            break
    for host in _HOST.finditer(joined + "\n" + from_address):
        tld_country = lexicon.TLD_COUNTRY.get(host.group(1).lower())
        if tld_country:
            found.append(tld_country)
            break
    for pattern, country in lexicon.VALEDICTION_COUNTRY:
        if valediction and pattern.search(valediction):
            found.append(country)
            break
    found.append(_FALLBACK_REGION)
    return tuple(dict.fromkeys(found))


def read_phones(texts: list[str], regions: Callable[[], tuple[str, ...]]) -> tuple[Phone, ...]:
    """Every phone on the signature's lines, in order, without duplicates.

    A number without a country code is read in the first of ``regions()`` where it is valid.
    ``regions`` is called once, and only when such a number is found: finding the country clues
    costs more than reading the numbers.
    """
    national_regions = functools.cache(regions)
    found: list[Phone] = []
    seen: set[str] = set()
    for text in texts:
        if not any(ch.isdigit() for ch in text):
            continue
        for match in lines.PHONE_CANDIDATE.finditer(text):
            candidate = match.group().strip()
            digits = lines.digit_count(candidate)
            if not _MIN_DIGITS <= digits <= _MAX_DIGITS or _DATE.match(candidate):
                continue
            before = _label_text(text[: match.start()])
            after = _LABEL_SPLIT.split(text[match.end() : match.end() + 14])[0]
            kind = _kind(before, after)
            if kind is None and (lexicon.NOT_A_PHONE.search(before) or _no_label_vat(text)):
                continue
            international = candidate.lstrip("(").startswith(("+", "00"))
            e164, mobile = _normalise_in(
                candidate, (_FALLBACK_REGION,) if international else national_regions()
            )
            if e164 is None or e164 in seen:
                continue
            seen.add(e164)
            found.append(Phone(kind=kind or ("mobile" if mobile else "work"), e164=e164))
    return tuple(found)


def _label_text(before: str) -> str:
    """The text between the previous separator and a number: where its label is.

    A label set apart by spaces or a dash ("Fax:      713/853-9252", "Fax     - 713.345.8100")
    is still the number's, unless the text before it is another number with its own label.
    """
    parts = _LABEL_SPLIT.split(before)
    last = parts[-1] if parts else ""
    if not last.strip(" -:.\u2013") and len(parts) > 1 and not _DIGIT.search(parts[-2]):
        last = parts[-2]
    return last[-_MAX_LABEL_CHARS:]


def _no_label_vat(text: str) -> bool:
    return lexicon.NOT_A_PHONE.search(text) is not None and not lexicon.WORK_LABEL.search(text)


def _kind(before: str, after: str) -> str | None:
    """The kind a label names, looking before the number then right after it."""
    short = lexicon.SHORT_LABEL.match(before)
    if short:
        return lexicon.SHORT_LABEL_KIND[short.group("letter").lower()]
    for label_text in (before, after):
        lowered = label_text.lower()
        if not lowered.strip():
            continue
        if lexicon.FAX_LABEL.search(lowered):
            return "fax"
        if lexicon.MOBILE_LABEL.search(lowered):
            return "mobile"
        if lexicon.WORK_LABEL.search(lowered):
            return "work"
    return None


def _normalise_in(candidate: str, regions: tuple[str, ...]) -> tuple[str | None, bool]:
    for region in regions:
        e164, mobile = _normalise(candidate, region)
        if e164 is not None:
            return e164, mobile
    return None, False


def _normalise(candidate: str, region: str) -> tuple[str | None, bool]:
    """E.164 form of a number and whether it is a mobile number; None when not a valid phone."""
    number_text = _TRUNK_ZERO.sub(" ", candidate).lstrip("(").strip()
    if number_text.startswith("00"):
        number_text = "+" + number_text[2:]
    try:
        number = phonenumbers.parse(number_text, region)
    except phonenumbers.NumberParseException:
        return None, False
    # number_type is UNKNOWN exactly when is_valid_number is False; one call does both.
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return None, False
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, kind == phonenumbers.PhoneNumberType.MOBILE
