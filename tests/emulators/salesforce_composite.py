"""The composite resources: ``composite/batch`` and ``composite/sobjects``.

Features
--------
- `run_batch`: up to 25 subrequests ``{"method", "url", "richInput"}`` (``url`` relative to
  ``/services/data/``, such as ``v59.0/query/?q=...``, or absolute) served one after the other
  with the batch's own session; the answer is ``{"hasErrors", "results": [{"statusCode",
  "result"}]}`` in order, a failed subrequest's result being its error array. With
  ``haltOnError`` the subrequests after a failure answer 412 BATCH_PROCESSING_HALTED. A batch
  cannot hold another composite request.
- `create_records`: up to 200 records, each naming its object in ``attributes.type``, created
  one by one; the answer lists ``{"id", "success", "errors"}`` (errors as ``{"statusCode",
  "message", "fields"}``). With ``allOrNone`` one failure rolls every record back, and the
  records that would have succeeded say ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .loopback import Reply, Request
from .salesforce_objects import CATALOG
from .salesforce_store import Records
from .salesforce_writes import ApiError, Writer

REST_ROOT = "/services/data"
MAX_BATCH_REQUESTS = 25
MAX_COMPOSITE_RECORDS = 200


def run_batch(body: Any, serve: Callable[[Request], Reply], authorization: str) -> dict[str, Any]:
    """Serve a batch's subrequests in order and collect their answers."""
    subrequests = body.get("batchRequests") if isinstance(body, dict) else None
    if not isinstance(subrequests, list) or not subrequests:
        raise ApiError(400, "JSON_PARSER_ERROR", "batchRequests is required")
    if len(subrequests) > MAX_BATCH_REQUESTS:
        raise ApiError(
            400,
            "INVALID_BATCH_REQUEST",
            f"A batch can contain at most {MAX_BATCH_REQUESTS} requests",
        )
    halt = bool(body.get("haltOnError"))
    results: list[dict[str, Any]] = []
    has_errors = halted = False
    for subrequest in subrequests:
        if halted:
            error = ApiError(412, "BATCH_PROCESSING_HALTED", "Batch processing halted per request")
            results.append({"statusCode": 412, "result": error.body()})
            continue
        try:
            reply = serve(_subrequest(subrequest, authorization))
        except ApiError as error:
            reply = Reply(error.status, error.body())
        results.append({"statusCode": reply.status, "result": reply.body})
        if reply.status >= 400:
            has_errors, halted = True, halt
    return {"hasErrors": has_errors, "results": results}


def _subrequest(subrequest: Any, authorization: str) -> Request:
    if not isinstance(subrequest, dict) or not isinstance(subrequest.get("url"), str):
        raise ApiError(400, "JSON_PARSER_ERROR", "Each batch request needs a method and a url")
    url = urlsplit(subrequest["url"])
    path = url.path if url.path.startswith("/") else f"{REST_ROOT}/{url.path}"
    if "/composite/" in path:
        raise ApiError(400, "INVALID_BATCH_REQUEST", "Composite requests cannot be nested")
    body = subrequest.get("richInput")
    return Request(
        str(subrequest.get("method", "GET")).upper(),
        path,
        parse_qs(url.query, keep_blank_values=True),
        {"authorization": authorization},
        b"" if body is None else json.dumps(body).encode("utf-8"),
    )


def create_records(body: Any, writer: Writer, records: Records) -> list[dict[str, Any]]:
    """Create each record of a ``composite/sobjects`` body; all or none if asked."""
    items = body.get("records") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "records is required")
    if len(items) > MAX_COMPOSITE_RECORDS:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_COMPOSITE_RECORDS} records"
            " into this call",
        )
    all_or_none = bool(body.get("allOrNone"))
    results: list[dict[str, Any]] = []
    try:
        with records.transaction():
            results.extend(_create(item, writer) for item in items)
            if all_or_none and not all(result["success"] for result in results):
                raise _RollBack
    except _RollBack:
        results = [_rolled_back(result) for result in results]
    return results


class _RollBack(Exception):
    """Raised inside a composite request's transaction to undo it."""


def _create(item: Any, writer: Writer) -> dict[str, Any]:
    try:
        attributes = item.get("attributes") if isinstance(item, dict) else None
        name = attributes.get("type") if isinstance(attributes, dict) else None
        if not isinstance(name, str):
            raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
        sobject = CATALOG.get(name)
        if sobject is None:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{name}' is not supported.")
        row = writer.create(sobject, item)
    except ApiError as error:
        problem = {"statusCode": error.code, "message": error.message, "fields": error.fields}
        return {"success": False, "errors": [problem]}
    return {"id": row["Id"], "success": True, "errors": []}


def _rolled_back(result: dict[str, Any]) -> dict[str, Any]:
    if not result["success"]:
        return result
    problem = {
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was"
        " using AllOrNone header",
        "fields": [],
    }
    return {"success": False, "errors": [problem]}
