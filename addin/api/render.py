"""Turn service results into the JSON the OpenAPI document promises."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from crm_adapters.models import Contact

from ..services.resolve import Resolution
from ..store.models import AdminAudit, ContactChoice, PrivateNote


def timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None:  # SQLite hands back naive datetimes; we only ever store UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def contact(c: Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "full_name": c.full_name,
        "emails": list(c.emails),
        "job_title": c.job_title,
        "company": c.company,
        "account_id": c.account_id,
        "business_phone": c.business_phone,
        "mobile_phone": c.mobile_phone,
        "url": c.url,
        "crm": c.crm,
    }


def resolution(r: Resolution) -> dict[str, Any]:
    return {
        "environment_id": r.environment_id,
        "addresses": [
            {
                "address": a.address,
                "name": a.name,
                "roles": a.roles,
                "status": a.status,
                "contacts": [contact(c) for c in a.contacts],
                "chosen_contact_id": a.chosen_contact_id,
            }
            for a in r.addresses
        ],
        "invalid": [{"address": i.address, "role": i.role, "reason": i.reason} for i in r.invalid],
        "crm_round_trips": r.round_trips,
    }


def choice(c: ContactChoice) -> dict[str, Any]:
    return {"address": c.address, "contact_id": c.contact_id, "chosen_at": timestamp(c.chosen_at)}


def note(n: PrivateNote) -> dict[str, Any]:
    return {
        "id": n.id,
        "contact_id": n.contact_id,
        "body": n.body,
        "created_at": timestamp(n.created_at),
        "updated_at": timestamp(n.updated_at),
    }


def audit_line(row: AdminAudit) -> dict[str, Any]:
    return {
        "who": row.user_name,
        "user_oid": row.user_oid,
        "action": row.action,
        "field": row.field,
        "old": json.loads(row.old_value),
        "new": json.loads(row.new_value),
        "at": timestamp(row.at),
    }
