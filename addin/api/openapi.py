"""The OpenAPI 3.1 document of every JSON endpoint, served at ``/api/openapi.json``.

Paths are declared here next to their bodies and answers, so a test can check that every route
of the ``api`` blueprint is documented and a fuzzer can exercise all of them.
"""

from __future__ import annotations

from typing import Any

from .schemas import AUDIT_DEFAULT, AUDIT_MAX, SCHEMAS, ref

Operation = dict[str, Any]

BEARER: list[dict[str, list[str]]] = [{"entra": []}]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "The body is not valid JSON.",
        401: "No valid bearer token.",
        404: "Not found (or not yours).",
        409: "The rep has no CRM environment connected yet (choose_environment, signed_out, "
        "no_environments): connect in the pane first.",
        413: "The body is too large.",
        415: "The body is not JSON.",
        422: "The body does not match the schema, or a value is invalid.",
        429: "The CRM asked us to slow down; see Retry-After.",
        503: "The CRM or the identity provider is not reachable; try again.",
    }
    # Every call with errors works in the rep's connected CRM environment, hence 409 everywhere.
    return {str(s): _json(ref("Error"), text[s]) for s in (401, 409, *statuses)}


def _admin_errors(*statuses: int) -> dict[str, Any]:
    """The admin calls' errors: no CRM environment needed, but the admin role is."""
    text = {
        400: "The body is not valid JSON.",
        401: "No valid bearer token.",
        403: "The caller is not an admin of their organisation (admin_only).",
        415: "The body is not JSON.",
        422: "The body does not match the schema.",
    }
    return {str(s): _json(ref("Error"), text[s]) for s in (401, 403, *statuses)}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> Operation:
    return {"summary": summary, "security": BEARER, "responses": responses, **extra}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(name)}}}


NOTE_ID = {
    "name": "note_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}

PATHS: dict[str, dict[str, Operation]] = {
    "/api/me": {
        "get": _op("Who am I, as the API sees the token", {"200": _json(ref("Me"), "The caller.")})
    },
    "/api/items/resolve": {
        "post": _op(
            "Match every address of an open item to CRM contacts (one CRM round trip)",
            {
                "200": _json(ref("Resolution"), "Each address with its status."),
                **_errors(400, 413, 415, 422, 429, 503),
            },
            requestBody=_body("ResolveRequest"),
        )
    },
    "/api/choices": {
        "get": _op(
            "The rep's contact choices",
            {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["choices"],
                        "properties": {"choices": {"type": "array", "items": ref("Choice")}},
                    },
                    "The rep's own choices, newest first.",
                )
            },
        ),
        "put": _op(
            "Choose the contact an address means for this rep",
            {"200": _json(ref("Choice"), "The choice."), **_errors(400, 415, 422, 429, 503)},
            requestBody=_body("ChoiceRequest"),
        ),
        "delete": _op(
            "Forget the rep's choice for an address",
            {"204": {"description": "Forgotten."}, **_errors(404, 422)},
            parameters=[
                {
                    "name": "address",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 320},
                }
            ],
        ),
    },
    "/api/notes": {
        "get": _op(
            "The rep's private notes on a contact",
            {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["notes"],
                        "properties": {"notes": {"type": "array", "items": ref("Note")}},
                    },
                    "Newest first; only the caller's own.",
                ),
                **_errors(422),
            },
            parameters=[
                {
                    "name": "contact_id",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                }
            ],
        ),
        "post": _op(
            "Write a private note on a contact",
            {"201": _json(ref("Note"), "The note."), **_errors(400, 413, 415, 422)},
            requestBody=_body("NoteCreate"),
        ),
    },
    "/api/notes/{note_id}": {
        "get": _op(
            "One of the rep's notes",
            {"200": _json(ref("Note"), "The note."), **_errors(404)},
            parameters=[NOTE_ID],
        ),
        "patch": _op(
            "Change the text of one of the rep's notes",
            {"200": _json(ref("Note"), "The note."), **_errors(400, 404, 415, 422)},
            parameters=[NOTE_ID],
            requestBody=_body("NoteUpdate"),
        ),
        "delete": _op(
            "Delete one of the rep's notes",
            {"204": {"description": "Deleted."}, **_errors(404)},
            parameters=[NOTE_ID],
        ),
    },
    "/api/admin/settings": {
        "get": _op(
            "The organisation's settings (admins only)",
            {"200": _json(ref("SettingsDocument"), "The settings and their version.")}
            | _admin_errors(),
        ),
        "patch": _op(
            "Change some of the organisation's settings: all saved, or none (admins only)",
            {
                "200": _json(ref("SettingsDocument"), "The settings as saved."),
                **_admin_errors(400, 415),
                "409": _json(ref("StaleSettings"), "Another admin saved since that version."),
                "422": _json(
                    {"anyOf": [ref("SettingError"), ref("Error")]},
                    "A value is refused (invalid_setting names the field) or the body does not "
                    "match the schema (invalid_request).",
                ),
            },
            requestBody=_body("SettingsUpdate"),
        ),
    },
    "/api/admin/audit": {
        "get": _op(
            "Who changed what and when, newest first (admins only)",
            {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["audit"],
                        "properties": {"audit": {"type": "array", "items": ref("AuditLine")}},
                    },
                    "The latest lines of the audit trail.",
                ),
                **_admin_errors(422),
            },
            parameters=[
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": AUDIT_MAX,
                        "default": AUDIT_DEFAULT,
                    },
                }
            ],
        )
    },
    "/api/admin/status": {
        "get": _op(
            "Consent, the CRM features and the latest provisioning run (admins only)",
            {"200": _json(ref("AdminStatus"), "What the admin page shows.")} | _admin_errors(),
        )
    },
}


def document(server_url: str) -> dict[str, Any]:
    """Return the whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sidepane API",
            "version": "1",
            "description": "The JSON API behind the Sidepane Outlook pane. Every call needs an "
            "Entra access token for the add-in with the access_as_user scope. Errors are "
            '`{"error": code, "message": text}`.',
        },
        "servers": [{"url": server_url}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "entra": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
