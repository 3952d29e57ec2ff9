"""The organisation's settings (rule 21): per tenant, validated as a whole, every change audited.

A tenant starts on the deployment's defaults (the configuration keys named in `DEFAULT_KEYS`);
once an admin saves, the tenant's row holds the whole validated document, so a later change of
the deployment's defaults never silently changes what an admin chose. A change is all or nothing:
every field is checked first, then the document, its version and one audit row per changed field
are written in one transaction. The version is the guard against two admins overwriting each
other: a write that names an older version is refused.

Readers (`current`) pay one primary-key read per request and no cache, so the pane obeys a change
at once (rule 9's "inline contact creation off" included).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_adapters.models import EMAIL_FIELDS, Capabilities

from ..identity import Identity
from ..store.models import AdminAudit, Tenant, utcnow

#: Record types an item can be saved to and the save card searches (rule 13).
SEARCHABLE_TYPES = ("account", "case", "opportunity", "contact")
#: The related records the Account tab lists (rule 11).
SHOWN_TYPES = ("opportunity", "case", "activity")
#: Graph's own limit on one attachment; no policy can save more than the mailbox hands over.
MAX_ATTACHMENT_BYTES = 150 * 1024 * 1024
MAX_LIST = 500
EXTENSION = re.compile(r"[a-z0-9][a-z0-9_+-]{0,15}")
MIME_TYPE = re.compile(
    r"(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,63})/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\*?)"
)

#: Each setting's configuration key: where a tenant that never saved takes its value from.
DEFAULT_KEYS: Mapping[str, str] = {
    "inline_contact_creation": "INLINE_CONTACT_CREATION",
    "email_fields": "EMAIL_FIELDS",
    "search_record_types": "SAVE_RECORD_TYPES",
    "shown_record_types": "SHOWN_RECORD_TYPES",
    "attachment_max_bytes": "ATTACHMENT_MAX_BYTES",
    "attachment_extensions": "ATTACHMENT_EXTENSIONS",
    "attachment_mime_types": "ATTACHMENT_MIME_TYPES",
    "auto_save_replies": "AUTO_SAVE_REPLIES",
    "related_items": "RELATED_ITEMS",
    "internal_domains": "INTERNAL_DOMAINS",
}


@dataclass(frozen=True, slots=True)
class Settings:
    """One tenant's settings, as every reader sees them."""

    inline_contact_creation: bool
    email_fields: tuple[str, ...]
    search_record_types: tuple[str, ...]
    shown_record_types: tuple[str, ...]
    attachment_max_bytes: int
    attachment_extensions: tuple[str, ...]
    attachment_mime_types: tuple[str, ...]
    auto_save_replies: bool
    related_items: int
    internal_domains: tuple[str, ...]
    #: Grows with every saved change; 0 while the tenant is on the deployment's defaults.
    version: int = 0

    def as_json(self) -> dict[str, Any]:
        """The settings as the JSON API and the audit trail show them (lists, not tuples)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(self).items()
        }


FIELDS: tuple[str, ...] = tuple(DEFAULT_KEYS)


class InvalidSetting(ValueError):
    """A value an admin gave is not valid; ``field`` names it, the message says what is wanted."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class StaleSettings(RuntimeError):
    """The settings changed since the admin read them (another admin saved first)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the settings are now at version {current_version}")
        self.current_version = current_version


# --- validation ------------------------------------------------------------------------------


def _boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidSetting(field, _("must be true or false."))
    return value


def _integer(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSetting(
            field, _("must be a whole number from %(low)d to %(high)d.", low=low, high=high)
        )
    return value


def _strings(field: str, value: Any) -> list[str]:
    if isinstance(value, str):  # a form's text box: one per line or separated by commas
        value = [part for part in re.split(r"[\s,;]+", value) if part]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidSetting(field, _("must be a list of text values."))
    if len(value) > MAX_LIST:
        raise InvalidSetting(field, _("can hold at most %(count)d values.", count=MAX_LIST))
    return [v.strip() for v in value if v.strip()]


def _choices(field: str, value: Any, allowed: tuple[str, ...], *, at_least: int) -> tuple[str, ...]:
    chosen = [v.lower() for v in _strings(field, value)]
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise InvalidSetting(
            field,
            _(
                "%(values)s is not one of %(allowed)s.",
                values=", ".join(unknown),
                allowed=", ".join(allowed),
            ),
        )
    if len(set(chosen)) < at_least:
        raise InvalidSetting(
            field, _("choose at least one of %(allowed)s.", allowed=", ".join(allowed))
        )
    return tuple(t for t in allowed if t in chosen)  # one order, whatever the admin's


def _extensions(field: str, value: Any) -> tuple[str, ...]:
    found: list[str] = []
    for raw in _strings(field, value):
        extension = raw.lower().lstrip("*").lstrip(".")
        if not EXTENSION.fullmatch(extension):
            raise InvalidSetting(
                field, _("%(value)s is not a file name extension (like pdf).", value=raw)
            )
        found.append(extension)
    return tuple(dict.fromkeys(found))


def _mime_types(field: str, value: Any) -> tuple[str, ...]:
    found: list[str] = []
    for raw in _strings(field, value):
        kind = raw.lower()
        if not MIME_TYPE.fullmatch(kind) or (kind.startswith("*/") and kind != "*/*"):
            raise InvalidSetting(
                field,
                _("%(value)s is not a content type (like application/pdf or image/*).", value=raw),
            )
        found.append(kind)
    return tuple(dict.fromkeys(found))


def _domains(field: str, value: Any) -> tuple[str, ...]:
    found: list[str] = []
    for raw in _strings(field, value):
        domain = raw.lower().lstrip("@")
        try:  # email-validator knows domain syntax (labels, lengths, IDNA) better than a regex
            checked = validate_email(f"postmaster@{domain}", check_deliverability=False)
        except EmailNotValidError:
            raise InvalidSetting(
                field, _("%(value)s is not a mail domain (like contoso.com).", value=raw)
            ) from None
        found.append(checked.ascii_domain.lower())
    return tuple(dict.fromkeys(found))


def _check(field: str, value: Any) -> Any:
    """Return ``value`` checked and in its one stored form, or raise `InvalidSetting`."""
    if field in ("inline_contact_creation", "auto_save_replies"):
        return _boolean(field, value)
    if field == "email_fields":
        return _choices(field, value, EMAIL_FIELDS, at_least=1)
    if field == "search_record_types":
        return _choices(field, value, SEARCHABLE_TYPES, at_least=0)
    if field == "shown_record_types":
        return _choices(field, value, SHOWN_TYPES, at_least=0)
    if field == "attachment_max_bytes":
        return _integer(field, value, 0, MAX_ATTACHMENT_BYTES)
    if field == "attachment_extensions":
        return _extensions(field, value)
    if field == "attachment_mime_types":
        return _mime_types(field, value)
    if field == "related_items":
        return _integer(field, value, 1, 10)
    if field == "internal_domains":
        return _domains(field, value)
    raise InvalidSetting(field, _("is not a setting."))


def validate(changes: Mapping[str, Any], base: Settings) -> Settings:
    """Return ``base`` with ``changes`` applied, every changed field checked first."""
    if not isinstance(changes, Mapping):
        raise InvalidSetting("settings", _("must be an object of settings."))
    unknown = [str(field) for field in changes if field not in DEFAULT_KEYS]
    if unknown:
        known = ", ".join(FIELDS)
        if len(unknown) == 1:
            raise InvalidSetting(
                unknown[0], _("is not a setting (they are %(known)s).", known=known)
            )
        raise InvalidSetting(
            unknown[0],
            _(
                "is not a setting, nor is %(others)s (they are %(known)s).",
                others=", ".join(unknown[1:]),
                known=known,
            ),
        )
    checked = {field: _check(str(field), value) for field, value in changes.items()}
    return dataclasses.replace(base, **checked)


def email_fields_for(settings: Settings, capabilities: Capabilities) -> tuple[str, ...]:
    """The email fields to match in this CRM: the admin's choice among the ones it has.

    A choice the CRM has none of (a Salesforce org mapping only ``email1``, an admin who kept
    only ``email3``) falls back to the CRM's own fields rather than matching nobody.
    """
    chosen = tuple(f for f in settings.email_fields if f in capabilities.email_fields)
    return chosen or capabilities.email_fields


# --- reading and writing ---------------------------------------------------------------------


def defaults(config: Mapping[str, Any]) -> Settings:
    """The deployment's defaults: what a tenant has until an admin saves settings."""
    values = {field: config[key] for field, key in DEFAULT_KEYS.items()}
    values["related_items"] = min(max(int(values["related_items"]), 1), 10)
    # The configuration was checked at start for what could stop the app; the rest is made to
    # fit here, leaving out (not refusing) what a setting could not hold.
    base = Settings(**{f: _loose(f, v) for f, v in values.items()})
    return base


