"""Find the signature block at the end of the sender's new message.

The block is looked for in the last lines of the message, walking up from the end while lines do
not read like prose. Where it starts, strongest clue first:

1. an RFC 3676 ``-- `` separator;
2. a valediction ("Best regards," / "Mit freundlichen Grüßen" / "Thanks, Bob");
3. a line naming the sender (a name, surname or initials from the From header);
4. a decorative rule followed by contact details;
5. the paragraph holding the first contact details (phone, email, website), with a name
   paragraph right above it.

A block is kept only with evidence (a separator, a valediction, the sender's name, or contact
details under a name-like line), so that a message ending in a short list is not a signature.

The block's lines are split in two for callers who want it: the *sign-off* (valediction and the
name right under it, or a lone first name) and the *card* (name, title, company, phones...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from addin.signature import lexicon, lines, names
from addin.signature.quotes import NewMessage

# Signatures are short; a longer run of non-prose lines at the end is a list or a table.
_MAX_BLOCK_LINES = 16
_MAX_AFTER_SEPARATOR = 22
# More lines with a phone number than a card has (office, mobile, fax, pager) make a directory.
_MAX_CARD_PHONE_LINES = 4
# "P.S.", "P.P.S.", "PS:", "PS." or "PS -" open a postscript; "PS Logistics" does not.
_POSTSCRIPT = re.compile(r"^\s*(?:p\.\s?(?:p\.\s?)?s\b|pp?s\s*[:.\-])", re.IGNORECASE)
# Lines under a name line where its contact details are looked for.
_MAX_CARD_LINES = 8
# A motto or a tagline under "-- " may read like a sentence; more prose than this is text.
_MAX_PROSE_AFTER_SEPARATOR = 2
# An internal extension under a first-name sign-off ("Eric" / "x3-0977"): at most this many
# digits, and it goes with the sign-off, as a card holds a dialable number.
_MAX_EXTENSION_DIGITS = 6
_EXTENSION_ONLY = re.compile(r"^(?:(?:ext|x|tel|ph)\.?\s*-?\s*)?[\d][\d\s.-]*$", re.IGNORECASE)
_NAME_PART = re.compile(r"\s+[-|\u2013]\s+|\d|\t|\s{3,}")


@dataclass(frozen=True, slots=True)
class Block:
    """Line indices of a signature block (non-blank lines only)."""

    lines: tuple[int, ...]
    signoff: tuple[int, ...]
    card: tuple[int, ...]
    signoff_name: str


def find_block(text_lines: list[str], message: NewMessage, sender: names.Sender) -> Block | None:
    """Find the signature block of the sender's message, or None."""
    body = [i for i in message.lines if text_lines[i].strip()]
    # The organisation's disclaimer is not the sender's signature; a client footer may be.
    left_out = set(message.disclaimer)
    tail = tuple(i for i in message.tail if text_lines[i].strip() and i not in left_out)
    start = _block_start(text_lines, body, sender)
    if start is None:
        if not tail:
            return None
        return Block(lines=tail, signoff=(), card=(), signoff_name="")
    block = _without_postscript(text_lines, body[start:])
    signoff, name = _signoff(text_lines, block, sender)
    signoff_set = set(signoff)
    card = tuple(i for i in block if i not in signoff_set)
    if not card and not name and not tail:
        # A bare "Thanks!" closes the message but signs nothing: no name, no card.
        return None
    if signoff and len(card) == 1 and _is_extension_only(text_lines[card[0]]):
        # "Thanks, / Eric / x3-0977": an internal extension closes the sign-off; no card.
        signoff, card = (*signoff, card[0]), ()
    if _is_directory([text_lines[i] for i in card]):
        # A list of people's numbers under the sign-off is part of the message, not a card.
        if not signoff:
            return None
        block, card = list(signoff), ()
    return Block(lines=tuple(block) + tail, signoff=signoff, card=card, signoff_name=name)


