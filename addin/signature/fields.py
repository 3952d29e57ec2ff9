"""Read the contact's fields from the signature's card lines.

- Name: the card line naming the sender (or the first person-like line near the top), else the
  sign-off name, else the From display name; the From header confirms the first/last split
  ("García López, Juan Carlos") and completes a block that gives only a first name. The
  block's spelling wins over the header's, so "Jose Garcia" in From gives "José García".
- Job title: the line (or the part of the name line after a separator) right under the name that
  carries a title word; "Senior Counsel, ENA" gives the title and the company.
- Company: a line with a legal form (kept as written) or an organisation word, else the short line
  under the title.
- Website: the first host that is not a social network or webmail, without scheme or slash.
- Email: the From address, else the first address in the card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from addin.signature import lexicon, lines, names
from addin.signature.phones import Phone, countries_of, read_phones

_SEGMENT_SPLIT = re.compile(r"\s+[|•·\u2013—]\s+|\s+-\s+|\s*\|\s*|\t+|\s{3,}")
_TITLE_AT = re.compile(r"\s+(?:at|@|bei|chez|en|presso|bij|hos|w)\s+(?=[A-ZÀ-Þ0-9])")
_MAX_CARD_LINES = 20


@dataclass(frozen=True, slots=True)
class Card:
    """The contact fields read from a signature."""

    first_name: str | None
    last_name: str | None
    job_title: str | None
    company: str | None
    email: str | None
    phones: tuple[Phone, ...]
    website: str | None


def read_card(
    card: list[str],
    *,
    signoff_name: str,
    tail: list[str],
    sender: names.Sender,
    from_address: str,
    valediction: str,
) -> Card:
    """Read the contact fields from the card lines (and the sender for what they lack)."""
    card = [t.strip() for t in card[:_MAX_CARD_LINES] if t.strip()]
    name_at, name_text = _name_line(card, sender)
    if signoff_name and not _fuller_name(name_text, signoff_name):
        # The name under the valediction is the sender's; a card line only wins when it is
        # the same name written in full ("Dana" then "Dana Perino").
        name_at, name_text = None, signoff_name
    first, last = _reconcile(name_text, sender)
    used = {name_at} if name_at is not None else set()
    title_at, title, company = _title(card, name_at)
    title, company = _department_in_title(card, title_at, title, company)
    if title_at is not None:
        used.add(title_at)
    if company is None:
        company = _company(card, used, title_at if title_at is not None else name_at)

    # A sentence kept in the block ("... both here and in the UK.") is no clue to the card's.
    def regions() -> tuple[str, ...]:
        clues = [t for t in card if not lines.is_prose(t)] + tail
        return countries_of(clues, from_address, valediction)

    phone_lines = [t for i, t in enumerate(card) if i not in used or lines.has_contact(t)]
    return Card(
        first_name=first or None,
        last_name=last or None,
        job_title=title,
        company=company,
        email=from_address or _first_email(card),
        phones=read_phones(phone_lines, regions),
        website=_website(card, from_address),
    )


def _segments(text: str) -> list[str]:
    return [s.strip(" ,") for s in _SEGMENT_SPLIT.split(text) if s.strip(" ,")]


def _name_line(card: list[str], sender: names.Sender) -> tuple[int | None, str]:
    """Index and text of the card's name line; (None, "") when the card names nobody."""
    fallback: tuple[int | None, str] = (None, "")
    for index, text in enumerate(card[:5]):
        segment = _segments(text)[0] if text else ""
        segment = segment.split(", ")[0] if "," in segment else segment
        if not _is_name(segment):
            continue
        if names.matches_sender(segment, sender):
            return index, segment
        if fallback[0] is None and (index == 0 or not sender.known):
            fallback = (index, segment)
    return fallback


def _fuller_name(card_name: str, signoff_name: str) -> bool:
    """Tell whether the card's name line is the sign-off name, written as fully or more."""
    if not card_name:
        return False
    card_words = {names.fold(w) for w in card_name.split()}
    signoff_words = {names.fold(w) for w in signoff_name.split()}
    return bool(card_words & signoff_words) and len(card_words) >= len(signoff_words)


def _is_name(segment: str) -> bool:
    return (
        names.looks_like_person_name(segment)
        and not lines.is_title(segment)
        and not lines.is_organisation(segment)
        and not lines.is_address(segment)
    )


def _reconcile(name_text: str, sender: names.Sender) -> tuple[str, str]:
    """First and last name from the block's name, confirmed and completed by the sender."""
    if not name_text:
        return sender.first, sender.last
    first, last = names.split_name(name_text)
    if not sender.known:
        return first, last
    words = [w for w in name_text.replace(",", " ").split()]
    while words and words[0].lower() in lexicon.NAME_PREFIXES:
        words.pop(0)
    while words and words[-1].lower().strip(",") in lexicon.NAME_SUFFIXES:
        words.pop()
    folded = [names.fold(w) for w in words]
    last_words = [names.fold(w) for w in sender.last.split()]
    if last_words and len(last_words) < len(words):
        for start in range(1, len(words) - len(last_words) + 1):
            if folded[start : start + len(last_words)] == last_words:
                # Particles right before the surname belong to it ("van der Berg").
                while start > 1 and folded[start - 1] in lexicon.SURNAME_PARTICLES:
                    start -= 1
                given = [w for w in words[:start] if len(w.rstrip(".")) > 1]
                return " ".join(given[:2] if len(given) > 1 else given), " ".join(words[start:])
    if not last and first:
        folded_first = names.fold(first)
        if last_words and folded_first == " ".join(last_words):
            return sender.first, first
        if not sender.first or names.fold(sender.first).startswith(folded_first[:3]):
            return first, sender.last
    return first, last


