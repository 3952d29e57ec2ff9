"""Error mapping: SQLite's failures and invalid requests become the adapter's error tree."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from crm_adapters import Conflict, NotFound, Rejected, Unavailable
from crm_adapters.models import ContactDraft, EmailActivity, Party, RecordRef
from crm_adapters.sandbox import SandboxAdapter, SeedReport
from crm_adapters.sandbox.connection import translate


def test_a_missing_file_says_to_seed(tmp_path: Path) -> None:
    crm = SandboxAdapter(tmp_path / "never-seeded.db")
    with pytest.raises(Unavailable, match="sidepane seed") as raised:
        crm.match_contacts(["a@b.example"])
    assert raised.value.retryable
    assert not (tmp_path / "never-seeded.db").exists(), "no empty database is left behind"
    crm.close()


@pytest.mark.parametrize("content", [b"", b"this is not a database at all" * 200])
def test_a_foreign_file_says_to_seed(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "foreign.db"
    path.write_bytes(content)
    crm = SandboxAdapter(path)
    with pytest.raises(Unavailable, match="sidepane seed"):
        crm.find_saved("<x@y>")
    crm.close()


def test_an_outdated_file_says_to_seed(sandbox: tuple[Path, SeedReport]) -> None:
    with closing(sqlite3.connect(sandbox[0])) as db, db:
        db.execute("UPDATE sandbox_meta SET value = '0' WHERE key = 'schema_version'")
    crm = SandboxAdapter(sandbox[0])
    with pytest.raises(Unavailable, match="outdated"):
        crm.find_saved("<x@y>")
    crm.close()


def test_a_locked_database_is_unavailable(sandbox: tuple[Path, SeedReport]) -> None:
    path, report = sandbox
    crm = SandboxAdapter(path, busy_timeout=0.05)
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        with pytest.raises(Unavailable, match="busy"):
            crm.create_contact(ContactDraft(last_name="Late", email="late@x.example"))
        assert crm.match_contacts([report.single_address])[report.single_address]  # reads go on
        other.execute("ROLLBACK")
    crm.create_contact(ContactDraft(last_name="Late", email="late@x.example"))
    crm.close()


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (ContactDraft(last_name="", email="a@b.example"), "last_name"),
        (ContactDraft(last_name="   ", email="a@b.example"), "last_name"),
        (ContactDraft(last_name="Rossi", email=""), "email"),
        (ContactDraft(last_name="Rossi", email="not-an-address"), "email"),
        (ContactDraft(last_name="Rossi", email="a b@c.example"), "email"),
        (ContactDraft(last_name="Rossi", email="a@b.example", job_title="x" * 400), "job_title"),
    ],
)
def test_a_bad_draft_is_rejected_naming_the_field(
    crm: SandboxAdapter, draft: ContactDraft, field: str
) -> None:
    with pytest.raises(Rejected) as raised:
        crm.create_contact(draft)
    assert raised.value.reason.startswith(field)
    assert crm.round_trips == 0, "validation needs no request"


def test_an_unknown_account_for_a_new_contact_is_not_found(crm: SandboxAdapter) -> None:
    with pytest.raises(NotFound, match="no-such-account"):
        crm.create_contact(
            ContactDraft(last_name="X", email="x@y.example", account_id="no-such-account")
        )
    assert crm.match_contacts(["x@y.example"]) == {"x@y.example": []}, "nothing half-written"


def email(regarding: RecordRef | None, message_id: str = "<err@x>") -> EmailActivity:
    return EmailActivity(
        message_id=message_id,
        subject="s",
        sender=Party("a@b.example"),
        sent_at=dt.datetime.now(dt.UTC),
        regarding=regarding,
    )


def test_an_unknown_regarding_record_is_not_found_by_name(crm: SandboxAdapter) -> None:
    with pytest.raises(NotFound, match=r"case.*ghost-case"):
        crm.save_email(email(RecordRef("case", "ghost-case", "")))
    assert crm.find_saved("<err@x>") is None, "nothing half-written"


def test_a_record_type_that_cannot_be_regarded_is_rejected(crm: SandboxAdapter) -> None:
    with pytest.raises(Rejected, match="regarding"):
        crm.save_email(email(RecordRef("email", "x", "")))


def test_a_save_without_message_id_is_rejected(crm: SandboxAdapter) -> None:
    with pytest.raises(Rejected, match="message_id"):
        crm.save_email(email(None, message_id=" "))


@pytest.mark.parametrize(
    ("error", "expected", "text"),
    [
        (sqlite3.IntegrityError("UNIQUE constraint failed: activities.message_id"), Conflict, ""),
        (sqlite3.OperationalError("database is locked"), Unavailable, "busy"),
        (sqlite3.OperationalError("unable to open database file"), Unavailable, "sidepane seed"),
        (sqlite3.OperationalError("no such table: contacts"), Unavailable, "sidepane seed"),
        (sqlite3.DatabaseError("file is not a database"), Unavailable, "sidepane seed"),
        (sqlite3.DatabaseError("database disk image is malformed"), Unavailable, "damaged"),
        (sqlite3.OperationalError("disk I/O error"), Unavailable, "failed"),
    ],
)
def test_the_error_table(error: sqlite3.Error, expected: type[Exception], text: str) -> None:
    translated = translate(error, "/srv/sandbox.db")
    assert type(translated) is expected
    assert text in str(translated)