def _block_start(text_lines: list[str], body: list[int], sender: names.Sender) -> int | None:
    """Position in ``body`` where the signature starts, or None."""
    if not body:
        return None
    separator = _separator_position(text_lines, body)
    if separator is not None:
        return separator
    run_start = _run_start(text_lines, body)
    run = range(run_start, len(body))
    if not run:
        return None
    texts = {p: text_lines[body[p]].strip() for p in run}
    # A valediction anywhere in the run: the topmost one opens the block.
    for position in run:
        if _is_valediction(texts[position]):
            return position
    anchor = _sender_anchor(text_lines, body, sender)
    if anchor is not None:
        return anchor
    for position in run:
        if names.matches_sender(texts[position], sender) and _plausible_name_line(texts[position]):
            return position
    last = len(body) - 1
    if (
        last in texts
        and (last == 0 or body[last - 1] != body[last] - 1)
        and len(texts[last].split()) <= 3
        and _is_signoff_name(texts[last], sender)
        and (
            names.matches_sender(texts[last], sender) or names.is_first_name(texts[last].split()[0])
        )
    ):
        # A lone name closing the message ("Bert").
        return last
    first_contact = next((p for p in run if lines.has_contact(texts[p])), None)
    if first_contact is None:
        return None
    for position in range(run_start, first_contact):
        if lexicon.RULE_LINE.match(texts[position]):
            return position
    # The paragraph holding the first contact line, and a name paragraph right above it.
    start = _paragraph_start(text_lines, body, first_contact, run_start)
    if start == run_start and _continues_sentence(text_lines, body, start):
        # "... please call Bill at" / "720-548-5614.": the number ends the message's sentence.
        return None
    above = start - 1
    if above >= run_start and names.looks_like_person_name(texts[above]):
        paragraph_above = _paragraph_start(text_lines, body, above, run_start)
        if above - paragraph_above <= 1:
            start = paragraph_above
    if not _opens_card(texts[start]) or not _has_evidence(
        [texts[p] for p in range(start, len(body))]
    ):
        return None
    return start


def _sender_anchor(text_lines: list[str], body: list[int], sender: names.Sender) -> int | None:
    """The sender's name line with contact details right under it, even above a tagline."""
    if not sender.known:
        return None
    lowest = max(0, len(body) - _MAX_AFTER_SEPARATOR)
    for position in range(lowest, len(body)):
        text = text_lines[body[position]].strip()
        if not (names.looks_like_person_name(text) and names.matches_sender(text, sender)):
            continue
        below = _card_below(text_lines, body, position)
        if not any(lines.has_contact(t) for t in below):
            continue
        # An organisation line right above the name belongs to the card ("ENA Human Resources").
        if (
            position > lowest
            and body[position - 1] == body[position] - 1
            and lines.is_organisation(text_lines[body[position - 1]])
            and not lines.is_prose(text_lines[body[position - 1]].strip())
        ):
            position -= 1
        # A rule or valediction right above the name opens the block instead.
        for above in (position - 1, position - 2):
            if above >= lowest and (
                lexicon.RULE_LINE.match(text_lines[body[above]])
                or _is_valediction(text_lines[body[above]].strip())
            ):
                return above
        return position
    return None


def _card_below(text_lines: list[str], body: list[int], position: int) -> list[str]:
    """The lines under a name line that read like a card: up to the first prose line.

    A card puts its title, company and street address before the phones, so the details may be
    several lines down ("Vincent Kaminski" / title / company / street / room / city / phone).
    """
    card: list[str] = []
    for index in body[position + 1 : position + 1 + _MAX_CARD_LINES]:
        text = text_lines[index].strip()
        if lines.is_prose(text):
            break
        card.append(text)
    return card


def _opens_card(text: str) -> bool:
    """The first line of a block found by its contact details: a name, a rule, a company."""
    if lexicon.RULE_LINE.match(text):
        return True
    if ":" in text or lines.is_prose(text):
        return False
    return (
        names.looks_like_person_name(text)
        or lines.is_organisation(text)
        or lines.is_title(text)
        or (lines.has_contact(text) and len(text.split()) <= 3)
    )


def _separator_position(text_lines: list[str], body: list[int]) -> int | None:
    """Position of the last "-- " line, when few enough lines follow it and they are no prose.

    A tagline under the separator is usual; several lines of prose are not a signature but text
    that a "--" happens to stand above (a pasted article's byline, a dash used as a break).
    """
    lowest = max(0, len(body) - _MAX_AFTER_SEPARATOR - 1)
    for position in range(len(body) - 1, lowest - 1, -1):
        if lexicon.SIG_DASHES.match(text_lines[body[position]]):
            if position == len(body) - 1:
                return None
            after = (text_lines[i].strip() for i in body[position + 1 :])
            if sum(1 for t in after if lines.is_prose(t)) >= _MAX_PROSE_AFTER_SEPARATOR + 1:
                return None
            return position
    return None


def _run_start(text_lines: list[str], body: list[int]) -> int:
    """Walk up from the end while lines do not read like prose."""
    position = len(body)
    lowest = max(0, len(body) - _MAX_BLOCK_LINES)
    while position > lowest:
        text = text_lines[body[position - 1]].strip()
        if lines.is_prose(text) and not _is_valediction(text):
            break
        position -= 1
    return position


def _paragraph_start(text_lines: list[str], body: list[int], position: int, lowest: int) -> int:
    """Walk up to the first line of the paragraph (blank lines separate paragraphs)."""
    while position > lowest and body[position - 1] == body[position] - 1:
        position -= 1
    return position


