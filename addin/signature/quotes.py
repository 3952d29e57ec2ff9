"""Find the sender's new message: cut quotes and forwards, set aside footers and disclaimers.

Recognised, in the eight languages of ``lexicon``:
- Outlook's and Lotus Notes' header blocks ("-----Original Message-----", "From: / Sent: / To:"),
  forwarded-message dividers, Apple's "Begin forwarded message:";
- Gmail's attribution ("On <date>, <name> wrote:"), also when wrapped over two lines;
- ``>`` quoting, top-posted or interleaved (quoted lines are skipped, the rest kept);
- mobile and client footers ("Sent from my iPhone") and legal disclaimers at the end of the
  message: they are not part of the message text, and are reported as the message's tail. A
  footer is the client's signature (iOS keeps "Sent from my iPhone" in its Signature setting), so
  the signature block may include it; a disclaimer is the organisation's, added by its mail
  server, and is reported apart so that the block leaves it out.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from addin.signature import lexicon, lines

# A reply header is recognised within this many lines of its first line.
_HEADER_WINDOW = 6
_MAX_LINES = 4000
_DISCLAIMER_MIN_CHARS = 80
_RULE_STARTS = frozenset("-_=*~#+")
# A bare forward of a bare forward...: how deep to look for the message the sender forwarded.
_MAX_FORWARD_DEPTH = 4
# A header block ends at its "Subject:" line within this many lines (long "To:" lists wrap).
_HEADER_SPAN = 40
_SUBJECT = re.compile(
    r"^\s*\*?(?:subject|betreff|objet|sujet|asunto|oggetto|onderwerp|emne|temat)\s*\*?\s*:", re.I
)
_SUBJECT_INLINE = re.compile(r"\s(?:subject|betreff|objet|oggetto|onderwerp|emne|temat):", re.I)
_FROM_FIELD = re.compile(
    r"^\*?(?:from|von|de|da|van|fra|od|afzender|mittente|remitente|expéditeur|nadawca)"
    r"\s*\*?\s*:\s*\*?\s*(\S.*)$",
    re.I,
)
# Divider lines of a header block, and the date line a divider wraps onto ("05:16 PM -----").
_DIVIDER_TEXT = re.compile(
    r"^[-_=*\s]*(?:forwarded by|original message)|^[-\s\d/:]+(?:[AP]M)?[-\s]*$", re.I
)
# What follows the sender on a Notes or Exchange header line: a date, "on <date>", "To:".
_NOTES_TRAILER = re.compile(
    r"\s+on\s+\d{1,2}/\d{1,2}/\d{2,4}|\s+\d{1,2}/\d{1,2}/\d{2,4}|\s+\d{1,2}:\d{2}|\tTo:|\s{3,}To:",
    re.I,
)
_RAW_HEADER = re.compile(
    r"^(?:received|return-path|x-[\w-]+|content-type|content-transfer-encoding|message-id|"
    r"mime-version|delivered-to)\s*:",
    re.I,
)
# Every attribution verb of ``lexicon.ATTRIBUTION_LINE`` contains one of these (lower case).
_ATTRIBUTION_VERBS = ("wrote", "writes", "schrieb", "geschrieben", "écrit", "escribió", "scritto",
                      "scrisse", "schreef", "geschreven", "skrev", "napisał", "pisze")  # fmt: skip
# Every opener of ``lexicon.DISCLAIMER_OPENER`` contains one of these (lower case).
_DISCLAIMER_WORDS = ("confiden", "privileged", "intended", "if you", "disclaimer", "vertraulich",
                     "irrtümlich", "nicht der richtige", "destinatari", "riservat", "vertrouwelijk",
                     "geadresseerde", "fortrolig", "modtager", "poufn", "adresat", "environment",
                     "umwelt", "environnement", "stampare", "printer", "wydruk")  # fmt: skip
# GroupWise's attribution: ">>> <ann@x.com> 2/16/01 10:41:43 am >>>".
_GROUPWISE_ATTRIBUTION = re.compile(r"^>>>\s.*\d.*>>>\s*$")
_ADDRESS = re.compile(r"[<\[](?:mailto:)?([^<>\[\]\s]+@[^<>\[\]\s]+)[>\]]", re.I)
_BRACKETED_ADDRESS = re.compile(r"[<\[][^<>\[\]]*[>\]]")


@dataclass(frozen=True, slots=True)
class NewMessage:
    """Line indices of the sender's new message (quotes removed) and of its trailing footer.

    ``forwarded_from`` is set when the sender wrote nothing above a forwarded or quoted message:
    the message read is then the forwarded one, and this is its author as its header block names
    them, ``(display name, address)`` (either may be empty).
    """

    lines: tuple[int, ...]
    tail: tuple[int, ...]
    forwarded_from: tuple[str, str] | None = None
    disclaimer: tuple[int, ...] = ()


def find_new_message(lines: list[str]) -> NewMessage:
    """Split the body's lines into the sender's message and its footer/disclaimer tail.

    A bare forward (nothing written above the forwarded message's header block) is read as the
    forwarded message: that is the text, and the signature, the reader sees.
    """
    end = min(len(lines), _MAX_LINES)
    start = 0
    forwarded_from: tuple[str, str] | None = None
    for _ in range(_MAX_FORWARD_DEPTH):
        kept, first_quoted, opener = _scan(lines, start, end)
        if opener is None or any(lines[i].strip() for i in kept):
            break
        body_start = _header_end(lines, opener, end)
        if body_start is None:
            break
        forwarded_from = _header_sender(lines, opener, body_start)
        start = body_start
    message = _split_tail(lines, kept, first_quoted)
    if forwarded_from is None:
        return message
    return dataclasses.replace(message, forwarded_from=forwarded_from)


def _scan(lines: list[str], start: int, end: int) -> tuple[list[int], int | None, int | None]:
    """Lines kept from ``start`` to the first quote opener, the first ``>`` line, the opener."""
    kept: list[int] = []
    first_quoted: int | None = None
    for index in range(start, end):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            kept.append(index)
            continue
        if lexicon.ATTACHMENT_LINE.match(stripped):
            continue
        if stripped.startswith(">") or stripped.startswith("|>"):
            if _GROUPWISE_ATTRIBUTION.match(stripped):
                return kept, first_quoted, index
            if first_quoted is None:
                first_quoted = len(kept)
            continue
        # Every reply header carries a colon or starts with a rule; most lines are skipped here.
        if (":" in stripped or stripped[0] in _RULE_STARTS) and _opens_quote(
            lines, index, stripped, end
        ):
            if lexicon.NOTES_DATE_LINE.match(stripped):
                index = _drop_notes_sender(lines, kept, index)
            return kept, first_quoted, index
        kept.append(index)
    return kept, first_quoted, None


def _split_tail(lines: list[str], kept: list[int], first_quoted: int | None) -> NewMessage:
    """Set the trailing footers and disclaimers of the kept lines apart."""
    while kept and not lines[kept[-1]].strip():
        kept.pop()
    tail_start, disclaimer = _tail_start(lines, kept)
    if first_quoted is not None and first_quoted < tail_start:
        after_quote = [i for i in kept[first_quoted:tail_start] if lines[i].strip()]
        if not after_quote:
            # Top-posted reply: what follows the quote is the client's footer, not the sender's.
            del kept[first_quoted:]
            while kept and not lines[kept[-1]].strip():
                kept.pop()
            tail_start, disclaimer = len(kept), set()
    tail = tuple(kept[tail_start:])
    return NewMessage(
        lines=tuple(kept[:tail_start]),
        tail=tail,
        disclaimer=tuple(i for i in tail if i in disclaimer),
    )


def _opens_quote(lines: list[str], index: int, stripped: str, end: int) -> bool:
    """Tell whether the quoted or forwarded part starts at this line."""
    if lexicon.ORIGINAL_MESSAGE_DIVIDER.match(stripped) or lexicon.FORWARD_INTRO.match(stripped):
        return True
    if lexicon.HEADER_FROM.match(stripped):
        return _header_block_follows(lines, index, stripped, end)
    if len(stripped) < 300:
        lowered = stripped.lower()
        if any(verb in lowered for verb in _ATTRIBUTION_VERBS) and (
            lexicon.ATTRIBUTION_LINE.match(stripped) or lexicon.ATTRIBUTION_SHORT.match(stripped)
        ):
            return True
        if (
            lexicon.ATTRIBUTION_START.match(stripped)
            and index + 1 < end
            and lexicon.ATTRIBUTION_END.search(lines[index + 1])
            and len(lines[index + 1]) < 120
        ):
            return True
    if _RAW_HEADER.match(stripped):
        # A message pasted with its transport headers ("Received:", "Message-ID:", ...).
        return any(
            _RAW_HEADER.match(lines[i]) or lexicon.HEADER_FIELD.match(lines[i])
            for i in range(index + 1, min(end, index + 3))
        )
    if lexicon.NOTES_TO_LINE.match(stripped):
        # A header block that starts with its recipients ("To: / cc: / Date: / From: / Subject:").
        window = lines[index + 1 : min(end, index + 1 + _HEADER_WINDOW)]
        return any(lexicon.HEADER_FROM.match(t) for t in window) and any(
            _SUBJECT.match(t) for t in window
        )
    if (
        stripped[0] in _RULE_STARTS
        and index + 1 < end
        and len(lines[index + 1]) < 40
        and lexicon.ATTRIBUTION_END.search(lines[index + 1])
    ):
        # Yahoo's attribution, wrapped: "--- Ann Lee <ann@x.com>" / "wrote:".
        return True
    if lexicon.RULE_LINE.match(stripped):
        following = _next_nonblank(lines, index + 1, end)
        if following is not None and lexicon.HEADER_FROM.match(lines[following]):
            return _header_block_follows(lines, following, lines[following].strip(), end)
    if "/" not in stripped:
        return False  # the Notes lines below carry a date
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


def _drop_notes_sender(lines: list[str], kept: list[int], index: int) -> int:
    """Lotus Notes writes the sender (and "Sent by:") on the lines above the date: drop them.

    Returns the line where the header block starts (the sender's line when one was dropped).
    """
    dropped = 0
    opener = index
    while kept and dropped < 2:
        text = lines[kept[-1]].strip()
        if not text:
            if dropped:
                break
            kept.pop()
            continue
        if len(text) >= 80 or text.endswith((".", "!", "?")):
            break
        opener = kept.pop()
        dropped += 1
    return opener


def _header_end(lines: list[str], opener: int, end: int) -> int | None:
    """The first line after the header block opened at ``opener`` (after its "Subject:" line)."""
    for look in range(opener, min(end, opener + _HEADER_SPAN)):
        line = lines[look]
        if _SUBJECT.match(line):
            return look + 1
        if _SUBJECT_INLINE.search(line) and lexicon.NOTES_SENDER_LINE.match(line):
            # Lotus Notes on one line: "Ann Lee@ENRON 05/30/2001 05:02 PM  To: ... Subject: ...".
            return look + 1
    return None


def _header_sender(lines: list[str], opener: int, body_start: int) -> tuple[str, str]:
    """The forwarded message's author: its "From:" field, or the Notes sender line."""
    candidates: list[str] = []
    for look in range(opener, body_start):
        stripped = lines[look].strip()
        if not stripped or lexicon.RULE_LINE.match(stripped) or _DIVIDER_TEXT.match(stripped):
            continue
        from_field = _FROM_FIELD.match(stripped)
        if from_field:
            return _name_and_address(from_field.group(1))
        if not lexicon.HEADER_FIELD.match(stripped) and not lexicon.NOTES_DATE_LINE.match(stripped):
            candidates.append(stripped)
    return _name_and_address(candidates[0]) if candidates else ("", "")


def _name_and_address(value: str) -> tuple[str, str]:
    """Split "Ann Lee <ann@x.com> on 05/30/2001 ..." or "Lee, Ann [mailto:ann@x.com]"."""
    value = _NOTES_TRAILER.split(value, maxsplit=1)[0]
    address_match = _ADDRESS.search(value)
    address = address_match.group(1) if address_match else ""
    name = _BRACKETED_ADDRESS.sub(" ", value).strip().strip("'\"").strip()
    if "@" in name and " " not in name and not address:
        return "", name
    return name, address


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


def _tail_start(lines: list[str], kept: list[int]) -> tuple[int, set[int]]:
    """Where in ``kept`` the trailing footers and disclaimers begin, and the disclaimer lines.

    The position is len(kept) when there is no tail. The disclaimer lines are its disclaimer
    paragraphs with the rule lines that frame them.
    """
    position = len(kept)
    cursor = len(kept)
    disclaimer: set[int] = set()
    rules: list[tuple[int, int]] = []  # rule-only paragraphs of the tail, as (start, end)
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
        if _is_disclaimer(texts):
            opener = _disclaimer_opener(texts)
            disclaimer.update(kept[paragraph_start + opener : paragraph_end])
            if opener > 0:
                # A signature with its disclaimer right under it, no blank line between.
                position = paragraph_start + opener
                break
        elif all(lexicon.RULE_LINE.match(t) for t in texts):
            rules.append((paragraph_start, paragraph_end))
        else:
            break
        position = paragraph_start
        cursor = paragraph_start
    # A rule line right above the tail belongs to it ("______" before a disclaimer).
    while position > 0 and lexicon.RULE_LINE.match(lines[kept[position - 1]]):
        position -= 1
        rules.append((position, position + 1))
    return position, disclaimer | _framing_rules(lines, kept, rules, disclaimer)


def _framing_rules(
    lines: list[str], kept: list[int], rules: list[tuple[int, int]], disclaimer: set[int]
) -> set[int]:
    """The rule lines next to a disclaimer paragraph (only blank lines between)."""
    framing: set[int] = set()
    for start, end in rules:
        below = next((i for i in kept[end:] if lines[i].strip()), None)
        above = next((i for i in reversed(kept[:start]) if lines[i].strip()), None)
        if below in disclaimer or above in disclaimer:
            framing.update(kept[start:end])
    return framing


def _footer_line(texts: list[str]) -> int | None:
    """Index of the first footer line in a paragraph whose remaining lines are all footer-ish."""
    for offset, text in enumerate(texts):
        if lexicon.MOBILE_FOOTER.match(text) or lexicon.WEBMAIL_FOOTER.match(text):
            # Rules right above the footer ("------") go with it.
            while offset > 0 and lexicon.RULE_LINE.match(texts[offset - 1]):
                offset -= 1
            return offset
    return None


def _disclaimer_opener(texts: list[str]) -> int:
    """The line of a disclaimer paragraph where the disclaimer starts, with a rule right above.

    Lines above it in the same paragraph are the message's (a signature written right above).
    """
    opener = next((i for i, text in enumerate(texts) if lexicon.DISCLAIMER_OPENER.search(text)), 0)
    # The sentence that holds the opener may start a line or two above it.
    while opener > 0 and lines.is_prose(texts[opener - 1]):
        opener -= 1
    if opener and not _is_disclaimer(texts[opener:]):
        return 0
    while opener > 0 and lexicon.RULE_LINE.match(texts[opener - 1]):
        opener -= 1
    return opener


def _is_disclaimer(texts: list[str]) -> bool:
    joined = " ".join(texts)
    if len(joined) < _DISCLAIMER_MIN_CHARS:
        return False
    head = joined[:400]
    lowered = head.lower()
    if not any(word in lowered for word in _DISCLAIMER_WORDS):
        return False  # a quick no before the patterns, for most paragraphs
    return bool(lexicon.DISCLAIMER_OPENER.search(head) and lexicon.DISCLAIMER_SUBJECT.search(head))
