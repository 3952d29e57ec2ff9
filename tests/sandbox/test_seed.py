"""The seed: reproducible, multilingual, with its deliberate records where the report says."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from crm_adapters.sandbox import SandboxAdapter, SeedReport, load_seed_report, seed
from crm_adapters.sandbox.seed import MINIMUM_CONTACTS

BASE = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def rows(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql, params).fetchall()


def fingerprint(path: Path) -> str:
    """Hash every table's rows in a fixed order."""
    digest = hashlib.sha256()
    with closing(sqlite3.connect(path)) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'search_%' ORDER BY name"
            )
        ]
        for table in tables:
            if table == "sandbox_meta":
                continue
            for row in sorted(map(repr, db.execute(f"SELECT * FROM {table}"))):
                digest.update(row.encode())
    return digest.hexdigest()


def without_timing(report: SeedReport) -> dict[str, object]:
    return {k: v for k, v in dataclasses.asdict(report).items() if k not in ("seconds", "path")}


def test_same_seed_same_sandbox(tmp_path: Path) -> None:
    first = seed(tmp_path / "a.db", 300, seed=5, base_time=BASE)
    second = seed(tmp_path / "b.db", 300, seed=5, base_time=BASE)
    assert without_timing(first) == without_timing(second)
    assert fingerprint(tmp_path / "a.db") == fingerprint(tmp_path / "b.db")


def test_same_seed_same_sandbox_in_any_process(tmp_path: Path) -> None:
    """Nothing may depend on set order, which changes with PYTHONHASHSEED."""
    script = (
        "import datetime as dt, sys; from crm_adapters.sandbox import seed;"
        " seed(sys.argv[1], 300, seed=5, base_time=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))"
    )
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        path = tmp_path / f"{hash_seed}.db"
        subprocess.run([sys.executable, "-c", script, str(path)], env=env, check=True)
    assert fingerprint(tmp_path / "1.db") == fingerprint(tmp_path / "2.db")


def test_other_seed_other_data_same_kind_of_showcase(tmp_path: Path) -> None:
    first = seed(tmp_path / "a.db", 300, seed=5, base_time=BASE)
    other = seed(tmp_path / "b.db", 300, seed=6, base_time=BASE)
    assert fingerprint(tmp_path / "a.db") != fingerprint(tmp_path / "b.db")
    assert other.single_contact_id != first.single_contact_id
    assert other.single_address == first.single_address


def test_showcase_does_not_depend_on_the_size(tmp_path: Path) -> None:
    small = seed(tmp_path / "small.db", MINIMUM_CONTACTS, seed=2, base_time=BASE)
    larger = seed(tmp_path / "larger.db", 500, seed=2, base_time=BASE)
    showcase = {
        "single_contact_id",
        "shared_contact_ids",
        "multi_account_ids",
        "names",
        "account_id",
    }
    assert {k: getattr(small, k) for k in showcase} == {k: getattr(larger, k) for k in showcase}
    assert small.contacts == MINIMUM_CONTACTS and larger.contacts == 500


def test_too_few_contacts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        seed(tmp_path / "x.db", MINIMUM_CONTACTS - 1)
    assert not list(tmp_path.iterdir())


def test_counts_match_the_tables(sandbox: tuple[Path, SeedReport]) -> None:
    path, report = sandbox
    assert rows(path, "SELECT count(*) FROM contacts") == [(report.contacts,)]
    assert rows(path, "SELECT count(*) FROM accounts") == [(report.accounts,)]
    assert rows(path, "SELECT count(*) FROM opportunities") == [(report.opportunities,)]
    assert rows(path, "SELECT count(*) FROM cases") == [(report.cases,)]
    assert rows(path, "SELECT count(*) FROM activities WHERE kind = 'email'") == [(report.emails,)]
    assert rows(path, "SELECT count(*) FROM activities WHERE kind = 'meeting'") == [
        (report.meetings,)
    ]
    assert report.accounts >= report.contacts // 10
    searchable = report.contacts + report.accounts + report.opportunities + report.cases
    assert rows(path, "SELECT count(*) FROM search_names") == [(searchable,)]


def test_addresses_sit_in_the_fields_the_report_names(sandbox: tuple[Path, SeedReport]) -> None:
    path, report = sandbox

    def holders(address: str, field: str) -> set[object]:
        return {row[0] for row in rows(path, f"SELECT id FROM contacts WHERE {field} = ?", address)}

    assert holders(report.single_address, "email1") == {report.single_contact_id}
    assert (
        holders(report.single_address, "email2") | holders(report.single_address, "email3") == set()
    )
    assert holders(report.second_field_address, "email2") == {report.second_field_contact_id}
    assert not holders(report.second_field_address, "email1")
    assert not holders(report.second_field_address, "email3")
    assert holders(report.third_field_address, "email3") == {report.third_field_contact_id}
    assert not holders(report.third_field_address, "email1")
    assert not holders(report.third_field_address, "email2")
    shared = holders(report.shared_address, "email1") | holders(report.shared_address, "email2")
    assert shared == set(report.shared_contact_ids) and len(shared) == 2
    for field in ("email1", "email2", "email3"):
        assert not holders(report.unknown_address, field)


