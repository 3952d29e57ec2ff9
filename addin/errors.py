"""One JSON error shape for every failure: ``{"error": code, "message": human text}``.

A few answers add members that say more (``ApiError.extra``: the setting a 422 refuses, the
version a 409 found); ``error`` and ``message`` are always there.

``ApiError`` is what services and views raise on purpose. HTTP errors from Flask/Werkzeug
(unknown route, wrong method, body too large) and `crm_adapters.errors` are translated here in
one table each, so no view has its own error format and nothing reaches the rep as a bare 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from crm_adapters import errors as crm

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A failure the caller can act on, with its HTTP status.

    ``extra`` adds members to the JSON answer next to ``error`` and ``message`` (the setting a
    422 refuses, the version a 409 found), for the few answers that say more.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = dict(extra or {})


#: Werkzeug's HTTP errors, reworded for the rep and the integrator.
HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("body_too_large", "The request body is larger than this server accepts."),
    415: ("unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."),
}

#: Our CRM error tree to HTTP: status, code, and whether the rep can retry.
CRM_STATUSES: list[tuple[type[crm.CrmError], int, str]] = [
    (crm.ConsentRequired, 403, "crm_consent_required"),
    (crm.NotSignedIn, 401, "crm_sign_in_required"),
    (crm.NotFound, 404, "crm_not_found"),
    (crm.Conflict, 409, "crm_conflict"),
    (crm.RateLimited, 429, "crm_rate_limited"),
    (crm.Unavailable, 503, "crm_unavailable"),
    (crm.Rejected, 422, "crm_rejected"),
    (crm.CrmError, 502, "crm_error"),
]


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """Build the JSON error response."""
    response = jsonify({**(extra or {}), "error": code, "message": message})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _from_api_error(error: ApiError) -> Response:
    return error_response(error.status, error.code, error.message, error.headers, error.extra)


def _from_http_exception(error: HTTPException) -> Any:
    status = error.code or 500
    code, message = HTTP_MESSAGES.get(status, (f"http_{status}", error.description or ""))
    headers = {}
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    if not _wants_json() and status == 404:
        return error
    return error_response(status, code, message, headers)


def _from_crm_error(error: crm.CrmError) -> Response:
    for kind, status, code in CRM_STATUSES:
        if isinstance(error, kind):
            headers = {}
            if isinstance(error, crm.RateLimited):
                headers["Retry-After"] = str(max(1, round(error.retry_after)))
            response = error_response(status, code, str(error), headers)
            if isinstance(error, crm.NotSignedIn) and error.claims:
                # The client passes Entra's claims challenge to Office when it asks again.
                response.set_data(
                    json.dumps({"error": code, "message": str(error), "claims": error.claims})
                )
            return response
    raise AssertionError("CrmError is the last row of CRM_STATUSES")


def _from_unexpected(error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(
        500, "internal_error", "Something went wrong on our side. Try again in a moment."
    )


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    """Register the translators on the app."""
    app.register_error_handler(ApiError, _from_api_error)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(crm.CrmError, _from_crm_error)
    app.register_error_handler(Exception, _from_unexpected)
