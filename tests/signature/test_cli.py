"""``sidepane signature --json FILE...`` prints one JSON object per file per line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from addin.signature.cli import signature_command

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_json_lines_one_per_file(tmp_path: Path) -> None:
    plain = FIXTURES / "de" / "00_plain_dashes_outlook.eml"
    html = FIXTURES / "fr" / "02_html_table_tel.eml"
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    result = CliRunner().invoke(signature_command, ["--json", str(plain), str(html), str(empty)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["source"] for r in records] == [str(plain), str(html), str(empty)]
    for record in records:
        assert set(record) == {"source", "contact", "signature", "signature_lines"}
        assert set(record["contact"]) == {
            "first_name",
            "last_name",
            "job_title",
            "company",
            "email",
            "phones",
            "website",
        }
    first = records[0]
    assert first["contact"]["last_name"] == "Müller"
    assert first["contact"]["phones"][0] == {"kind": "work", "e164": "+498912345678"}
    assert first["contact"]["website"] == "www.schaefer-maschinenbau.de"
    assert isinstance(first["signature_lines"], list)
    assert all(isinstance(i, int) for i in first["signature_lines"])
    assert first["signature"].startswith("--")
    assert records[1]["signature_lines"] is None  # HTML body: no text lines to point into
    assert records[1]["signature"] is not None
    assert records[2]["signature"] is None and records[2]["contact"]["email"] is None


def test_signature_lines_index_the_text_body() -> None:
    path = FIXTURES / "en" / "01_plain_valediction_gmail.eml"
    result = CliRunner().invoke(signature_command, ["--json", str(path)])
    record = json.loads(result.output)
    import email

    body = email.message_from_bytes(path.read_bytes()).get_payload(decode=True).decode()
    lines = body.replace("\r\n", "\n").split("\n")
    picked = [lines[i] for i in record["signature_lines"]]
    assert picked[0] == "Kind regards,"
    assert "Sarah O'Connor | Head of Logistics | Bluewater Foods Limited" in picked


def test_missing_file_is_reported_and_others_still_run(tmp_path: Path) -> None:
    missing = tmp_path / "nope.eml"
    present = FIXTURES / "it" / "00_plain_dashes_outlook.eml"
    result = CliRunner().invoke(signature_command, ["--json", str(missing), str(present)])
    records = [json.loads(line) for line in result.output.splitlines()]
    assert "error" in records[0]
    assert records[1]["contact"]["company"] == "Meccanica Rossi S.r.l."