def test_bulk_addresses_are_unique_lower_case_ascii(sandbox: tuple[Path, SeedReport]) -> None:
    path, report = sandbox
    addresses = [
        address
        for row in rows(path, "SELECT email1, email2, email3 FROM contacts")
        for address in row
        if address
    ]
    assert len(addresses) - len(set(addresses)) == 1  # only the deliberate shared address
    assert all(isinstance(a, str) and a == a.lower() and a.count("@") == 1 for a in addresses)
    bulk = set(addresses) - set(report.tricky_addresses)
    assert all(a.isascii() and "'" not in a for a in bulk)


def test_names_are_multilingual_and_addresses_folded(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    seed(path, 3_000, seed=1, base_time=BASE)
    countries = {row[0] for row in rows(path, "SELECT DISTINCT country FROM accounts")}
    assert {"Italy", "Denmark", "Poland", "Germany"} <= countries
    assert countries & {"United Kingdom", "United States", "Ireland"}
    names = rows(path, "SELECT first_name || ' ' || last_name, email1 FROM contacts")
    assert any(set(name) & set("łśżźćńąę") for name, _ in names)  # Polish
    assert any(set(name) & set("øæå") for name, _ in names)  # Danish
    assert any(str(name).endswith("ska") for name, _ in names)  # Polish feminine surnames
    assert any(str(email).startswith("lukasz.") for _, email in names)
    assert rows(path, "SELECT count(*) FROM contacts WHERE account_id IS NULL")[0][0] > 0


def test_showcase_relations(sandbox: tuple[Path, SeedReport]) -> None:
    path, report = sandbox
    links = rows(
        path,
        "SELECT account_id FROM contacts WHERE id = ?1 UNION"
        " SELECT account_id FROM contact_accounts WHERE contact_id = ?1",
        report.multi_account_contact_id,
    )
    assert {row[0] for row in links} == set(report.multi_account_ids) and len(links) >= 3
    assert rows(
        path, "SELECT account_id, company FROM contacts WHERE id = ?", report.no_account_contact_id
    ) == [(None, "O'Brien Consulting")]
    for address, contact_id in report.tricky_addresses.items():
        assert rows(path, "SELECT id FROM contacts WHERE email1 = ?", address) == [(contact_id,)]
    assert rows(
        path, "SELECT ticket_number, status FROM cases WHERE id = ?", report.open_case_id
    ) == [(report.open_case_ticket_number, "In Progress")]
    assert rows(
        path, "SELECT is_open FROM opportunities WHERE id = ?", report.open_opportunity_id
    ) == [(1,)]
    assert {"Łukasz Wróbel", "Søren Østergaard", "Müller Maschinenbau GmbH"} <= set(report.names)


def test_showcase_contact_has_history_and_future(sandbox: tuple[Path, SeedReport]) -> None:
    path, report = sandbox
    mine = (
        "SELECT count(*) FROM activities WHERE kind = ? AND at {} ? AND id IN"
        " (SELECT activity_id FROM activity_parties WHERE contact_id = ?)"
    )
    base = report.base_time[:19].replace("T", " ")
    assert rows(path, mine.format("<"), "email", base, report.related_contact_id)[0][0] > 10
    assert rows(path, mine.format(">"), "meeting", base, report.related_contact_id)[0][0] > 10
    saved = rows(
        path, "SELECT kind FROM activities WHERE message_id = ?", report.saved_email_message_id
    )
    assert saved == [("email",)]
    upcoming = rows(
        path,
        "SELECT kind, at > ? FROM activities WHERE message_id = ?",
        base,
        report.upcoming_meeting_message_id,
    )
    assert upcoming == [("meeting", 1)]


def test_progress_is_reported_and_ends_complete(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    seed(tmp_path / "s.db", 1_000, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 3
    assert {total for _, total in calls} == {1_000}
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == 1_000 and done[0] < 1_000


def test_reseeding_replaces_the_file_and_stale_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    first = seed(path, 200, seed=1)
    stale = path.with_name("s.db-wal")
    stale.write_bytes(b"not a wal of the new file")
    second = seed(path, 250, seed=2)
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]
    assert rows(path, "SELECT count(*) FROM contacts") == [(250,)]
    assert first.single_contact_id != second.single_contact_id
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]


def test_the_report_is_kept_in_the_file(sandbox: tuple[Path, SeedReport], tmp_path: Path) -> None:
    path, report = sandbox
    assert load_seed_report(path) == report
    assert load_seed_report(tmp_path / "nothing.db") is None


def test_a_tiny_seed_is_fast_and_usable(tmp_path: Path) -> None:
    report = seed(tmp_path / "s.db", 200, seed=3)
    assert report.seconds < 2.0
    crm = SandboxAdapter(tmp_path / "s.db")
    try:
        assert crm.match_contacts([report.single_address])[report.single_address]
    finally:
        crm.close()
