"""Turn an RFC 5322 message into what the signature reader needs: sender and body lines.

Features:
- any transfer encoding (base64, quoted-printable, 7/8bit) and any charset; an unknown or lying
  charset falls back to UTF-8, then Windows-1252, never raising;
- the text/plain part is preferred; an HTML-only message is turned into lines faithfully
  (``<br>``, ``<div>``, ``<p>``, table rows and cells, entities, ``tel:`` and ``mailto:`` links),
  and the quoted part of an HTML reply (``blockquote``, ``gmail_quote``, Outlook's divider) is cut
  before conversion, where the markup still says where it starts;
- the work per message is capped: at most ``MAX_RAW_BYTES`` of the message are parsed and at most
  ``MAX_BODY_CHARS`` of the body are read.
"""

from __future__ import annotations

import binascii
import email
import email.errors
import html
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses

# The sender's new message and signature sit at the top of the body; what lies beyond these caps
# is quoted history or attachments, and reading it would only cost time.
MAX_RAW_BYTES = 512 * 1024
MAX_BODY_CHARS = 64 * 1024
MAX_PARTS = 64
# The common shapes "Name <a@b>" and "a@b", read without the full address parser.
_SIMPLE_FROM = re.compile(
    r'^\s*"?([^"<>,@]*?)"?\s*<([^<>\s,"]+@[^<>\s,"]+)>\s*$|^\s*()([^<>\s,"]+@[^<>\s,"]+)\s*$'
)

# The blank line after the headers; starting with a literal "\n" lets the search skip ahead fast.
_HEADER_END = re.compile(rb"\n\r?\n")
_HEADER_NAME = re.compile(r"([\x21-\x39\x3b-\x7e]+):")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MailBody:
    """The parts of a message the reader uses."""

    text: str
    content_type: str
    from_name: str
    from_address: str


_EMPTY = MailBody(text="", content_type="text/plain", from_name="", from_address="")


def parse_eml(raw: bytes) -> MailBody:
    """Read sender and body from a raw RFC 5322 message; an empty body when unreadable."""
    if not raw:
        return _EMPTY
    raw = raw[:MAX_RAW_BYTES]
    fast = _parse_single_part(raw)
    if fast is not None:
        return fast
    try:
        message = email.message_from_bytes(raw)
    except (email.errors.MessageError, ValueError, TypeError, LookupError, IndexError):
        return _EMPTY
    from_name, from_address = _sender(message)
    part = _body_part(message)
    if part is None:
        return MailBody("", "text/plain", from_name, from_address)
    content_type = part.get_content_type()
    return MailBody(_decode_part(part), content_type, from_name, from_address)


def _parse_single_part(raw: bytes) -> MailBody | None:
    """Read a plain single-part message without the stdlib parser; None when it is anything else.

    Most messages are one text part with ASCII headers; the stdlib parser costs more than the
    rest of the reader on them. Anything unusual (multipart, an attachment, non-ASCII or malformed
    headers, an mbox "From " line, uuencode, broken base64) returns None, for the full parser.
    """
    split = _HEADER_END.search(raw)
    if split is None:
        return None
    head_end = split.start()
    if raw[head_end - 1 : head_end] == b"\r":
        head_end -= 1
    head = raw[:head_end]
    if not head.isascii() or head.startswith(b"From "):
        return None
    headers: dict[str, str] = {}
    current: str | None = None  # the header a folded line continues; None for a repeated one
    started = False
    for line in head.decode("ascii").splitlines(keepends=True):
        if line[:1] in (" ", "\t"):
            if not started:
                return None
            if current is not None:
                headers[current] += line
            continue
        match = _HEADER_NAME.match(line)
        if match is None:
            return None
        started = True
        current = match.group(1).lower()
        if current in headers:
            current = None  # the first occurrence wins, as ``Message.get`` does
            continue
        headers[current] = line[match.end() :].lstrip(" \t")
    values = {k: v.rstrip("\r\n") for k, v in headers.items()}
    if "content-disposition" in values:
        return None
    content_type = values.get("content-type", "text/plain")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind.count("/") != 1:
        kind = "text/plain"
    if kind not in ("text/plain", "text/html") or "*=" in content_type:
        return None
    charset_match = _CHARSET.search(content_type)
    charset = charset_match.group(1).lower() if charset_match else "utf-8"
    payload = _decode_transfer(raw[split.end() :], values.get("content-transfer-encoding", ""))
    if payload is None:
        return None
    from_name, from_address = _sender_from(lambda field: values.get(field.lower()))
    text = decode_bytes(payload[: MAX_BODY_CHARS * 4], charset)[:MAX_BODY_CHARS]
    return MailBody(text, kind, from_name, from_address)


def _decode_transfer(body: bytes, encoding: str) -> bytes | None:
    """The body without its transfer encoding; None for encodings left to the full parser."""
    encoding = encoding.strip().lower()
    if encoding == "quoted-printable":
        return quopri.decodestring(body)
    if encoding == "base64":
        try:
            return binascii.a2b_base64(b"".join(body.splitlines()), strict_mode=False)
        except (binascii.Error, ValueError):
            return None
    if encoding in ("", "7bit", "8bit", "binary"):
        return body
    return None


def _sender(message: Message) -> tuple[str, str]:
    return _sender_from(message.get)


