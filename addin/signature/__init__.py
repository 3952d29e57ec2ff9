"""Read the sender's signature from an email and turn it into a contact (PRODUCT.md rule 8).

Features:
- languages: English, Italian, Danish, Polish, German, French, Spanish, Dutch;
- input: a body (text/plain or text/html) with the From name and address, or a raw RFC 5322
  message in any charset and transfer encoding;
- steps: ``message`` (MIME, charset, HTML to lines) -> ``quotes`` (the sender's new message,
  without quoted replies, forwards, mobile footers, disclaimers) -> ``block`` (the signature
  block) -> ``fields`` and ``phones`` (name, job title, company, phones in E.164, website);
- never raises on bad input: empty, binary, huge (the work per email is capped), malformed MIME
  or unknown charsets give what could be read, or an empty result.

Configuration: none. Everything is pure functions over immutable data; the word lists are in
``lexicon``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from addin.signature import block as block_finder
from addin.signature import lexicon, names, quotes
from addin.signature.fields import Card, read_card
from addin.signature.message import MAX_BODY_CHARS, html_to_text, parse_eml
from addin.signature.phones import Phone

# Escapes of whitespace and line breaks, the tell-tale of undecoded quoted-printable.
_QP_ESCAPE = re.compile(r"=(09|20|3D|0A|0D)")
_QP_MIN_ESCAPES = 3
# A ">"-quoted line, and how far down the body to look for one when nothing else is written.
_QUOTED = re.compile(r"^[ \t]*> ?")
_QUOTE_LOOK = 40
_MAX_LINE_CHARS = 1_000
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")

__all__ = ["Phone", "SignatureResult", "read_eml", "read_signature"]


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """The contact read from a signature, and where the signature is.

    ``signature_lines`` are zero-based indices into the body's lines (split on newlines) when the
    body is text/plain, else None. They cover the whole block: valediction, name, card and a
    trailing client footer ("Sent from my iPhone"), but not a legal disclaimer.
    ``signoff_lines`` is the part of them that is the sign-off (the valediction and the name
    under it, or an internal extension right under that), for callers that want the card alone.
    """

    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    company: str | None = None
    email: str | None = None
    phones: tuple[Phone, ...] = ()
    website: str | None = None
    signature: str | None = None
    signature_lines: tuple[int, ...] | None = None
    signoff_lines: tuple[int, ...] = ()

    @property
    def has_signature(self) -> bool:
        return self.signature is not None

    def contact(self) -> dict[str, object]:
        """The contact as the New contact form and the CLI want it; absent fields are None."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "job_title": self.job_title,
            "company": self.company,
            "email": self.email,
            "phones": [{"kind": p.kind, "e164": p.e164} for p in self.phones],
            "website": self.website,
        }


def read_signature(
    body: str,
    *,
    content_type: str = "text/plain",
    from_name: str = "",
    from_address: str = "",
) -> SignatureResult:
    """Read the sender's signature from a message body; never raises on bad input."""
    try:
        return _read(body, content_type, from_name, from_address)
    except Exception:
        return SignatureResult(email=from_address or None)


def read_eml(raw: bytes) -> SignatureResult:
    """Read the sender's signature from a raw RFC 5322 message; never raises on bad input."""
    try:
        mail = parse_eml(raw)
    except Exception:
        return SignatureResult()
    return read_signature(
        mail.text,
        content_type=mail.content_type,
        from_name=mail.from_name,
        from_address=mail.from_address,
    )


def _read(body: str, content_type: str, from_name: str, from_address: str) -> SignatureResult:
    if not isinstance(body, str):
        return SignatureResult(email=from_address or None)
    plain = content_type.lower() != "text/html"
    text = body[:MAX_BODY_CHARS] if plain else html_to_text(body)
    # No signature line is this long; a longer one is cut so that no pattern scans 64 KB at once.
    text_lines = [
        line[:_MAX_LINE_CHARS]
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    if plain and ("\x00" in text or _looks_binary(text)):
        return SignatureResult(email=from_address or None)
    if plain and len(_QP_ESCAPE.findall(text, 0, 20_000)) >= _QP_MIN_ESCAPES:
        # Quoted-printable left undecoded by an export: read each line decoded, keeping the
        # line numbering of the text as given.
        text_lines = [_unquote_printable(line) for line in text_lines]
    message = quotes.find_new_message(text_lines)
    if not any(text_lines[i].strip() for i in message.lines) and any(
        _QUOTED.match(line) for line in text_lines[:_QUOTE_LOOK]
    ):
        # The sender wrote nothing above a ">"-quoted message: read that message, one quoting
        # level down, as a bare forward (the line numbering stays the body's).
        text_lines = [_QUOTED.sub("", line, count=1) for line in text_lines]
        message = quotes.find_new_message(text_lines)
    if message.forwarded_from is not None:
        # A bare forward: the signature read is the forwarded message's author's.
        from_name, from_address = message.forwarded_from
    sender = names.read_sender(from_name, from_address)
    found = block_finder.find_block(text_lines, message, sender)
    if found is None:
        return _from_sender_only(sender, from_address)
    valediction = " ".join(
        text_lines[i] for i in found.signoff if lexicon.VALEDICTION_LINE.match(text_lines[i])
    )
    card: Card = read_card(
        [text_lines[i] for i in found.card],
        signoff_name=found.signoff_name,
        # Country clues may sit in the disclaimer too, which the block leaves out.
        tail=[text_lines[i] for i in message.tail if text_lines[i].strip()],
        sender=sender,
        from_address=from_address,
        valediction=valediction,
    )
    first_line, last_line = found.lines[0], found.lines[-1]
    signature = "\n".join(t.rstrip() for t in text_lines[first_line : last_line + 1]).strip()
    return SignatureResult(
        first_name=card.first_name,
        last_name=card.last_name,
        job_title=card.job_title,
        company=card.company,
        email=card.email,
        phones=card.phones,
        website=card.website,
        signature=signature or None,
        signature_lines=found.lines if plain else None,
        signoff_lines=found.signoff if plain else (),
    )


def _from_sender_only(sender: names.Sender, from_address: str) -> SignatureResult:
    """No signature: the From header still gives the name and address."""
    return SignatureResult(
        first_name=sender.first or None,
        last_name=sender.last or None,
        email=from_address or None,
    )


def _unquote_printable(line: str) -> str:
    line = line[:-1] if line.endswith("=") else line
    return _QP_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line)


def _looks_binary(text: str) -> bool:
    """Many control characters in the first kilobyte mean the body is not text."""
    sample = text[:1024]
    return len(_CONTROL_CHARS.findall(sample)) > len(sample) // 20 + 1
