"""The emulator's SOQL subset: its grammar, Salesforce's refusals, and how rows match and order.

Table tests pin every construct and message; property tests show that whatever
``simple_salesforce.format_soql`` writes parses back to the same value (so a quoted value is data,
never syntax), and that no input makes the parser or the evaluator raise anything but
`SoqlError`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce import format_soql

from tests.emulators.salesforce_objects import CATALOG
from tests.emulators.salesforce_store import Records
from tests.emulators.soql import (
    Comparison,
    InList,
    Junction,
    Like,
    Negation,
    Query,
    SemiJoin,
    SoqlError,
    parse_soql,
)
from tests.emulators.soql_eval import count, project, run

ACME, ROSSI = "001000000000000001", "001000000000000002"
GIULIA, MARCO, NOBODY = "003000000000000001", "003000000000000002", "003000000000000003"


@pytest.fixture(scope="module")
def records() -> Records:
    """A tiny org: two accounts, three contacts, relations, two opportunities."""
    store = Records(CATALOG)
    for account_id, name in ((ACME, "Acme"), (ROSSI, "Rossi Costruzioni S.p.A.")):
        store.insert("Account", {"Id": account_id, "Name": name, "BillingCity": None})
    contacts = [
        (GIULIA, "Giulia", "Rossi", "Giulia.Rossi@rossicostruzioni.it", None, ROSSI),
        (MARCO, "Marco", "Bianchi", "marco+crm@acme.example", "100%_sure@x.example", ACME),
        (NOBODY, None, "O'Brien", None, None, None),
    ]
    for contact_id, first, last, email, email2, account in contacts:
        store.insert(
            "Contact",
            {
                "Id": contact_id,
                "FirstName": first,
                "LastName": last,
                "Name": f"{first or ''} {last}".strip(),
                "Email": email,
                "Email2__c": email2,
                "Email3__c": None,
                "AccountId": account,
                "CreatedDate": "2026-11-20T09:30:00.000+0000",
            },
        )
    for number, (contact_id, account_id) in enumerate(
        ((GIULIA, ROSSI), (GIULIA, ACME), (MARCO, ACME)), start=1
    ):
        store.insert(
            "AccountContactRelation",
            {"Id": f"07k00000000000000{number}", "AccountId": account_id, "ContactId": contact_id},
        )
    for number, (name, amount, close, closed) in enumerate(
        (("Crane", 1500.0, "2026-12-01", False), ("Lift", None, "2026-10-01", True)), start=1
    ):
        store.insert(
            "Opportunity",
            {
                "Id": f"00600000000000000{number}",
                "Name": name,
                "Amount": amount,
                "CloseDate": close,
                "IsClosed": closed,
                "AccountId": ROSSI,
            },
        )
    return store


def ids(records: Records, text: str) -> list[str]:
    return [str(row["Id"]) for row in run(parse_soql(text), records)]


def refusal(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as raised:
        parse_soql(text)
    return raised.value


# -- the select list and FROM ------------------------------------------------------------------


def test_fields_come_back_in_their_canonical_spelling(records: Records) -> None:
    query = parse_soql("select id, NAME, account.name from CONTACT")

    assert query.sobject == "Contact"
    assert [path.text for path in query.fields] == ["Id", "Name", "Account.Name"]


def test_parent_fields_render_as_nested_records_or_null(records: Records) -> None:
    query = parse_soql(
        "SELECT Id, Account.Name, Account.BillingCity FROM Contact ORDER BY LastName"
    )

    rendered = [
        project(query, row, records, lambda t, i: f"/sobjects/{t}/{i}")
        for row in run(query, records)
    ]

    assert rendered[0]["Account"] == {
        "attributes": {"type": "Account", "url": f"/sobjects/Account/{ACME}"},
        "Name": "Acme",
        "BillingCity": None,
    }
    assert rendered[1]["Account"] is None  # O'Brien has no account
    assert rendered[2]["Account"]["Name"] == "Rossi Costruzioni S.p.A."
    assert list(rendered[2]) == ["attributes", "Id", "Account"]


def test_the_object_name_may_prefix_a_field(records: Records) -> None:
    assert ids(records, "SELECT Contact.Id FROM Contact WHERE Contact.LastName = 'rossi'") == [
        GIULIA
    ]


def test_count_counts_every_match(records: Records) -> None:
    query = parse_soql("SELECT COUNT() FROM Contact WHERE AccountId != null")

    assert query.count and not query.fields
    assert count(query, records) == 2


def test_filtering_through_a_parent_relationship(records: Records) -> None:
    assert ids(records, "SELECT Id FROM Contact WHERE Account.Name LIKE 'rossi%'") == [GIULIA]


# -- WHERE ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("LastName = 'ROSSI'", [GIULIA]),
        ("LastName != 'Rossi'", [MARCO, NOBODY]),
        ("Email = null", [NOBODY]),
        ("Email != null", [GIULIA, MARCO]),
        ("LastName < 'c'", [MARCO]),
        ("LastName <= 'bianchi'", [MARCO]),
        ("LastName > 'O'", [GIULIA, NOBODY]),
        ("LastName >= 'rossi'", [GIULIA]),
        ("Email IN ('giulia.rossi@ROSSICOSTRUZIONI.it', 'nobody@x')", [GIULIA]),
        ("Email NOT IN ('giulia.rossi@rossicostruzioni.it')", [MARCO, NOBODY]),
        ("Email IN (null)", [NOBODY]),
        ("Name LIKE 'giulia%'", [GIULIA]),
        ("Name LIKE '%i'", [GIULIA, MARCO]),
        ("Name LIKE '%hi'", [MARCO]),
        ("Name LIKE 'Marco _ianchi'", [MARCO]),
        ("Email2__c LIKE '100\\%\\_sure%'", [MARCO]),
        ("Email2__c LIKE '100\\%\\_surf%'", []),
        ("Email LIKE '%+crm@%'", [MARCO]),
        ("NOT LastName = 'Rossi'", [MARCO, NOBODY]),
        ("LastName = 'Rossi' OR LastName = 'Bianchi'", [GIULIA, MARCO]),
        ("LastName = 'Rossi' AND FirstName = 'Marco'", []),
        ("(LastName = 'Rossi' OR LastName = 'Bianchi') AND Email LIKE '%acme%'", [MARCO]),
        ("NOT (LastName = 'Rossi' OR Email = null)", [MARCO]),
        ("CreatedDate = 2026-11-20T09:30:00Z", [GIULIA, MARCO, NOBODY]),
        ("CreatedDate > 2026-11-20T09:30:00.000+0000", []),
        ("CreatedDate < 2026-11-20T10:30:00+01:00", []),
        ("CreatedDate <= 2026-11-20T10:30:00+01:00", [GIULIA, MARCO, NOBODY]),
        ("LastName = 'O\\'Brien'", [NOBODY]),
    ],
)
def test_conditions(records: Records, where: str, expected: list[str]) -> None:
    assert ids(records, f"SELECT Id FROM Contact WHERE {where}") == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("IsClosed = false", ["Crane"]),
        ("IsClosed != true", ["Crane"]),
        ("Amount > 1000", ["Crane"]),
        ("Amount = null", ["Lift"]),
        ("Amount >= 1.5e3", ["Crane"]),
        ("CloseDate < 2026-11-01", ["Lift"]),
        ("CloseDate IN (2026-12-01, 2026-01-01)", ["Crane"]),
    ],
)
def test_typed_conditions(records: Records, where: str, expected: list[str]) -> None:
    rows = run(parse_soql(f"SELECT Name FROM Opportunity WHERE {where}"), records)

    assert [row["Name"] for row in rows] == expected


def test_the_where_tree() -> None:
    where = parse_soql(
        "SELECT Id FROM Contact WHERE NOT (Email IN ('a') OR Email LIKE 'b%') AND Name != 'c'"
    ).where

    assert isinstance(where, Junction) and where.operator == "and"
    negation, comparison = where.operands
    assert isinstance(negation, Negation) and isinstance(comparison, Comparison)
    assert isinstance(negation.operand, Junction) and negation.operand.operator == "or"
    in_list, like = negation.operand.operands
    assert isinstance(in_list, InList) and in_list.values == ("a",) and not in_list.negated
    assert isinstance(like, Like)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'it\\'s'", "it's"),
        ("'say \\\"hi\\\"'", 'say "hi"'),
        ("'back\\\\slash'", "back\\slash"),
        ("'a\\nb\\rc\\td\\be\\ff'", "a\nb\rc\td\be\ff"),
        ("'caf\\u00e9'", "café"),
        ("'\\ud83d\\ude00'", "\U0001f600"),
        ("'100\\%\\_'", "100%_"),
        ("''", ""),
        ("'Łukasz Wróbel'", "Łukasz Wróbel"),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    where = parse_soql(f"SELECT Id FROM Contact WHERE Name = {literal}").where

    assert isinstance(where, Comparison) and where.value == value


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("2026-11-20T09:30:00Z", dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)),
        ("2026-11-20T09:30:00.000+0000", dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)),
        ("2026-11-20T10:30:00+01:00", dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)),
        ("2026-11-20T04:30:00-0500", dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)),
    ],
)
def test_date_time_literals(literal: str, value: dt.datetime) -> None:
    where = parse_soql(f"SELECT Id FROM Event WHERE StartDateTime >= {literal}").where

    assert isinstance(where, Comparison) and where.value == value


def test_mixing_and_with_or_needs_parentheses() -> None:
    error = refusal("SELECT Id FROM Contact WHERE Name = 'a' AND Email = 'b' OR Email = 'c'")

    assert error.code == "MALFORMED_QUERY"
    assert error.message.endswith("unexpected token: 'OR'")


# -- semi-joins -------------------------------------------------------------------------------

ACR = "(SELECT AccountId FROM AccountContactRelation WHERE ContactId IN ({contacts}))"


def test_semi_join_selects_the_accounts_of_contacts(records: Records) -> None:
    acr = ACR.format(contacts=f"'{GIULIA}'")

    assert ids(records, f"SELECT Id FROM Account WHERE Id IN {acr}") == [ACME, ROSSI]
    assert ids(records, f"SELECT Id FROM Account WHERE Id NOT IN {acr}") == []
    marco = ACR.format(contacts=f"'{MARCO}'")
    assert ids(records, f"SELECT Id FROM Account WHERE Id NOT IN {marco}") == [ROSSI]


def test_two_semi_joins_with_other_conditions(records: Records) -> None:
    text = (
        f"SELECT Name FROM Opportunity WHERE AccountId IN {ACR.format(contacts=repr(GIULIA))}"
        " AND AccountId IN (SELECT Id FROM Account WHERE Name LIKE 'rossi%')"
        " AND IsClosed = false ORDER BY CloseDate ASC LIMIT 200"
    )

    where = parse_soql(text).where
    assert isinstance(where, Junction)
    assert sum(isinstance(operand, SemiJoin) for operand in where.operands) == 2
    assert [row["Name"] for row in run(parse_soql(text), records)] == ["Crane"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            "Id IN (SELECT AccountId FROM Contact) AND Id IN (SELECT AccountId FROM Contact)"
            " AND Id IN (SELECT AccountId FROM Contact)",
            "Maximum of 2 semi join sub-selects are allowed",
        ),
        (
            "Id IN (SELECT AccountId FROM Contact WHERE Id IN (SELECT ContactId FROM Case))",
            "Nesting of semi join sub-selects is not supported",
        ),
        (
            "Name = 'x' OR Id IN (SELECT AccountId FROM Contact)",
            "Semi join sub-selects are not allowed with the 'OR' operator",
        ),
        (
            "NOT Id IN (SELECT AccountId FROM Contact)",
            "Semi join sub-selects are not allowed with the 'NOT' operator",
        ),
        ("Id IN (SELECT AccountId, Id FROM Contact)", "must select exactly one field"),
        ("Id IN (SELECT Id FROM Account)", "should not be on the same object type"),
        ("Name IN (SELECT Name FROM Contact)", "cannot use: 'Name'"),
        ("Id IN (SELECT LastName FROM Contact)", "cannot use: 'LastName'"),
        ("Id IN (SELECT AccountId FROM Contact ORDER BY Name)", "unexpected token: 'ORDER'"),
    ],
)
def test_semi_join_limits(where: str, message: str) -> None:
    error = refusal(f"SELECT Id FROM Account WHERE {where}")

    assert message in error.message


# -- ORDER BY, LIMIT, OFFSET --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("LastName", [MARCO, NOBODY, GIULIA]),
        ("LastName DESC", [GIULIA, NOBODY, MARCO]),
        ("Email", [NOBODY, GIULIA, MARCO]),  # nulls first by default
        ("Email ASC NULLS LAST", [GIULIA, MARCO, NOBODY]),
        ("Email DESC NULLS FIRST", [NOBODY, MARCO, GIULIA]),
        ("Email DESC NULLS LAST", [MARCO, GIULIA, NOBODY]),
        ("Account.Name NULLS LAST, LastName DESC", [MARCO, GIULIA, NOBODY]),
        ("CreatedDate, FirstName DESC", [NOBODY, MARCO, GIULIA]),
    ],
)
def test_order_by(records: Records, order: str, expected: list[str]) -> None:
    assert ids(records, f"SELECT Id FROM Contact ORDER BY {order}") == expected


def test_limit_and_offset(records: Records) -> None:
    assert ids(records, "SELECT Id FROM Contact ORDER BY LastName LIMIT 2") == [MARCO, NOBODY]
    assert ids(records, "SELECT Id FROM Contact ORDER BY LastName LIMIT 1 OFFSET 1") == [NOBODY]
    assert ids(records, "SELECT Id FROM Contact ORDER BY LastName OFFSET 2") == [GIULIA]
    assert ids(records, "SELECT Id FROM Contact LIMIT 0") == []


def test_offset_is_at_most_two_thousand() -> None:
    error = refusal("SELECT Id FROM Contact OFFSET 2001")

    assert error.code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert parse_soql("SELECT Id FROM Contact OFFSET 2000").offset == 2000


# -- refusals ---------------------------------------------------------------------------------


def test_unknown_field_is_invalid_field() -> None:
    error = refusal("SELECT Id, Foo FROM Contact")

    assert error.code == "INVALID_FIELD"
    assert error.message.startswith("\nSELECT Id, Foo FROM Contact\n           ^\n")
    assert "ERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Contact'. If you are" in (
        error.message
    )
    assert "append the '__c' after the custom field name" in error.message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("SELECT Account.Foo FROM Contact", "No such column 'Foo' on entity 'Account'"),
        ("SELECT Foo.Name FROM Contact", "Didn't understand relationship 'Foo' in field path"),
        ("SELECT Id FROM Contact WHERE Bar = 'x'", "No such column 'Bar' on entity 'Contact'"),
        ("SELECT Id FROM Contact ORDER BY Bar", "No such column 'Bar' on entity 'Contact'"),
        ("SELECT ToIds FROM EmailMessage", "No such column 'ToIds' on entity 'EmailMessage'"),
        ("SELECT What.Name FROM Event", "Didn't understand relationship 'What'"),
        (
            "SELECT Id FROM EmailMessage WHERE HtmlBody = 'x'",
            "field 'HtmlBody' can not be filtered in a query call",
        ),
        (
            "SELECT Id FROM EmailMessage ORDER BY HtmlBody",
            "field 'HtmlBody' can not be sorted in a query call",
        ),
        (
            "SELECT Id FROM Opportunity WHERE IsClosed = 'false'",
            "value of filter criterion for field 'IsClosed' must be of type boolean and should"
            " not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Contact WHERE LastName = 5",
            "value of filter criterion for field 'LastName' must be of type string and should be"
            " enclosed in quotes",
        ),
        (
            "SELECT Id FROM Event WHERE StartDateTime > 2026-11-20",
            "field 'StartDateTime' must be of type dateTime and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Opportunity WHERE Amount > '5'",
            "field 'Amount' must be of type currency",
        ),
        (
            "SELECT Id FROM Contact WHERE LastName = true",
            "field 'LastName' must be of type string",
        ),
    ],
)
def test_invalid_fields(text: str, reason: str) -> None:
    error = refusal(text)

    assert error.code == "INVALID_FIELD"
    assert reason in error.message


def test_unknown_object_is_invalid_type() -> None:
    error = refusal("SELECT Id FROM Foo")

    assert error.code == "INVALID_TYPE"
    assert error.message.endswith(
        "sObject type 'Foo' is not supported. If you are attempting to use a custom object, be"
        " sure to append the '__c' after the entity name. Please reference your WSDL or the"
        " describe call for the appropriate names."
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SELECT Id FROM Opportunity WHERE IsClosed < true", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Contact WHERE Id LIKE '003%'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Opportunity WHERE Amount LIKE '1%'", "INVALID_QUERY_FILTER_OPERATOR"),
    ],
)
def test_operators_a_field_has_not(text: str, code: str) -> None:
    assert refusal(text).code == code


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("SELECT Id FORM Contact", "unexpected token: 'FORM'"),
        ("SELECT FROM Contact", "unexpected token: 'FROM'"),
        ("SELECT Id, FROM Contact", "unexpected token: 'FROM'"),
        ("SELECT Id FROM Contact WHERE", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Contact WHERE Name", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Contact WHERE Name = ", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Contact WHERE Name == 'a'", "unexpected token: '='"),
        ("SELECT Id FROM Contact WHERE Name IN ()", "unexpected token: ')'"),
        ("SELECT Id FROM Contact WHERE Name NOT 'a'", "unexpected token: ''a''"),
        ("SELECT Id FROM Contact WHERE (Name = 'a'", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Contact WHERE Name = 'a')", "unexpected token: ')'"),
        ("SELECT Id FROM Contact LIMIT 'a'", "unexpected token: ''a''"),
        ("SELECT Id FROM Contact LIMIT 1.5", "unexpected token: '1.5'"),
        ("SELECT Id FROM Contact ORDER Name", "unexpected token: 'Name'"),
        ("SELECT Id FROM Contact ORDER BY Name NULLS", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Contact GROUP BY Name", "unexpected token: 'GROUP'"),
        ("SELECT Id FROM Contact c", "unexpected token: 'c'"),
        ("SELECT Id FROM Contact WHERE CreatedDate > TODAY", "unexpected token: 'TODAY'"),
        ("SELECT Id, Id FROM Contact", "duplicate field selected: Id"),
        ("SELECT COUNT(Id) FROM Contact", "no aggregate functions but COUNT()"),
        ("SELECT Id FROM Contact WHERE Name = 'a\\x'", "Illegal character sequence '\\x'"),
        ("SELECT Id FROM Contact WHERE Name = 'a\\u12'", "Illegal character sequence '\\u'"),
        ("SELECT Id FROM Contact WHERE Name = 'abc", "mismatched character '<EOF>' expecting"),
        ("SELECT Id FROM Contact WHERE Name # 'a'", "no viable alternative at character '#'"),
        ("SELECT Id FROM Opportunity WHERE Amount > inf", "unexpected token: 'inf'"),
        (
            "SELECT Id FROM Event WHERE StartDateTime > 2026-13-20T00:00:00Z",
            "value of the date-time '2026-13-20T00:00:00Z' is invalid",
        ),
        ("", "unexpected token: '<EOF>'"),
    ],
)
def test_malformed_queries(text: str, reason: str) -> None:
    error = refusal(text)

    assert error.code == "MALFORMED_QUERY", error.message
    assert reason in error.message


def test_limits_of_size_and_nesting() -> None:
    deep = "SELECT Id FROM Contact WHERE " + "(" * 500 + "Name = 'a'" + ")" * 500
    nots = "SELECT Id FROM Contact WHERE " + "NOT " * 500 + "Name = 'a'"
    long = "SELECT Id FROM Contact WHERE Name IN (" + ",".join(["'a'"] * 30_000) + ")"

    assert refusal(deep).code == refusal(nots).code == "QUERY_TOO_COMPLICATED"
    assert "cannot be longer than 100,000 characters" in refusal(long).message
    assert parse_soql("SELECT Id FROM Contact WHERE " + "(" * 50 + "Name = 'a'" + ")" * 50)


def test_a_parse_error_points_at_its_row_and_column() -> None:
    error = refusal("SELECT Id\nFROM Contact\nWHERE Name = 'a' AND OR")

    assert error.message == (
        "\nWHERE Name = 'a' AND OR\n                     ^\nERROR at Row:3:Column:22\n"
        "unexpected token: 'OR'"
    )


# -- format_soql round trips --------------------------------------------------------------------


def the_value(query: Query) -> Any:
    assert isinstance(query.where, Comparison | InList)
    return query.where.value if isinstance(query.where, Comparison) else query.where.values


@pytest.mark.parametrize(
    "value",
    [
        "o'brien+vip@example.com",
        'say "hi"',
        "back\\slash\\",
        "100%_sure",
        "line\nbreak\r\ttab\b\f",
        "Łukasz Wróbel 😀",
        "x' OR Name != '",
        "\\'; DELETE",
        "",
    ],
)
def test_format_soql_strings_round_trip(value: str) -> None:
    query = parse_soql(format_soql("SELECT Id FROM Contact WHERE Name = {}", value))

    assert the_value(query) == value


def test_format_soql_other_values_round_trip() -> None:
    moment = dt.datetime(
        2026, 11, 20, 10, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    checks: list[tuple[str, Any, Any]] = [
        ("SELECT Id FROM Opportunity WHERE IsClosed = {}", False, False),
        ("SELECT Id FROM Opportunity WHERE IsClosed = {}", True, True),
        ("SELECT Id FROM Opportunity WHERE ContactId = {}", None, None),
        ("SELECT Id FROM Opportunity WHERE Amount > {}", 42, 42.0),
        ("SELECT Id FROM Opportunity WHERE Amount > {}", -1.5, -1.5),
        ("SELECT Id FROM Opportunity WHERE Amount > {}", 1e-05, 1e-05),
        ("SELECT Id FROM Opportunity WHERE Amount > {}", 1e20, 1e20),
        (
            "SELECT Id FROM Opportunity WHERE CloseDate = {}",
            dt.date(2026, 1, 2),
            dt.date(2026, 1, 2),
        ),
        (
            "SELECT Id FROM Event WHERE StartDateTime >= {}",
            moment,
            dt.datetime(2026, 11, 20, 9, 30, 15, tzinfo=dt.UTC),
        ),
        (
            "SELECT Id FROM Contact WHERE Email IN {}",
            ["a@x.com", "o'brien+vip@example.com", None],
            ("a@x.com", "o'brien+vip@example.com", None),
        ),
        ("SELECT Id FROM Contact WHERE Email IN {}", ("one",), ("one",)),
    ]
    for template, value, parsed in checks:
        assert the_value(parse_soql(format_soql(template, value))) == parsed, template


def test_format_soql_like_escapes_match_literally(records: Records) -> None:
    text = format_soql("SELECT Id FROM Contact WHERE Email2__c LIKE '{:like}%'", "100%_s")

    assert ids(records, text) == [MARCO]
    text = format_soql("SELECT Id FROM Contact WHERE Email2__c LIKE '{:like}%'", "100x_s")
    assert ids(records, text) == []


def test_an_injection_attempt_is_one_value(records: Records) -> None:
    text = format_soql("SELECT Id FROM Contact WHERE LastName = {}", "x' OR Name != '")

    assert ids(records, text) == []
    where = parse_soql(text).where
    assert isinstance(where, Comparison) and where.value == "x' OR Name != '"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_formatted_string_is_exactly_its_value(value: str) -> None:
    query = parse_soql(format_soql("SELECT Id FROM Contact WHERE LastName = {}", value))

    assert the_value(query) == value


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(), st.none()), min_size=1, max_size=5))
def test_any_formatted_list_is_exactly_its_values(values: list[str | None]) -> None:
    query = parse_soql(format_soql("SELECT Id FROM Contact WHERE Email IN {}", values))

    assert the_value(query) == tuple(values)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
def test_any_like_prefix_matches_itself(value: str) -> None:
    text = format_soql("SELECT Id FROM Contact WHERE LastName LIKE '{:like}%'", value)
    where = parse_soql(text).where

    assert isinstance(where, Like)
    assert where.pattern.fullmatch(value + "tail")


# -- never a crash ----------------------------------------------------------------------------

SOQL_ALPHABET = st.sampled_from(
    [
        *"'\"(),=<>!%_ -.#\\",
        "SELECT",
        "FROM",
        "WHERE",
        "Id",
        "Name",
        "Account.Name",
        "IsClosed",
        "Contact",
        "Account",
        "AccountContactRelation",
        "AccountId",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER BY",
        "DESC",
        "NULLS",
        "LAST",
        "LIMIT",
        "OFFSET",
        "COUNT()",
        "null",
        "true",
        "5",
        "2026-11-20T09:30:00Z",
        "2026-11-20",
        "'a'",
        "\\u",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(SOQL_ALPHABET, max_size=16).map(" ".join))
def test_no_token_soup_crashes_the_parser(records: Records, text: str) -> None:
    try:
        query = parse_soql(text)
    except SoqlError as error:
        assert error.code and error.message
    else:
        run(query, records)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_no_text_crashes_the_parser(text: str) -> None:
    with contextlib.suppress(SoqlError):
        parse_soql(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_no_text_after_a_valid_prefix_crashes_the_parser(text: str) -> None:
    with contextlib.suppress(SoqlError):
        parse_soql(f"SELECT Id FROM Contact WHERE Name = {text}")