def _loose(field: str, value: Any) -> Any:
    try:
        return _check(field, list(value) if isinstance(value, tuple) else value)
    except InvalidSetting:
        if field == "attachment_max_bytes":
            return min(max(int(value), 0), MAX_ATTACHMENT_BYTES)
        return ()


def current(session: Session, tenant_id: str, config: Mapping[str, Any]) -> Settings:
    """Return the tenant's settings (the deployment's defaults where it saved none)."""
    tenant = session.get(Tenant, tenant_id)
    return _settings_of(tenant, config)


def _settings_of(tenant: Tenant | None, config: Mapping[str, Any]) -> Settings:
    base = defaults(config)
    if tenant is None or not tenant.settings:
        return base
    stored = json.loads(tenant.settings)
    # A setting added after the tenant saved takes the default; one removed since is dropped.
    known = {f: _loose(f, v) for f, v in stored.items() if f in DEFAULT_KEYS}
    return dataclasses.replace(base, **known, version=tenant.settings_version)


def tenant_row(session: Session, tenant_id: str, *, lock: bool = False) -> Tenant:
    """Return the tenant's row, made on first need; ``lock`` holds it for this transaction."""
    query = session.query(Tenant).filter(Tenant.tenant_id == tenant_id)
    found = (query.with_for_update() if lock else query).one_or_none()
    if found is not None:
        return found
    try:
        with session.begin_nested():  # two first requests at once: one inserts, one reads
            session.add(Tenant(tenant_id=tenant_id))
    except IntegrityError:
        pass
    row = (query.with_for_update() if lock else query).one()
    return row


