"""Bad input never raises and never hangs: empty, binary, huge, malformed MIME, unknown charset."""

from __future__ import annotations

import pytest

from addin.signature import SignatureResult, read_eml, read_signature
from addin.signature.message import MAX_BODY_CHARS, html_to_text

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


def test_huge_bodies_are_read_only_up_to_the_cap() -> None:
    # The work per email is capped: what lies beyond MAX_BODY_CHARS is never looked at, so a
    # 10 MB body costs what its first 64 KB cost. (How long that takes is `make bench`'s.)
    filler = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 180_000)[:10_000_000]
    beyond = read_eml(b"From: Ann <ann@example.com>\r\n\r\n" + (filler + _SIGNED).encode())
    assert beyond.job_title is None and beyond.email == "ann@example.com"
    within = read_eml(b"From: Ann <ann@example.com>\r\n\r\n" + (_SIGNED + filler).encode())
    assert isinstance(within, SignatureResult)
    markup = "<p>" + "x<br>" * 2_000_000 + "</p>"
    assert html_to_text(markup) == html_to_text(markup[: MAX_BODY_CHARS * 4])
    assert len(html_to_text(markup)) <= MAX_BODY_CHARS


@pytest.mark.parametrize(
    "body",
    [
        "a" * 200_000,
        "1 " * 100_000,
        "-" * 100_000,
        ("On " + "x" * 50_000 + "\n") * 3,
        ("Tel: " + "0" * 30 + "\n") * 1000,
        "www." + "a." * 20_000 + "com",
        ("> " * 5_000 + "\n") * 20,
        ("P.S. " * 10_000 + "\n") * 5,
    ],
    ids=["one-long-line", "digits", "dashes", "attribution", "zeros", "host", "quotes", "ps"],
)
def test_pathological_bodies_return_a_result(body: str) -> None:
    # Each of these once made a pattern backtrack; `make bench` times them (worst case).
    assert isinstance(read_signature(body, from_name="Ann Lee"), SignatureResult)