def _sender_from(get: Callable[[str], object]) -> tuple[str, str]:
    try:
        value = get("From")
        if value is None:
            return "", ""
        decoded = str(value)
        if "=?" in decoded:
            decoded = str(make_header(decode_header(decoded)))
        simple = _SIMPLE_FROM.match(decoded)
        if simple:
            addresses = [(simple.group(1) or "", simple.group(2) or simple.group(4) or "")]
        else:
            addresses = getaddresses([decoded])
    except (email.errors.MessageError, ValueError, TypeError, LookupError, UnicodeError):
        return "", ""
    if not addresses:
        return "", ""
    name, address = addresses[0]
    # Exchange exports carry the display name in X-From when From has only the address.
    if not name:
        x_from = get("X-From")
        if x_from:
            name = re.sub(r"\s*<[^>]*>\s*$", "", str(x_from)).strip()
    return name.strip().strip("'\""), address.strip()


def _body_part(message: Message) -> Message | None:
    """Pick the first text/plain part, else the first text/html, skipping attachments."""
    plain: Message | None = None
    rich: Message | None = None
    for count, part in enumerate(message.walk()):
        if count >= MAX_PARTS:
            break
        if part.is_multipart():
            continue
        if (part.get("Content-Disposition") or "").lower().startswith("attachment"):
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and rich is None:
            rich = part
        if plain is not None:
            break
    return plain if plain is not None else rich


def _decode_part(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        return ""
    if not isinstance(payload, bytes):
        return ""
    payload = payload[: MAX_BODY_CHARS * 4]
    charset = part.get_content_charset() or "utf-8"
    return decode_bytes(payload, charset)[:MAX_BODY_CHARS]


def decode_bytes(payload: bytes, charset: str) -> str:
    """Decode with the declared charset, falling back to UTF-8 then Windows-1252."""
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    # Windows-1252 maps almost every byte; "replace" covers the five it does not.
    return payload.decode("cp1252", errors="replace")


# --- HTML to lines -------------------------------------------------------------------------------

_DROPPED_ELEMENTS = re.compile(
    r"<(head|style|script|title|xml|o:p)\b[^>]*>.*?</\1\s*>|<!--.*?-->|<!\[CDATA\[.*?\]\]>",
    re.IGNORECASE | re.DOTALL,
)
# Where a client starts the quoted message in HTML. Cutting here keeps their markup (and a
# quoted signature) out of the sender's message.
_HTML_QUOTE_START = re.compile(
    r"<blockquote\b|<div[^>]*\b(?:class|id)=[\"']?(?:gmail_quote|gmail_attr|moz-cite-prefix|"
    r"yahoo_quoted|divRplyFwdMsg|OLK_SRC_BODY_SECTION|appendonsend|mail-quote|protonmail_quote|"
    r"zimbra_quoted)"
    r"|<hr[^>]*\bid=[\"']?stopSpelling|<hr[^>]*tabindex=[\"']?-1"
    r"|<div[^>]*style=[\"'][^\"']*border-top:\s*solid\s*#(?:E1E1E1|B5C4DF)",
    re.IGNORECASE,
)
_LINK = re.compile(
    r"<a\b[^>]*\bhref=[\"']?(?P<href>[^\"'\s>]*)[^>]*>(?P<text>.*?)</a\s*>",
    re.IGNORECASE | re.DOTALL,
)
# A run of block tags is one line break (Gmail's and Outlook's nested <div>s and <p>s would
# otherwise add blank lines that are not on screen); every <br> is one.
_BLOCK_RUN = re.compile(
    r"(?:\s*</?(?:p|div|tr|li|ul|ol|table|tbody|thead|tfoot|h[1-6]|pre|section|article|header|"
    r"footer|address|center|hr|dl|dt|dd|blockquote|span style=\"display:block\")\b[^>]*>\s*)+",
    re.IGNORECASE,
)
_LINE_BREAK = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
_CELL = re.compile(r"</?t[dh]\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>", re.DOTALL)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b\u200c\u200d\ufeff]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def html_to_text(markup: str) -> str:
    """Turn HTML into lines the way a reader sees them, without the quoted reply."""
    markup = markup[: MAX_BODY_CHARS * 4]
    markup = _DROPPED_ELEMENTS.sub("", markup)
    cut = _HTML_QUOTE_START.search(markup)
    if cut is not None:
        markup = markup[: cut.start()]
    markup = _LINK.sub(_link_text, markup)
    # HTML source newlines are not line breaks; only markup is.
    markup = markup.replace("\r", " ").replace("\n", " ")
    markup = _BLOCK_RUN.sub("\n", markup)
    markup = _LINE_BREAK.sub("\n", markup)
    markup = _CELL.sub(" \t ", markup)
    markup = _TAG.sub("", markup)
    text = html.unescape(markup)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")[:MAX_BODY_CHARS]


def _link_text(match: re.Match[str]) -> str:
    """Keep a link's visible text; use the number or address when the text hides it."""
    href = match.group("href")
    text = match.group("text")
    visible = _TAG.sub("", text).strip()
    lower = href.lower()
    if lower.startswith(("tel:", "callto:")):
        number = html.unescape(href.split(":", 1)[1]).strip()
        return text if any(ch.isdigit() for ch in visible) else number
    if lower.startswith("mailto:"):
        address = html.unescape(href.split(":", 1)[1].split("?", 1)[0]).strip()
        return text if "@" in visible else f"{visible} {address}".strip()
    return text
