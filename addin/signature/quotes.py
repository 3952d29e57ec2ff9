"""Find the sender's new message: cut quotes and forwards, set aside footers and disclaimers.

Recognised, in the eight languages of ``lexicon``:
- Outlook's and Lotus Notes' header blocks ("-----Original Message-----", "From: / Sent: / To:"),
  forwarded-message dividers, Apple's "Begin forwarded message:";
- Gmail's attribution ("On <date>, <name> wrote:"), also when wrapped over two lines;
- ``>`` quoting, top-posted or interleaved (quoted lines are skipped, the rest kept);
- mobile and client footers ("Sent from my iPhone") and legal disclaimers at the end of the
  message: they are not part of the message text, and are reported as the message's tail so that
  the signature can include them without reading fields from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from addin.signature import lexicon

# A reply header is recognised within this many lines of its first line.
_HEADER_WINDOW = 6
_MAX_LINES = 4000
_DISCLAIMER_MIN_CHARS = 80
_RULE_STARTS = frozenset("-_=*~#+")
_YAHOO_FOOTER = re.compile(r"^\s*do you yahoo!\?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NewMessage:
    """Line indices of the sender's new message (quotes removed) and of its trailing footer."""

    lines: tuple[int, ...]
    tail: tuple[int, ...]


def find_new_message(lines: list[str]) -> NewMessage:
    """Split the body's lines into the sender's message and its footer/disclaimer tail."""
    end = min(len(lines), _MAX_LINES)
    kept: list[int] = []
    first_quoted: int | None = None
    for index in range(end):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            kept.append(index)
            continue
        if lexicon.ATTACHMENT_LINE.match(stripped):
            continue
        if stripped.startswith(">") or stripped.startswith("|>"):
            if first_quoted is None:
                first_quoted = len(kept)
            continue
        # Every reply header carries a colon or starts with a rule; most lines are skipped here.
        if (":" in stripped or stripped[0] in _RULE_STARTS) and _opens_quote(
            lines, index, stripped, end
        ):
            if lexicon.NOTES_DATE_LINE.match(stripped):
                _drop_notes_sender(lines, kept)
            break
        kept.append(index)
    while kept and not lines[kept[-1]].strip():
        kept.pop()
    tail_start = _tail_start(lines, kept)
    if first_quoted is not None and first_quoted < tail_start:
        after_quote = [i for i in kept[first_quoted:tail_start] if lines[i].strip()]
        if not after_quote:
            # Top-posted reply: what follows the quote is the client's footer, not the sender's.
            del kept[first_quoted:]
            while kept and not lines[kept[-1]].strip():
                kept.pop()
            tail_start = len(kept)
    return NewMessage(lines=tuple(kept[:tail_start]), tail=tuple(kept[tail_start:]))


def _opens_quote(lines: list[str], index: int, stripped: str, end: int) -> bool:
    """Tell whether the quoted or forwarded part starts at this line."""
    if lexicon.ORIGINAL_MESSAGE_DIVIDER.match(stripped) or lexicon.FORWARD_INTRO.match(stripped):
        return True
    if lexicon.HEADER_FROM.match(stripped):
        return _header_block_follows(lines, index, stripped, end)
    if len(stripped) < 300:
        if lexicon.ATTRIBUTION_LINE.match(stripped) or lexicon.ATTRIBUTION_SHORT.match(stripped):
            return True
        if (
            lexicon.ATTRIBUTION_START.match(stripped)
            and index + 1 < end
            and lexicon.ATTRIBUTION_END.search(lines[index + 1])
            and len(lines[index + 1]) < 120
        ):
            return True
    if lexicon.RULE_LINE.match(stripped):
        following = _next_nonblank(lines, index + 1, end)
        if following is not None and lexicon.HEADER_FROM.match(lines[following]):
            return _header_block_follows(lines, following, lines[following].strip(), end)
    if lexicon.NOTES_DATE_LINE.match(stripped):
        return _notes_to_follows(lines, index, end)
    if lexicon.NOTES_SENDER_LINE.match(stripped):
        # Lotus Notes: "Ann Lee/HOU/ECT@ECT  05/30/2001 05:02 PM  To: ..." (one or more lines).
        if "To:" in stripped:
            return True
        for look in range(index + 1, min(end, index + 4)):
            if lexicon.NOTES_TO_LINE.match(lines[look]):
                return True
    return False


