"""JSON Schemas of the API's bodies: published in the OpenAPI document and enforced on requests.

One source of truth: the document describes exactly what `validated_body` accepts.
"""

from __future__ import annotations

from typing import Any

ADDRESS_MAX = 320
NAME_MAX = 256
RECIPIENTS_MAX = 500
NOTE_MAX = 10_000
ID_MAX = 200

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _recipients() -> Schema:
    return {"type": "array", "items": ref("Recipient"), "maxItems": RECIPIENTS_MAX}


SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "machine-readable code"},
            "message": {"type": "string", "description": "what happened and what to do next"},
        },
    },
    "Recipient": {
        "type": "object",
        "required": ["address"],
        "additionalProperties": False,
        "properties": {
            "address": {"type": "string", "maxLength": ADDRESS_MAX},
            "name": {"type": "string", "maxLength": NAME_MAX},
        },
    },
    "Item": {
        "type": "object",
        "description": "The addresses of the open email or meeting, as Office.js reads them.",
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "enum": ["message", "appointment"]},
            "mailbox": {
                "type": "string",
                "maxLength": ADDRESS_MAX,
                "description": "the rep's own mailbox address, never offered as a contact",
            },
            "from": ref("Recipient"),
            "to": _recipients(),
            "cc": _recipients(),
            "bcc": _recipients(),
            "organizer": ref("Recipient"),
            "attendees": _recipients(),
        },
    },
    "ResolveRequest": {
        "type": "object",
        "required": ["item"],
        "additionalProperties": False,
        "properties": {"item": ref("Item")},
    },
    "Contact": {
        "type": "object",
        "required": ["id", "first_name", "last_name", "full_name", "emails", "url", "crm"],
        "properties": {
            "id": {"type": "string"},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "full_name": {"type": "string"},
            "emails": {"type": "array", "items": {"type": "string"}},
            "job_title": {"type": "string"},
            "company": {"type": "string"},
            "account_id": {"type": ["string", "null"]},
            "business_phone": {"type": "string"},
            "mobile_phone": {"type": "string"},
            "url": {"type": "string"},
            "crm": {"type": "string"},
        },
    },
    "ResolvedAddress": {
        "type": "object",
        "required": ["address", "name", "roles", "status", "contacts", "chosen_contact_id"],
        "properties": {
            "address": {"type": "string"},
            "name": {"type": "string"},
            "roles": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": ["from", "to", "cc", "bcc", "organizer", "attendee"],
                },
            },
            "status": {"type": "string", "enum": ["matched", "ambiguous", "unsaved", "internal"]},
            "contacts": {"type": "array", "items": ref("Contact")},
            "chosen_contact_id": {"type": ["string", "null"]},
        },
    },
    "Resolution": {
        "type": "object",
        "required": ["environment_id", "addresses", "invalid", "crm_round_trips"],
        "properties": {
            "environment_id": {"type": "string"},
            "addresses": {"type": "array", "items": ref("ResolvedAddress")},
            "invalid": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["address", "role", "reason"],
                    "properties": {
                        "address": {"type": "string"},
                        "role": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
            },
            "crm_round_trips": {"type": "integer", "minimum": 0},
        },
    },
    "ChoiceRequest": {
        "type": "object",
        "required": ["address", "contact_id"],
        "additionalProperties": False,
        "properties": {
            "address": {"type": "string", "maxLength": ADDRESS_MAX},
            "contact_id": {"type": "string", "minLength": 1, "maxLength": ID_MAX},
        },
    },
    "Choice": {
        "type": "object",
        "required": ["address", "contact_id", "chosen_at"],
        "properties": {
            "address": {"type": "string"},
            "contact_id": {"type": "string"},
            "chosen_at": {"type": "string", "format": "date-time"},
        },
    },
    "NoteCreate": {
        "type": "object",
        "required": ["contact_id", "body"],
        "additionalProperties": False,
        "properties": {
            "contact_id": {"type": "string", "minLength": 1, "maxLength": ID_MAX},
            "body": {"type": "string", "minLength": 1, "maxLength": NOTE_MAX},
        },
    },
    "NoteUpdate": {
        "type": "object",
        "required": ["body"],
        "additionalProperties": False,
        "properties": {"body": {"type": "string", "minLength": 1, "maxLength": NOTE_MAX}},
    },
    "Note": {
        "type": "object",
        "required": ["id", "contact_id", "body", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "integer"},
            "contact_id": {"type": "string"},
            "body": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "Me": {
        "type": "object",
        "required": ["tenant_id", "user_oid", "email", "name", "is_admin"],
        "properties": {
            "tenant_id": {"type": "string"},
            "user_oid": {"type": "string"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "is_admin": {"type": "boolean"},
        },
    },
}