def _continues_sentence(text_lines: list[str], body: list[int], position: int) -> bool:
    """The line right above, in the same paragraph, is prose that runs on into this line."""
    if position == 0 or body[position - 1] != body[position] - 1:
        return False
    above = text_lines[body[position - 1]].strip()
    if not lines.is_prose(above):
        return False
    # A sentence that runs on, or one that introduces what follows ("... at these numbers:").
    return not lines.ends_sentence(above) or above.endswith((":", "...", "\u2026"))


def _is_valediction(text: str) -> bool:
    if len(text) > 60:
        return False
    return bool(lexicon.VALEDICTION_LINE.match(text) or lexicon.VALEDICTION_WITH_NAME.match(text))


def _plausible_name_line(text: str) -> bool:
    """The sender's name line: a name, maybe followed by a number ("Barry Tycholiz - 3-1587")."""
    name_part = _NAME_PART.split(text, maxsplit=1)[0].strip()
    return bool(name_part) and names.looks_like_person_name(name_part)


def _has_evidence(texts: list[str]) -> bool:
    """Contact details under a name, title or organisation line make a block a signature."""
    if len(texts) > _MAX_BLOCK_LINES:
        return False
    named = any(
        names.looks_like_person_name(t) or lines.is_title(t) or lines.is_organisation(t)
        for t in texts
    )
    phones = sum(1 for t in texts if lines.has_contact(t))
    return named or phones >= 2


def _without_postscript(text_lines: list[str], block: list[int]) -> list[int]:
    """The block without its postscript paragraphs ("P.S. Uncle Bob sends his love.").

    A postscript is the message's text, written after the sign-off.
    """
    kept: list[int] = []
    in_postscript = False
    for position, index in enumerate(block):
        if position and block[position - 1] != index - 1:
            in_postscript = False  # a blank line ends the postscript's paragraph
        if _POSTSCRIPT.match(text_lines[index]):
            in_postscript = True
        if not in_postscript:
            kept.append(index)
    return kept


def _is_extension_only(text: str) -> bool:
    stripped = text.strip()
    return bool(_EXTENSION_ONLY.match(stripped)) and lines.digit_count(stripped) <= (
        _MAX_EXTENSION_DIGITS
    )


def _is_directory(texts: list[str]) -> bool:
    """Many phone numbers: a phone list or a table; a card has a few (office, mobile, fax)."""
    count = 0
    for text in texts:
        match = lines.PHONE_CANDIDATE.search(text)
        if match is not None and lines.digit_count(match.group()) >= 7:
            count += 1
            if count > _MAX_CARD_PHONE_LINES:
                return True
    return False


def _signoff(
    text_lines: list[str], block: list[int], sender: names.Sender
) -> tuple[tuple[int, ...], str]:
    """Split the sign-off (valediction and the name under it) from the top of the block."""
    if not block:
        return (), ""
    first = text_lines[block[0]].strip()
    with_name = lexicon.VALEDICTION_WITH_NAME.match(first)
    if with_name and not lexicon.VALEDICTION_LINE.match(first):
        return (block[0],), with_name.group("name")
    if lexicon.VALEDICTION_LINE.match(first):
        signoff = [block[0]]
        position = 1
        # Stacked valedictions ("Thanks again." / "Best regards,") are one sign-off.
        while position < len(block) and lexicon.VALEDICTION_LINE.match(
            text_lines[block[position]].strip()
        ):
            signoff.append(block[position])
            position += 1
        if position < len(block):
            candidate = text_lines[block[position]].strip()
            right_under = block[position] == block[position - 1] + 1
            alone = position + 1 == len(block) or block[position + 1] != block[position] + 1
            # The name right under the valediction signs off; after a blank line it heads the
            # card, unless it stands alone.
            if _is_signoff_name(candidate, sender) and (right_under or alone):
                signoff.append(block[position])
                return tuple(signoff), candidate
            if _is_signoff_name(candidate, sender):
                return tuple(signoff), candidate
        return tuple(signoff), ""
    # No valediction: a lone short name paragraph above the card is a sign-off ("Dana" /
    # "" / "Dana Perino ..."), and so is a block that is only a name.
    if _is_signoff_name(first, sender) and len(first.split()) <= 2:
        alone = len(block) == 1
        paragraph_ends = len(block) > 1 and block[1] != block[0] + 1
        if alone or paragraph_ends:
            return (block[0],), first
    return (), ""


def _is_signoff_name(text: str, sender: names.Sender) -> bool:
    if lines.has_contact(text) or len(text) > 40:
        return False
    return names.matches_sender(text, sender) or (
        names.looks_like_person_name(text) and not lines.is_title(text)
    )
