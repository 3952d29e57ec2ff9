"""``$batch`` bodies as Dataverse documents them, built and read back."""

from __future__ import annotations

import pytest

from crm_adapters.dynamics import batch

BASE = "https://org.api.crm.dynamics.com/api/data/v9.2/"


def test_build_makes_one_application_http_part_per_get():
    boundary, body = batch.build(
        [BASE + "accounts?$top=1", BASE + "contacts?$top=2"],
        {"Prefer": 'odata.include-annotations="*"'},
        boundary="batch_AAA",
    )
    assert boundary == "batch_AAA"
    assert body.decode() == (
        "--batch_AAA\r\n"
        "Content-Type: application/http\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "\r\n"
        f"GET {BASE}accounts?$top=1 HTTP/1.1\r\n"
        "Accept: application/json\r\n"
        'Prefer: odata.include-annotations="*"\r\n'
        "\r\n"
        "--batch_AAA\r\n"
        "Content-Type: application/http\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "\r\n"
        f"GET {BASE}contacts?$top=2 HTTP/1.1\r\n"
        "Accept: application/json\r\n"
        'Prefer: odata.include-annotations="*"\r\n'
        "\r\n"
        "--batch_AAA--\r\n"
    )


RESPONSE = (
    "--batchresponse_1\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json; odata.metadata=minimal\r\n"
    "OData-Version: 4.0\r\n"
    "\r\n"
    '{"value": [{"accountid": "1"}]}\r\n'
    "--batchresponse_1\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 404 Not Found\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    '{"error": {"code": "0x80060888", "message": "Resource not found for the segment \'x\'."}}\r\n'
    "--batchresponse_1--\r\n"
)


def test_parse_reads_each_status_and_body_in_order():
    answers = batch.parse("multipart/mixed; boundary=batchresponse_1", RESPONSE.encode())
    assert [a.status for a in answers] == [200, 404]
    assert answers[0].json() == {"value": [{"accountid": "1"}]}
    assert answers[0].headers["odata-version"] == "4.0"
    assert answers[1].json()["error"]["code"] == "0x80060888"


def test_parse_accepts_bare_newlines_quoted_boundaries_and_change_sets():
    nested = (
        "--changesetresponse_9\n"
        "Content-Type: application/http\n"
        "\n"
        "HTTP/1.1 204 No Content\n"
        "\n"
        "--changesetresponse_9--\n"
    )
    body = (
        "preamble\n"
        "--b\n"
        "Content-Type: multipart/mixed; boundary=changesetresponse_9\n"
        "\n"
        f"{nested}"
        "--b\n"
        "Content-Type: application/http\n"
        "\n"
        "HTTP/1.1 200 OK\n"
        "\n"
        '{"a": 1}\n'
        "--b--"
    )
    answers = batch.parse('multipart/mixed; boundary="b"', body.encode())
    assert [(a.status, a.json()) for a in answers] == [(204, None), (200, {"a": 1})]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{}"),
        (
            "multipart/mixed; boundary=x",
            b"--x\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200",
        ),
        ("multipart/mixed; boundary=x", b"--x\r\n\r\nnot http\r\n--x--"),
    ],
)
def test_parse_refuses_what_is_not_a_batch_response(content_type, body):
    with pytest.raises(ValueError):
        batch.parse(content_type, body)
