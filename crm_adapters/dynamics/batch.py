"""OData ``$batch`` for Dataverse: several GETs in one POST, and their answers back in order.

Request (``POST [api]/$batch``, ``Content-Type: multipart/mixed; boundary="batch_<id>"``)::

    --batch_<id>
    Content-Type: application/http
    Content-Transfer-Encoding: binary

    GET https://org.crm.dynamics.com/api/data/v9.2/contacts?$select=... HTTP/1.1
    Accept: application/json

    --batch_<id>--

Response: ``200``, ``multipart/mixed; boundary=batchresponse_<guid>``, one ``application/http``
part per request, in order, each ``HTTP/1.1 <status> <reason>``, headers, blank line, JSON body.
Parts may also be nested ``multipart/mixed`` change sets; their answers are flattened in order.
Lines end with CRLF; bare LF is accepted when reading.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

_CRLF = "\r\n"
_BOUNDARY = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)?\s+(\d{3})")


@dataclass(frozen=True, slots=True)
class Answer:
    """One part of a batch response."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""

    def json(self) -> object:
        """Return the body as JSON, or None when it is empty or not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def build(
    urls: Sequence[str], headers: Mapping[str, str] | None = None, boundary: str | None = None
) -> tuple[str, bytes]:
    """Return the boundary and the body of a batch of GETs of absolute ``urls``."""
    boundary = boundary or f"batch_{uuid.uuid4()}"
    lines: list[str] = []
    for url in urls:
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            f"GET {url} HTTP/1.1",
            "Accept: application/json",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
            "",
        ]
    lines += [f"--{boundary}--", ""]
    return boundary, _CRLF.join(lines).encode("utf-8")


def parse(content_type: str, body: bytes) -> list[Answer]:
    """Return the answers of a batch response in order; ValueError if it is not one."""
    found = _BOUNDARY.search(content_type)
    if not content_type.lower().startswith("multipart/mixed") or found is None:
        raise ValueError(f"not a multipart batch response: {content_type!r}")
    answers: list[Answer] = []
    for part in _parts(body, found.group(1)):
        part_headers, content = _split_headers(part)
        part_type = part_headers.get("content-type", "")
        if part_type.lower().startswith("multipart/mixed"):
            answers += parse(part_type, content)
        else:
            answers.append(_answer(content))
    return answers


def _parts(body: bytes, boundary: str) -> list[bytes]:
    delimiter = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*(?:\r?\n|$)"
    )
    parts: list[bytes] = []
    position, closed = None, False
    for match in delimiter.finditer(body):
        if position is not None:
            parts.append(body[position : match.start()])
        if match.group(1):
            closed = True
            break
        position = match.end()
    if not closed:
        raise ValueError("batch response has no closing delimiter")
    return parts


def _split_headers(block: bytes) -> tuple[dict[str, str], bytes]:
    """Split a MIME or HTTP block into lower-cased headers and what follows the blank line."""
    if block.startswith((b"\r\n", b"\n")):  # no headers at all
        return {}, block.lstrip(b"\r\n")
    found = _BLANK_LINE.search(block)
    head, rest = (block, b"") if found is None else (block[: found.start()], block[found.end() :])
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _answer(content: bytes) -> Answer:
    status_line, _, rest = content.partition(b"\n")
    found = _STATUS_LINE.match(status_line.strip())
    if found is None:
        raise ValueError("batch part without an HTTP status line")
    headers, body = _split_headers(rest)
    return Answer(int(found.group(1)), headers, body.rstrip(b"\r\n"))
