"""The ``$batch`` wire format: multipart/mixed requests in, multipart/mixed responses out.

Features
--------
- `parse_batch` reads a ``multipart/mixed; boundary=...`` body into `BatchRequest` parts and
  `ChangeSet` groups (a nested ``multipart/mixed`` part). Each part is ``application/http``: a
  request line (absolute URL, path, or path relative to ``/api/data/v9.2/``), headers, a blank
  line and an optional body. ``Content-ID`` of changeset parts is kept for ``$n`` references.
- Limits as Dataverse: at most 1,000 requests per batch; no GET inside a changeset.
- `render_batch` writes the responses, in order, each a full ``HTTP/1.1`` response in its own
  ``application/http`` part, under ``batchresponse_<guid>`` (``changesetresponse_<guid>`` for a
  changeset); it returns the body and its Content-Type.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from .loopback import Reply
from .odata import ODataError

MAX_BATCH_REQUESTS = 1000
JSON_CONTENT_TYPE = "application/json; odata.metadata=minimal"


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One request inside a batch."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes
    content_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Requests that succeed or fail together."""

    requests: tuple[BatchRequest, ...]


BatchItem = BatchRequest | ChangeSet


def boundary_of(content_type: str) -> str:
    """Return the boundary parameter of a multipart Content-Type, or raise."""
    found = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    if not content_type.lower().startswith("multipart/mixed") or found is None:
        raise ODataError(
            "The batch request must have a multipart/mixed Content-Type with a boundary."
        )
    return found.group(1).strip()


def parse_batch(body: bytes, content_type: str) -> list[BatchItem]:
    """Parse a ``$batch`` body into requests and changesets, in order."""
    items: list[BatchItem] = []
    for headers, content in _parts(body, boundary_of(content_type)):
        part_type = headers.get("content-type", "")
        if part_type.lower().startswith("multipart/mixed"):
            requests = tuple(
                _request(inner_headers, inner)
                for inner_headers, inner in _parts(content, boundary_of(part_type))
            )
            if any(request.method == "GET" for request in requests):
                raise ODataError("A changeset cannot contain a GET request.")
            items.append(ChangeSet(requests))
        else:
            items.append(_request(headers, content))
    count = sum(len(item.requests) if isinstance(item, ChangeSet) else 1 for item in items)
    if count > MAX_BATCH_REQUESTS:
        raise ODataError(
            f"The number of requests in the batch, {count}, exceeds the maximum of"
            f" {MAX_BATCH_REQUESTS}."
        )
    return items


def _parts(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart body into (headers, content) per part."""
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 2 or not chunks[-1].lstrip().startswith(b"--"):
        raise ODataError(f"The batch body is not terminated by '--{boundary}--'.")
    parts = []
    for chunk in chunks[1:-1]:
        chunk = chunk.removeprefix(b"\r\n").removeprefix(b"\n")
        head, content = _split_head(chunk)
        parts.append((_headers(head), content.removesuffix(b"\r\n").removesuffix(b"\n")))
    return parts


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    """Split at the first blank line into a header block and the rest."""
    found = re.search(rb"\r?\n\r?\n", data)
    if found is None:
        return data, b""
    return data[: found.start()], data[found.end() :]


def _headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.decode("utf-8").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def _request(part_headers: Mapping[str, str], content: bytes) -> BatchRequest:
    """Read the HTTP request carried by one ``application/http`` part."""
    if not part_headers.get("content-type", "").lower().startswith("application/http"):
        raise ODataError("Each batch part must have Content-Type application/http.")
    head, body = _split_head(content)
    lines = head.decode("utf-8").splitlines()
    request_line = lines[0].split() if lines else []
    if len(request_line) != 3 or not request_line[2].startswith("HTTP/"):
        raise ODataError(f"The batch part has an invalid request line: {lines[:1]!r}.")
    method, target, _ = request_line
    headers = _headers("\n".join(lines[1:]).encode("utf-8"))
    return BatchRequest(method.upper(), target, headers, body, part_headers.get("content-id"))


ChangeSetReplies = Sequence[tuple[str | None, Reply]]


def render_batch(responses: Sequence[Reply | ChangeSetReplies]) -> tuple[bytes, str]:
    """Write the responses as a multipart body; return it and its Content-Type.

    A changeset's responses come as (Content-ID of its request, reply) pairs.
    """
    boundary = f"batchresponse_{uuid.uuid4()}"
    out = []
    for response in responses:
        out.append(f"--{boundary}\r\n")
        if isinstance(response, Reply):
            out.append(_http_part(response))
        else:
            inner = f"changesetresponse_{uuid.uuid4()}"
            out.append(f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n")
            for content_id, reply in response:
                out.append(f"--{inner}\r\n{_http_part(reply, content_id)}")
            out.append(f"--{inner}--\r\n")
    out.append(f"--{boundary}--\r\n")
    return "".join(out).encode("utf-8"), f"multipart/mixed; boundary={boundary}"


def _http_part(reply: Reply, content_id: str | None = None) -> str:
    """Return one ``application/http`` part holding ``reply``, ending with a line break."""
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    status = HTTPStatus(reply.status)
    lines += ["", f"HTTP/1.1 {status.value} {status.phrase}"]
    body = "" if reply.body is None else json.dumps(reply.body)
    if body:
        lines.append(f"Content-Type: {reply.content_type or JSON_CONTENT_TYPE}")
    lines += [f"{name}: {value}" for name, value in reply.headers.items()]
    lines += ["", body]
    return "\r\n".join(lines) + "\r\n"
