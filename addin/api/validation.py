"""Parse and validate a JSON request body against its published schema."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..errors import ApiError
from .schemas import SCHEMAS


@cache
def _validator(name: str) -> Draft202012Validator:
    # The root carries the components so "#/components/schemas/..." references resolve.
    schema = {**SCHEMAS[name], "components": {"schemas": SCHEMAS}}
    return Draft202012Validator(schema)


def validated_body(schema_name: str) -> dict[str, Any]:
    """Return the request's JSON body if it matches the schema; otherwise a readable 4xx."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON (application/json).")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "invalid_json", "The body is not valid JSON.")
    error = next(iter(sorted(_validator(schema_name).iter_errors(body), key=_depth)), None)
    if error is not None:
        raise ApiError(422, "invalid_request", _describe(error))
    reject_nul(body)
    result: dict[str, Any] = body
    return result


def _depth(error: ValidationError) -> int:
    return -len(error.absolute_path)


def _describe(error: ValidationError) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    field = where.lstrip(".") or "the body"
    return f"{field}: {error.message}"


def reject_nul(value: Any, where: str = "the body") -> None:
    """Refuse NUL characters: no text we store or send to a CRM can hold them (PostgreSQL can't)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError(422, "invalid_request", f"{where}: contains a NUL character.")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key, where)
            reject_nul(item, f"{where}.{key}" if where != "the body" else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            reject_nul(item, f"{where}[{index}]")
