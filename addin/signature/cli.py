"""``sidepane signature --json FILE...``: read the signature of each .eml file.

Prints one JSON object per file per line::

    {"source": path, "contact": {...}, "signature": text or null, "signature_lines": [...] or null}

An unreadable file is reported on its own line with ``"error"`` and the others still run.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from addin.signature import SignatureResult, read_eml

# Reading more than the reader uses would only cost memory; it caps its own work too.
_MAX_FILE_BYTES = 16 * 1024 * 1024


def result_record(source: str, result: SignatureResult) -> dict[str, object]:
    """The CLI's JSON object for one file."""
    return {
        "source": source,
        "contact": result.contact(),
        "signature": result.signature,
        "signature_lines": (
            list(result.signature_lines) if result.signature_lines is not None else None
        ),
    }


@click.command("signature")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file per line.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def signature_command(as_json: bool, files: tuple[str, ...]) -> None:
    """Read the sender's signature from RFC 5322 .eml FILES and print the contact."""
    for name in files:
        try:
            with Path(name).open("rb") as handle:
                raw = handle.read(_MAX_FILE_BYTES)
        except OSError as error:
            click.echo(json.dumps({"source": name, "error": str(error)}, ensure_ascii=False))
            continue
        record = result_record(name, read_eml(raw))
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(_readable(record))


def _readable(record: dict[str, object]) -> str:
    contact = record["contact"]
    assert isinstance(contact, dict)
    lines = [f"{record['source']}:"]
    for key, value in contact.items():
        if key == "phones":
            for phone in value:
                lines.append(f"  phone ({phone['kind']}): {phone['e164']}")
        elif value:
            lines.append(f"  {key}: {value}")
    return "\n".join(lines)