def update(
    session: Session,
    identity: Identity,
    changes: Mapping[str, Any],
    config: Mapping[str, Any],
    *,
    version: int | None = None,
) -> Settings:
    """Apply an admin's changes: all checked, then saved with one audit row per changed field.

    Raises `InvalidSetting` (nothing is written) or `StaleSettings` when ``version`` is given and
    another admin saved since. The caller commits.
    """
    tenant = tenant_row(session, identity.tenant_id, lock=True)
    before = _settings_of(tenant, config)
    if version is not None and version != before.version:
        raise StaleSettings(before.version)
    after = validate(changes, before)
    old, new = before.as_json(), after.as_json()
    changed = [f for f in FIELDS if old[f] != new[f]]
    if not changed:
        return before
    tenant.settings = json.dumps({f: new[f] for f in FIELDS}, sort_keys=True)
    tenant.settings_version = before.version + 1
    tenant.updated_at = utcnow()
    for field in changed:
        record(session, identity, "setting", field, old[field], new[field])
    return dataclasses.replace(after, version=tenant.settings_version)


def record(
    session: Session, identity: Identity, action: str, field: str, old: Any, new: Any
) -> None:
    """Write one line of the audit trail."""
    session.add(
        AdminAudit(
            tenant_id=identity.tenant_id,
            user_oid=identity.user_oid,
            user_name=identity.name or identity.email or identity.user_oid,
            action=action,
            field=field,
            old_value=json.dumps(old),
            new_value=json.dumps(new),
        )
    )


def audit_trail(session: Session, tenant_id: str, limit: int = 50) -> list[AdminAudit]:
    """The tenant's latest audit lines, newest first."""
    return (
        session.query(AdminAudit)
        .filter(AdminAudit.tenant_id == tenant_id)
        .order_by(AdminAudit.id.desc())
        .limit(limit)
        .all()
    )
