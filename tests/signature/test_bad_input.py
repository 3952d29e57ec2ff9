"""Bad input never raises and never hangs: empty, binary, huge, malformed MIME, unknown charset."""

from __future__ import annotations

import time

import pytest

from addin.signature import SignatureResult, read_eml, read_signature

_SIGNED = (
    "Hi Chris,\n\nThe order is confirmed.\n\nBest regards,\nOliver Bennett\n"
    "Procurement Manager\nHarwick Engineering Ltd\nTel: 020 7946 0958\n"
)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x01\x02\xff" * 1000,
        bytes(range(256)) * 64,
        b"From: \r\n\r\n",
        b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nbroken',
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=",
        b"From: =?bogus?q?x?= <a@b>\r\nSubject: =?utf-8?b?////?=\r\n\r\nhello",
        b"\r\n\r\n\r\n",
        b"From: Ann <ann@example.com>\r\nContent-Type: text/html\r\n\r\n<div><<<>>></",
    ],
)
def test_malformed_messages_do_not_raise(raw: bytes) -> None:
    assert isinstance(read_eml(raw), SignatureResult)


def test_unknown_charset_still_reads_the_signature() -> None:
    raw = (
        "From: Oliver Bennett <oliver@harwick-eng.co.uk>\r\n"
        "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n" + _SIGNED
    ).encode("utf-8")
    result = read_eml(raw)
    assert result.first_name == "Oliver"
    assert result.company == "Harwick Engineering Ltd"


def test_lying_charset_falls_back() -> None:
    raw = (
        b"From: J\xfcrgen <j@example.de>\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"Gr\xfc\xdfe\r\nJ\xfcrgen M\xfcller\r\nTel.: 089 1234 5678\r\n"
    )
    assert isinstance(read_eml(raw), SignatureResult)


@pytest.mark.parametrize("body", ["", " ", "\n\n\n", "\x00\x00binary\x00", "-- ", "-- \n"])
def test_empty_and_binary_bodies(body: str) -> None:
    result = read_signature(body, from_name="Ann Lee", from_address="ann@example.com")
    assert result.signature is None
    assert result.email == "ann@example.com"


def test_non_string_body_is_refused_quietly() -> None:
    assert read_signature(b"bytes", from_address="a@b.c").signature is None  # type: ignore[arg-type]


def test_huge_body_returns_quickly() -> None:
    huge = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 180_000)[:10_000_000]
    raw = b"From: Ann <ann@example.com>\r\n\r\n" + huge.encode() + _SIGNED.encode()
    started = time.perf_counter()
    result = read_eml(raw)
    html = read_signature("<p>" + "x<br>" * 2_000_000 + "</p>", content_type="text/html")
    elapsed = time.perf_counter() - started
    assert isinstance(result, SignatureResult) and isinstance(html, SignatureResult)
    assert elapsed < 2.0


def test_pathological_lines_do_not_hang() -> None:
    started = time.perf_counter()
    for body in (
        "a" * 200_000,
        ("1 " * 100_000),
        ("-" * 100_000),
        ("On " + "x" * 50_000 + "\n") * 3,
        ("Tel: " + "0" * 30 + "\n") * 1000,
        ("www." + "a." * 20_000 + "com"),
    ):
        read_signature(body, from_name="Ann Lee")
    assert time.perf_counter() - started < 3.0