def _title(card: list[str], name_at: int | None) -> tuple[int | None, str | None, str | None]:
    """Index of the title line, the title, and a company written on the same line."""
    start = 0 if name_at is None else name_at
    for index in range(start, min(len(card), start + 4)):
        text = card[index]
        if lines.has_contact(text) or lines.is_address(text):
            continue
        segments = _segments(text)
        if index == name_at:
            segments = segments[1:] or _after_comma(text)
        if not segments:
            continue
        title_parts: list[str] = []
        company: str | None = None
        for segment in segments:
            at_split = _TITLE_AT.split(segment, maxsplit=1)
            if len(at_split) == 2 and lines.is_title(at_split[0]):
                title_parts.append(at_split[0])
                company = company or at_split[1]
                continue
            if lexicon.LEGAL_FORM.search(segment) and (
                not lines.is_title(segment) or _ends_with_legal_form(segment)
            ):
                company = company or segment
            elif lines.is_title(segment) and not title_parts:
                pieces = segment.split(", ")
                title_parts.append(pieces[0])
                if len(pieces) > 1 and company is None and not lines.is_title(pieces[1]):
                    company = ", ".join(pieces[1:])
                elif len(pieces) > 1:
                    title_parts[-1] = segment
            elif title_parts and company is None and not lines.is_address(segment):
                company = segment
        if title_parts:
            return index, title_parts[0], company
    return None, None, None


def _department_in_title(
    card: list[str], title_at: int | None, title: str | None, company: str | None
) -> tuple[str | None, str | None]:
    """Keep a department written after the title in the title ("Vice President, Research").

    It is a department, not the company, when it starts with a department's name
    (``DEPARTMENT_WORDS``), or when it has no legal form and another card line does
    ("Specialist, Gas Settlements" above "Enron Net Works LLC").
    """
    if title_at is None or not title or not company or lexicon.LEGAL_FORM.search(company):
        return title, company
    line = card[title_at]
    start, end = line.find(title), line.rfind(company)
    if start < 0 or end < start + len(title) or len(company.split()) > 4:
        return title, company
    legal_elsewhere = any(lexicon.LEGAL_FORM.search(t) for i, t in enumerate(card) if i != title_at)
    # "Research" is a department; "Harwick Engineering" is a company named after its trade.
    if not (lexicon.DEPARTMENT_WORDS.match(company) or legal_elsewhere):
        return title, company
    return line[start : end + len(company)].strip(), None


def _ends_with_legal_form(segment: str) -> bool:
    """ "Harwick Logistics Ltd": a name ending in a legal form is a company, whatever its words."""
    forms = list(lexicon.LEGAL_FORM.finditer(segment))
    return bool(forms) and not segment[forms[-1].end() :].strip(" .,)")


def _after_comma(text: str) -> list[str]:
    _, _, rest = text.partition(", ")
    return [rest] if rest else []


def _company(card: list[str], used: set[int], after: int | None) -> str | None:
    """The organisation line: a legal form first, then an organisation word, then position."""
    candidates = [
        (i, s)
        for i, t in enumerate(card)
        if i not in used and not lines.has_contact(t) and not lines.is_address(t)
        for s in _segments(t)
    ]
    for _, segment in candidates:
        if lexicon.LEGAL_FORM.search(segment) and len(segment) <= 80:
            return segment
    for _, segment in candidates:
        if lexicon.ORGANISATION_WORDS.search(segment) and len(segment.split()) <= 8:
            return segment
    if after is None:
        return None
    for index, segment in candidates:
        if index == after + 1 and len(segment.split()) <= 6 and segment[:1].isupper():
            if not names.looks_like_person_name(segment) or segment.isupper():
                return segment
            return segment if len(segment.split()) >= 1 and index > 0 else None
    return None


def _first_email(card: list[str]) -> str | None:
    for text in card:
        match = lines.EMAIL.search(text)
        if match:
            return match.group()
    return None


def _website(card: list[str], from_address: str) -> str | None:
    """The company's website host as written, without scheme, path or trailing slash."""
    hosts: list[str] = []
    for text in card:
        for match in lines.URL.finditer(text):
            written = match.group()
            host = re.sub(r"^https?://", "", written, flags=re.IGNORECASE).split("/", 1)[0]
            host = host.rstrip(".")
            bare = host.lower().removeprefix("www.")
            if bare in lexicon.NOT_A_WEBSITE_HOSTS or host.lower() in lexicon.NOT_A_WEBSITE_HOSTS:
                continue
            hosts.append(host)
    if not hosts:
        return None
    domain = from_address.rsplit("@", 1)[-1].lower() if "@" in from_address else ""
    for host in hosts:
        if domain and host.lower().endswith(domain):
            return host
    return hosts[0]