def _drop_notes_sender(lines: list[str], kept: list[int]) -> None:
    """Lotus Notes writes the sender (and "Sent by:") on the lines above the date: drop them."""
    dropped = 0
    while kept and dropped < 2:
        text = lines[kept[-1]].strip()
        if not text:
            if dropped:
                break
            kept.pop()
            continue
        if len(text) >= 80 or text.endswith((".", "!", "?")):
            break
        kept.pop()
        dropped += 1


def _notes_to_follows(lines: list[str], index: int, end: int) -> bool:
    return any(lexicon.NOTES_TO_LINE.match(lines[i]) for i in range(index + 1, min(end, index + 5)))


def _header_block_follows(lines: list[str], index: int, stripped: str, end: int) -> bool:
    """A "From:" line opens a header block when other header fields follow it closely."""
    fields = 0
    seen = 0
    for look in range(index + 1, min(end, index + 1 + 2 * _HEADER_WINDOW)):
        candidate = lines[look]
        if not candidate.strip():
            continue
        seen += 1
        if seen > _HEADER_WINDOW:
            break
        if lexicon.HEADER_FIELD.match(candidate):
            fields += 1
            if fields >= 2:
                return True
    # A single field suffices when the From line carries an address, as clients write it.
    return fields >= 1 and ("@" in stripped or "mailto:" in stripped.lower())


def _next_nonblank(lines: list[str], start: int, end: int) -> int | None:
    for look in range(start, min(end, start + 3)):
        if lines[look].strip():
            return look
    return None


def _tail_start(lines: list[str], kept: list[int]) -> int:
    """Position in ``kept`` where trailing footers and disclaimers begin (len(kept) if none)."""
    position = len(kept)
    cursor = len(kept)
    while cursor > 0:
        # Walk one blank-separated paragraph up from the cursor.
        paragraph_end = cursor
        while paragraph_end > 0 and not lines[kept[paragraph_end - 1]].strip():
            paragraph_end -= 1
        paragraph_start = paragraph_end
        while paragraph_start > 0 and lines[kept[paragraph_start - 1]].strip():
            paragraph_start -= 1
        if paragraph_start == paragraph_end:
            break
        texts = [lines[kept[i]].strip() for i in range(paragraph_start, paragraph_end)]
        footer_at = _footer_line(texts)
        if footer_at is not None:
            position = paragraph_start + footer_at
            # Lines above a footer in the same paragraph are the message; stop there.
            if footer_at > 0:
                break
            cursor = paragraph_start
            continue
        if _is_disclaimer(texts) or all(lexicon.RULE_LINE.match(t) for t in texts):
            position = paragraph_start
            cursor = paragraph_start
            continue
        break
    # A rule line right above the tail belongs to it ("______" before a disclaimer).
    while position > 0 and lexicon.RULE_LINE.match(lines[kept[position - 1]]):
        position -= 1
    return position


def _footer_line(texts: list[str]) -> int | None:
    """Index of the first footer line in a paragraph whose remaining lines are all footer-ish."""
    for offset, text in enumerate(texts):
        if lexicon.MOBILE_FOOTER.match(text) or _YAHOO_FOOTER.match(text):
            # Rules right above the footer ("------") go with it.
            while offset > 0 and lexicon.RULE_LINE.match(texts[offset - 1]):
                offset -= 1
            return offset
    return None


def _is_disclaimer(texts: list[str]) -> bool:
    joined = " ".join(texts)
    if len(joined) < _DISCLAIMER_MIN_CHARS:
        return False
    head = joined[:400]
    return bool(lexicon.DISCLAIMER_OPENER.search(head) and lexicon.DISCLAIMER_SUBJECT.search(head))
