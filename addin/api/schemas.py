"""JSON Schemas of the API's bodies: published in the OpenAPI document and enforced on requests.

One source of truth: the document describes exactly what `validated_body` accepts.
"""

from __future__ import annotations

from typing import Any

from crm_adapters.models import EMAIL_FIELDS

from ..services.tenant_settings import FIELDS as SETTING_FIELDS
from ..services.tenant_settings import MAX_ATTACHMENT_BYTES, SEARCHABLE_TYPES, SHOWN_TYPES

ADDRESS_MAX = 320
NAME_MAX = 256
RECIPIENTS_MAX = 500
NOTE_MAX = 10_000
ID_MAX = 200
#: Lines of the audit trail one call returns: by default, and at most.
AUDIT_DEFAULT = 50
AUDIT_MAX = 500

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
    "SettingError": {
        "type": "object",
        "required": ["error", "message", "field"],
        "properties": {
            "error": {"type": "string", "enum": ["invalid_setting"]},
            "message": {"type": "string", "description": "<field>: what a valid value is"},
            "field": {"type": "string", "description": "the setting refused"},
        },
    },
    "StaleSettings": {
        "type": "object",
        "required": ["error", "message", "version"],
        "properties": {
            "error": {"type": "string", "enum": ["stale_settings"]},
            "message": {"type": "string"},
            "version": {"type": "integer", "description": "the settings' version now"},
        },
    },
    "Settings": {
        "type": "object",
        "description": "The organisation's settings (rule 21).",
        "required": list(SETTING_FIELDS),
        "properties": {
            "inline_contact_creation": {
                "type": "boolean",
                "description": "Add to CRM opens our New contact form (true) or the CRM's own",
            },
            "email_fields": {
                "type": "array",
                "items": {"type": "string", "enum": list(EMAIL_FIELDS)},
                "description": "the contact email fields matched (at least one)",
            },
            "search_record_types": {
                "type": "array",
                "items": {"type": "string", "enum": list(SEARCHABLE_TYPES)},
                "description": "record types the save card searches",
            },
            "shown_record_types": {
                "type": "array",
                "items": {"type": "string", "enum": list(SHOWN_TYPES)},
                "description": "related records the Account tab lists",
            },
            "attachment_max_bytes": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_ATTACHMENT_BYTES,
                "description": "largest attachment saved with an email",
            },
            "attachment_extensions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "file name extensions saved (lower case, no dot)",
            },
            "attachment_mime_types": {
                "type": "array",
                "items": {"type": "string"},
                "description": "content types saved (image/* takes a family)",
            },
            "auto_save_replies": {
                "type": "boolean",
                "description": "replies in saved conversations are saved automatically",
            },
            "related_items": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10,
                "description": "related items shown before Show more",
            },
            "internal_domains": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the organisation's own mail domains, never offered as contacts",
            },
        },
    },
    "SettingsDocument": {
        "type": "object",
        "required": ["settings", "version"],
        "properties": {
            "settings": ref("Settings"),
            "version": {
                "type": "integer",
                "minimum": 0,
                "description": "grows with each change; 0 while on the deployment's defaults",
            },
        },
    },
    "SettingsUpdate": {
        "type": "object",
        "required": ["settings"],
        "additionalProperties": False,
        "properties": {
            "settings": {
                "type": "object",
                # Room for a few unknown names, so that the server's 422 can name them.
                "maxProperties": 2 * len(SETTING_FIELDS),
                "description": "Some fields of Settings. Each value is checked by the server "
                "(a 422 invalid_setting names the field), all are saved or none; an unknown "
                "field is refused too.",
            },
            "version": {
                "type": "integer",
                "minimum": 0,
                "maximum": 2**31 - 1,
                "description": "the version read: refused with 409 if another admin saved since",
            },
        },
    },
    "AuditLine": {
        "type": "object",
        "required": ["who", "user_oid", "action", "field", "old", "new", "at"],
        "properties": {
            "who": {"type": "string"},
            "user_oid": {"type": "string"},
            "action": {
                "type": "string",
                "description": "setting, consent, provisioning or crm_features",
            },
            "field": {"type": "string", "description": "the setting's name for a setting"},
            "old": {"description": "the value before (JSON)"},
            "new": {"description": "the value after (JSON)"},
            "at": {"type": "string", "format": "date-time"},
        },
    },
    "ReadinessCheck": {
        "type": "object",
        "required": ["name", "ok", "code", "details", "count"],
        "properties": {
            "name": {"type": "string"},
            "ok": {"type": "boolean"},
            "code": {"type": "string", "description": "what is missing, when not ok"},
            "details": {"type": "array", "items": {"type": "string"}},
            "count": {"type": "integer"},
        },
    },
    "AdminStatus": {
        "type": "object",
        "required": ["consent", "crm_features", "provisioning"],
        "properties": {
            "consent": {
                "type": "object",
                "required": ["status", "error", "error_description", "by", "at"],
                "properties": {
                    "status": {"type": "string", "enum": ["missing", "granted", "refused"]},
                    "error": {"type": ["string", "null"]},
                    "error_description": {"type": ["string", "null"]},
                    "by": {"type": ["string", "null"]},
                    "at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
            "crm_features": {"type": "boolean"},
            "provisioning": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": [
                            "id",
                            "status",
                            "crm",
                            "environment",
                            "requested_by",
                            "checks",
                        ],
                        "properties": {
                            "id": {"type": "string"},
                            "status": {
                                "type": "string",
                                "enum": ["queued", "running", "succeeded", "failed"],
                            },
                            "crm": {"type": "string"},
                            "environment": {"type": "string"},
                            "requested_by": {"type": "string"},
                            "checks": {"type": "array", "items": ref("ReadinessCheck")},
                        },
                    },
                ]
            },
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
