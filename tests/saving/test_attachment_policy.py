"""The organisation's attachment policy (rule 18): size limit, and extension AND content type."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import Babel

from addin import config
from addin.services import tenant_settings
from addin.services.attachments import ITEM, SIZE, TYPE, AttachmentPolicy, describe, megabytes

MB = 1024 * 1024
POLICY = AttachmentPolicy.of(
    10 * MB,
    [".PDF", "png", "docx", "txt"],
    [
        "application/pdf",
        "IMAGE/*",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain",
    ],
)


@pytest.mark.parametrize(
    ("name", "content_type", "size", "expected"),
    [
        ("offer.pdf", "application/pdf", 1000, None),
        ("OFFER.PDF", "Application/PDF", 1000, None),  # case does not matter
        ("scan.png", "image/png", 10 * MB, None),  # the limit itself is allowed
        ("scan.png", "image/png", 10 * MB + 1, SIZE),
        ("huge.exe", "application/x-msdownload", 10 * MB + 1, SIZE),  # size is said first
        ("contract.docx", POLICY.mime_types[2], 5000, None),
        # Both checks, because either alone is easy to fool:
        ("invoice.pdf.exe", "application/pdf", 1000, TYPE),
        ("photo.png", "application/x-msdownload", 1000, TYPE),
        ("setup.exe", "application/octet-stream", 1000, TYPE),
        # A family of types: image/* takes every image, and only images.
        ("photo.png", "image/x-custom", 1000, None),
        ("photo.png", "imagex/png", 1000, TYPE),
        ("photo.png", "application/image", 1000, TYPE),
        # Parameters and spaces in the content type do not matter.
        ("notes.txt", "text/plain; charset=utf-8", 10, None),
        ("notes.txt", " TEXT/PLAIN ;charset=utf-8", 10, None),
        ("notes.txt", "text/plainx; charset=utf-8", 10, TYPE),
        # No extension, or no content type (sent as octet-stream): not allowed.
        ("README", "text/plain", 10, TYPE),
        ("notes.", "text/plain", 10, TYPE),
        ("notes.txt", "", 10, TYPE),
        ("notes.txt", "; charset=utf-8", 10, TYPE),
    ],
)
def test_a_file_is_saved_only_within_the_size_limit_and_with_an_allowed_extension_and_type(
    name, content_type, size, expected
):
    assert POLICY(name, content_type, size) == expected


def test_the_policy_is_the_one_the_admin_set():
    settings = tenant_settings.validate(
        {
            "attachment_max_bytes": 2048,
            "attachment_extensions": ["PDF", ".csv"],
            "attachment_mime_types": ["Application/PDF", "text/*"],
        },
        tenant_settings.defaults(config.defaults("instance")),
    )
    policy = AttachmentPolicy.from_settings(settings)
    assert policy == AttachmentPolicy(
        2048, frozenset({"pdf", "csv"}), ("application/pdf", "text/*")
    )
    assert policy("data.csv", "text/csv", 2048) is None
    assert policy("data.csv", "text/csv", 2049) == SIZE
    assert policy("data.xlsx", "text/csv", 10) == TYPE


def test_octet_stream_is_allowed_only_when_the_admin_allows_it():
    generic = AttachmentPolicy.of(MB, ["bin"], ["application/octet-stream"])
    assert generic("data.bin", "", 10) is None  # no content type counts as octet-stream
    assert generic("data.bin", "application/octet-stream", 10) is None
    assert generic("data.bin", "text/plain", 10) == TYPE


def test_nothing_is_allowed_by_an_empty_policy():
    closed = AttachmentPolicy.of(MB, [], [])
    assert closed("offer.pdf", "application/pdf", 1) == TYPE


@pytest.mark.parametrize(
    ("size", "text"),
    [(10 * MB, "10 MB"), (25 * MB, "25 MB"), (5 * MB, "5 MB"), (int(1.5 * MB), "1.5 MB")],
)
def test_megabytes_are_said_simply(size, text):
    assert megabytes(size) == text


def test_describe_says_why_a_file_was_left_out():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        assert describe(SIZE, 10 * MB) == "over the 10 MB limit"
        assert describe(SIZE, int(2.5 * MB)) == "over the 2.5 MB limit"
        assert describe(TYPE, 10 * MB) == "files of this type are not saved"
        assert describe(ITEM, 10 * MB) == "attached Outlook items are not saved"
        assert describe("something new", 10 * MB) == "files of this type are not saved"
