"""The JSON API: thin views that parse, call one service, and render its answer.

Every route needs a valid bearer token (`addin.auth.authenticate`) except the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from ..auth import authenticate
from . import openapi
from .validation import reject_nul

api = Blueprint("api", __name__, url_prefix="/api")

PUBLIC_ENDPOINTS = {"api.openapi_document"}


@api.before_request
def _require_identity() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        authenticate()
    for name, value in request.args.items(multi=True):
        reject_nul(value, name)


@api.get("/openapi.json")
def openapi_document() -> Any:
    """Serve the OpenAPI document of this API."""
    return openapi.document(current_app.config["BASE_URL"])


# The view modules register their routes on `api` when imported.
from . import admin, choices, items, me, notes  # noqa: E402, F401
