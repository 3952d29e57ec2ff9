"""``/api/items/resolve``: who is in the open item and what the CRM knows of them.

The organisation's settings say which email fields are matched and which domains are its own.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from .. import crm, store
from ..auth import current_identity
from ..services import tenant_settings
from ..services.resolve import Recipient, Role, resolve_item
from . import api, render
from .validation import validated_body

SINGLE_ROLES: tuple[Role, ...] = ("from", "organizer")
LIST_ROLES: tuple[tuple[str, Role], ...] = (
    ("to", "to"),
    ("cc", "cc"),
    ("bcc", "bcc"),
    ("attendees", "attendee"),
)


@api.post("/items/resolve")
def resolve() -> Any:
    """Match all addresses of the item in one CRM call and classify each."""
    item = validated_body("ResolveRequest")["item"]
    identity = current_identity()
    adapter = crm.adapter()
    settings = tenant_settings.current(store.session(), identity.tenant_id, current_app.config)
    result = resolve_item(
        adapter=adapter,
        session=store.session(),
        identity=identity,
        environment_id=crm.environment_id(),
        recipients=list(_recipients(item)),
        mailbox=item.get("mailbox", ""),
        internal_domains=settings.internal_domains,
        email_fields=tenant_settings.email_fields_for(settings, adapter.capabilities),
    )
    return render.resolution(result)


def _recipients(item: dict[str, Any]) -> Any:
    for role in SINGLE_ROLES:
        if role in item:
            yield _recipient(item[role], role)
    for key, role in LIST_ROLES:
        for entry in item.get(key, []):
            yield _recipient(entry, role)


def _recipient(entry: dict[str, Any], role: Role) -> Recipient:
    return Recipient(entry["address"], entry.get("name", ""), role)
