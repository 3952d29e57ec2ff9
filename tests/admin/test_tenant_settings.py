"""The organisation's settings (rule 21): defaults, every field's checks, all-or-nothing, audit.

`tenant_settings` on the local store, SQLite then PostgreSQL, as the admin page and the JSON API
call it: the caller commits what `update` wrote, and rolls back when it refuses.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from addin import config, store
from addin.identity import Identity
from addin.services import tenant_settings
from addin.services.tenant_settings import (
    FIELDS,
    MAX_ATTACHMENT_BYTES,
    InvalidSetting,
    Settings,
    StaleSettings,
)
from addin.store.models import AdminAudit, Tenant

TENANT = "tenant-a"
OTHER_TENANT = "tenant-b"
ADA = Identity(
    tenant_id=TENANT,
    user_oid="ada-oid",
    email="ada@contoso.example",
    name="Ada Admin",
    roles=frozenset({"Sidepane.Admin"}),
    scopes=frozenset({"access_as_user"}),
)
BEN = dataclasses.replace(ADA, user_oid="ben-oid", email="ben@contoso.example", name="Ben")
OTHER_ADMIN = dataclasses.replace(ADA, tenant_id=OTHER_TENANT, user_oid="olga-oid", name="Olga")
#: The deployment's configuration, as `addin.config.finish` leaves it.
CONFIG: dict[str, Any] = {
    **config.defaults("instance"),
    "INTERNAL_DOMAINS": ["contoso.example"],
    "ATTACHMENT_MAX_BYTES": 4 * 1024 * 1024,
    "ATTACHMENT_EXTENSIONS": ["pdf", "PNG", ".txt"],
    "ATTACHMENT_MIME_TYPES": ["application/pdf", "image/*", "text/plain"],
    "SAVE_RECORD_TYPES": ["case", "account"],
    "RELATED_ITEMS": 4,
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = store.make_engine(database_url)
    yield made
    made.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as opened:
        yield opened


def save(session: Session, changes: dict[str, Any], admin: Identity = ADA, **options: Any):
    saved = tenant_settings.update(session, admin, changes, CONFIG, **options)
    session.commit()
    return saved


def refuse(session: Session, changes: dict[str, Any], admin: Identity = ADA) -> InvalidSetting:
    with pytest.raises(InvalidSetting) as refused:
        tenant_settings.update(session, admin, changes, CONFIG)
    session.rollback()
    return refused.value


def audit_rows(session: Session, tenant_id: str = TENANT) -> list[AdminAudit]:
    return list(
        session.scalars(
            select(AdminAudit).where(AdminAudit.tenant_id == tenant_id).order_by(AdminAudit.id)
        )
    )


def current(session: Session, tenant_id: str = TENANT, deployment: Any = None) -> Settings:
    return tenant_settings.current(session, tenant_id, deployment or CONFIG)


# --- defaults -----------------------------------------------------------------------------------


def test_a_tenant_that_never_saved_has_the_deployments_defaults(session):
    found = current(session)
    assert found == Settings(
        inline_contact_creation=True,
        email_fields=("email1", "email2", "email3"),
        search_record_types=("account", "case"),  # one order, whatever the configuration's
        shown_record_types=("opportunity", "case", "activity"),
        attachment_max_bytes=4 * 1024 * 1024,
        attachment_extensions=("pdf", "png", "txt"),
        attachment_mime_types=("application/pdf", "image/*", "text/plain"),
        auto_save_replies=True,
        related_items=4,
        internal_domains=("contoso.example",),
        version=0,
    )
    assert session.scalar(select(func.count()).select_from(Tenant)) == 0  # reading writes nothing


def test_the_deployments_defaults_follow_its_configuration_until_the_admin_saves(session):
    changed = {**CONFIG, "RELATED_ITEMS": 7, "INLINE_CONTACT_CREATION": False}
    assert current(session, deployment=changed).related_items == 7
    save(session, {"auto_save_replies": False})
    # The tenant's saved document holds every setting: a later change of the deployment's
    # defaults does not silently change what its admin kept.
    kept = current(session, deployment=changed)
    assert (kept.related_items, kept.inline_contact_creation, kept.auto_save_replies) == (
        4,
        True,
        False,
    )
    assert current(session, OTHER_TENANT, deployment=changed).related_items == 7


def test_a_default_a_setting_cannot_hold_is_made_to_fit():
    loose = {
        **CONFIG,
        "RELATED_ITEMS": 40,
        "ATTACHMENT_MAX_BYTES": MAX_ATTACHMENT_BYTES * 2,
        "SAVE_RECORD_TYPES": ["case", "invoice"],
    }
    found = tenant_settings.defaults(loose)
    assert found.related_items == 10
    assert found.attachment_max_bytes == MAX_ATTACHMENT_BYTES
    assert found.search_record_types == ()  # an unknown type leaves the list out, not the app


# --- every field's values -----------------------------------------------------------------------


#: (field, a value an admin may give, the one form it is stored in).
VALID: list[tuple[str, Any, Any]] = [
    ("inline_contact_creation", False, False),
    ("inline_contact_creation", True, True),
    ("email_fields", ["email1"], ("email1",)),
    ("email_fields", ["EMAIL3", "email2", "email3"], ("email2", "email3")),
    ("search_record_types", ["contact", "case"], ("case", "contact")),
    ("search_record_types", [], ()),
    ("search_record_types", "opportunity, account", ("account", "opportunity")),
    ("shown_record_types", ["activity"], ("activity",)),
    ("shown_record_types", [], ()),
    ("attachment_max_bytes", 0, 0),
    ("attachment_max_bytes", MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES),
    ("attachment_extensions", [".PDF", "*.docx", "pdf", "tar"], ("pdf", "docx", "tar")),
    ("attachment_extensions", "pdf\ncsv", ("pdf", "csv")),
    ("attachment_extensions", [], ()),
    (
        "attachment_mime_types",
        ["Application/PDF", "image/*", "*/*", "application/vnd.ms-*"],
        ("application/pdf", "image/*", "*/*", "application/vnd.ms-*"),
    ),
    ("auto_save_replies", False, False),
    ("related_items", 1, 1),
    ("related_items", 10, 10),
    (
        "internal_domains",
        ["@Contoso.com", "fabrikam.example"],
        ("contoso.com", "fabrikam.example"),
    ),
    ("internal_domains", ["bücher.example"], ("xn--bcher-kva.example",)),
    ("internal_domains", [], ()),
]

#: (field, a value refused, what the refusal says).
INVALID: list[tuple[str, Any, str]] = [
    ("inline_contact_creation", "false", "must be true or false."),
    ("inline_contact_creation", 0, "must be true or false."),
    ("inline_contact_creation", None, "must be true or false."),
    ("auto_save_replies", "yes", "must be true or false."),
    ("email_fields", [], "choose at least one of email1, email2, email3."),
    ("email_fields", ["email4"], "email4 is not one of email1, email2, email3."),
    ("email_fields", [1], "must be a list of text values."),
    ("email_fields", {"email1": True}, "must be a list of text values."),
    ("search_record_types", ["invoice"], "invoice is not one of account, case,"),
    ("search_record_types", ["case", "lead"], "lead is not one of"),
    ("shown_record_types", ["account"], "account is not one of opportunity, case, activity."),
    ("attachment_max_bytes", -1, "must be a whole number from 0 to 157286400."),
    ("attachment_max_bytes", MAX_ATTACHMENT_BYTES + 1, "from 0 to 157286400"),
    ("attachment_max_bytes", 1.5, "must be a whole number"),
    ("attachment_max_bytes", "1024", "must be a whole number"),
    ("attachment_max_bytes", True, "must be a whole number"),
    ("related_items", 0, "must be a whole number from 1 to 10."),
    ("related_items", 11, "must be a whole number from 1 to 10."),
    ("attachment_extensions", ["p df"], "p df is not a file name extension (like pdf)."),
    ("attachment_extensions", ["tar.gz"], "tar.gz is not a file name extension"),
    ("attachment_extensions", ["x" * 17], "is not a file name extension"),
    ("attachment_extensions", ["pdf", 7], "must be a list of text values."),
    ("attachment_extensions", ["a"] * 501, "can hold at most 500 values."),
    ("attachment_mime_types", ["pdf"], "pdf is not a content type"),
    ("attachment_mime_types", ["text/"], "text/ is not a content type"),
    ("attachment_mime_types", ["*/pdf"], "*/pdf is not a content type"),
    ("attachment_mime_types", ["text/plain; charset=utf-8"], "is not a content type"),
    ("internal_domains", ["contoso..com"], "contoso..com is not a mail domain"),
    ("internal_domains", ["http://x"], "http://x is not a mail domain"),
    ("internal_domains", ["-a.com"], "-a.com is not a mail domain"),
    ("internal_domains", ["localhost"], "localhost is not a mail domain"),
    ("internal_domains", ["a b.com"], "a b.com is not a mail domain"),
    ("internal_domains", ["ok.example", "1.2.3.4"], "1.2.3.4 is not a mail domain"),
]


def test_every_valid_value_is_saved_in_its_one_form(session):
    # One test per store for all cases: each case is a save and a read on a real database.
    wrong = []
    for field, value, stored in VALID:
        saved = save(session, {field: value})
        if (getattr(saved, field), getattr(current(session), field)) != (stored, stored):
            wrong.append((field, value, getattr(current(session), field), stored))
    assert wrong == []


def test_every_invalid_value_is_refused_naming_the_field_and_nothing_is_saved(session):
    save(session, {"related_items": 5})
    before, lines = current(session), len(audit_rows(session))
    wrong = []
    for field, value, reason in INVALID:
        refused = refuse(session, {field: value})
        if refused.field != field or not str(refused).startswith(f"{field}: "):
            wrong.append((field, value, "named", refused.field))
        if reason not in refused.reason:
            wrong.append((field, value, "said", refused.reason))
    assert wrong == []
    assert current(session) == before
    assert len(audit_rows(session)) == lines


def test_unknown_settings_are_refused_naming_them(session):
    one = refuse(session, {"max_attachments": 3})
    assert one.field == "max_attachments"
    assert "is not a setting" in str(one) and "inline_contact_creation" in str(one)
    several = refuse(session, {"related_items": 5, "colour": "red", "font": "serif"})
    assert several.field == "colour" and "nor is font" in str(several)
    assert current(session).related_items == 4


def test_a_document_that_is_not_an_object_is_refused(session):
    not_an_object: Any = ["related_items"]
    assert refuse(session, not_an_object).field == "settings"


# --- all or nothing, versions, audit ------------------------------------------------------------


def test_a_valid_and_an_invalid_field_together_change_nothing(session):
    save(session, {"related_items": 5})
    before, lines = current(session), len(audit_rows(session))
    with pytest.raises(InvalidSetting) as refused:
        tenant_settings.update(
            session,
            ADA,
            {"inline_contact_creation": False, "related_items": 9, "internal_domains": ["x..y"]},
            CONFIG,
        )
    assert refused.value.field == "internal_domains"
    session.commit()  # even a caller that commits after the refusal finds nothing written
    assert current(session) == before
    assert len(audit_rows(session)) == lines


def test_each_changed_field_gets_one_audit_line_with_its_old_and_new_value(session):
    saved = save(
        session,
        {
            "inline_contact_creation": False,
            "attachment_extensions": [".PDF"],
            "related_items": 4,  # the same as before: no line
        },
    )
    assert saved.version == 1
    lines = audit_rows(session)
    assert [(r.action, r.field) for r in lines] == [
        ("setting", "inline_contact_creation"),
        ("setting", "attachment_extensions"),
    ]
    assert [(json.loads(r.old_value), json.loads(r.new_value)) for r in lines] == [
        (True, False),
        (["pdf", "png", "txt"], ["pdf"]),
    ]
    assert {(r.user_oid, r.user_name, r.tenant_id) for r in lines} == {
        ("ada-oid", "Ada Admin", TENANT)
    }
    newest_first = tenant_settings.audit_trail(session, TENANT)
    assert [r.field for r in newest_first] == ["attachment_extensions", "inline_contact_creation"]
    assert len(tenant_settings.audit_trail(session, TENANT, limit=1)) == 1


def test_a_change_to_the_same_values_writes_nothing(session):
    save(session, {"related_items": 6})
    again = save(session, {"related_items": 6, "auto_save_replies": True})
    assert again.version == 1
    assert len(audit_rows(session)) == 1


def test_a_write_naming_an_older_version_is_refused(session):
    read = current(session)
    assert read.version == 0
    save(session, {"related_items": 5}, admin=BEN, version=read.version)  # Ben saves first
    with pytest.raises(StaleSettings) as stale:
        tenant_settings.update(session, ADA, {"related_items": 8}, CONFIG, version=read.version)
    session.rollback()
    assert stale.value.current_version == 1
    assert current(session).related_items == 5
    # Read again, then the change goes through.
    assert save(session, {"related_items": 8}, version=1).version == 2
    assert [r.user_oid for r in audit_rows(session)] == ["ben-oid", "ada-oid"]


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_two_admins_saving_at_once_never_both_win(session, engine):
    """On PostgreSQL the tenant's row is locked: the second admin waits, then finds it stale.
    (SQLite has one writer at a time: the second write waits for the first, then fails.)"""
    first = tenant_settings.update(session, ADA, {"related_items": 5}, CONFIG, version=0)
    assert first.version == 1  # written, the tenant's row locked, not committed yet
    outcome: list[object] = []

    def other_admin() -> None:
        with Session(engine) as other:
            try:
                tenant_settings.update(other, BEN, {"related_items": 9}, CONFIG, version=0)
                other.commit()
                outcome.append("saved")
            except StaleSettings as error:
                outcome.append(error.current_version)

    waiting = threading.Thread(target=other_admin)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive(), "Ben's write waits for Ada's lock"
    session.commit()
    waiting.join(10)
    assert outcome == [1]
    assert current(session).related_items == 5


def test_one_tenants_settings_and_trail_are_its_own(session):
    save(session, {"inline_contact_creation": False, "internal_domains": ["contoso.com"]})
    save(session, {"related_items": 2}, admin=OTHER_ADMIN)
    ours, theirs = current(session), current(session, OTHER_TENANT)
    assert (ours.inline_contact_creation, ours.internal_domains, ours.related_items) == (
        False,
        ("contoso.com",),
        4,
    )
    assert (theirs.inline_contact_creation, theirs.internal_domains, theirs.related_items) == (
        True,
        ("contoso.example",),
        2,
    )
    assert (ours.version, theirs.version) == (1, 1)
    assert [r.field for r in tenant_settings.audit_trail(session, OTHER_TENANT)] == [
        "related_items"
    ]


def test_every_setting_has_a_default_key_and_a_place_in_the_api_document():
    from addin.api.schemas import SCHEMAS

    assert set(FIELDS) == set(tenant_settings.DEFAULT_KEYS)
    assert set(FIELDS) == set(SCHEMAS["Settings"]["properties"])
