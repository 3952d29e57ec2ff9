"""The emulator's OData query parser: Dataverse's ``$filter`` dialect, its errors and its options.

Table tests pin the grammar and the messages; property tests show that any value, quoted as the
adapter quotes it, is data (never syntax), and that no input makes the parser crash.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.emulators.dataverse_tables import TABLES
from tests.emulators.odata import (
    MAX_EXPANDS,
    InValues,
    Literal,
    ODataError,
    OrderKey,
    matches,
    parse_filter,
    parse_query,
    sort_rows,
)

GIULIA = "0a83a568-8d9b-438e-ae16-b74376ee0545"
ROSSI = "25190bae-9eb6-4149-a144-a397b299bd8b"
ROW: dict[str, Any] = {
    "contactid": GIULIA,
    "firstname": "Giulia",
    "lastname": "O'Rossi",
    "fullname": "Giulia O'Rossi",
    "emailaddress1": "giulia.rossi+crm@rossicostruzioni.it",
    "emailaddress2": None,
    "emailaddress3": "100%_sure@wild-cards.co.uk",
    "jobtitle": "Responsabile [acquisti]",
    "_parentcustomerid_value": ROSSI,
    "statecode": 0,
    "createdon": "2026-11-20T09:30:00Z",
}
PARTIES = [
    {"_partyid_value": GIULIA, "participationtypemask": 1},
    {"_partyid_value": None, "participationtypemask": 2, "addressused": "x@y.z"},
]


def related(entity: str, row: Mapping[str, Any], navigation: str) -> Sequence[Mapping[str, Any]]:
    """Stand in for the emulator's store: every email has PARTIES, every contact is Giulia."""
    if navigation == "email_activity_parties":
        return PARTIES
    if navigation == "contact_customer_accounts":
        return [ROW]
    if navigation == "parentcustomerid_account":
        return [{"accountid": ROSSI, "name": "Rossi Costruzioni S.p.A."}]
    return []


def holds(
    expression: str, row: Mapping[str, Any] = ROW, entity: str = "contact", **aliases: str
) -> bool:
    node = parse_filter(expression, entity, TABLES, {f"@{k}": v for k, v in aliases.items()})
    return matches(node, row, related)


def refusal(expression: str, entity: str = "contact", **aliases: str) -> str:
    with pytest.raises(ODataError) as caught:
        parse_filter(expression, entity, TABLES, {f"@{k}": v for k, v in aliases.items()})
    assert caught.value.status == 400 and caught.value.code == "0x80060888"
    return caught.value.message


# -- the grammar -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("firstname eq 'Giulia'", True),
        ("firstname eq 'GIULIA'", True),  # case-insensitive, like Dataverse
        ("firstname ne 'giulia'", False),
        ("lastname eq 'O''Rossi'", True),
        ("statecode eq 0 and not (firstname eq 'Marco')", True),
        ("statecode eq 1 or firstname eq 'Giulia'", True),
        ("statecode eq 1 or firstname eq 'Giulia' and lastname eq 'x'", False),  # and first
        ("(statecode eq 1 or firstname eq 'Giulia') and lastname eq 'o''rossi'", True),
        ("statecode ge 0 and statecode lt 1 and statecode le 0 and statecode gt -1", True),
        (f"contactid eq {GIULIA.upper()}", True),
        (f"_parentcustomerid_value eq {ROSSI}", True),
        ("emailaddress2 eq null", True),
        ("emailaddress1 ne null", True),
        ("emailaddress2 gt 'a'", False),  # null never orders
        ("createdon eq 2026-11-20T09:30:00Z", True),
        ("createdon lt 2026-11-20T10:30:00+01:00", False),
        ("createdon le 2026-11-20T09:30:00.000Z", True),
        ("createdon ge 2026-11-20 and createdon lt 2026-11-21", True),
        ("contains(fullname,'o''ros')", True),
        ("startswith(emailaddress1,'GIULIA.')", True),
        ("endswith(emailaddress1,'.it')", True),
        ("startswith(emailaddress1,'giulia_rossi')", True),  # _ is one character
        ("startswith(emailaddress1,'giulia[_]rossi')", False),  # [_] is a literal _
        ("startswith(emailaddress3,'100[%][_]sure')", True),
        ("startswith(emailaddress3,'100[%]x')", False),
        ("contains(emailaddress1,'ross%crm')", True),
        ("contains(jobtitle,'[[]acquisti]')", True),
        ("startswith(firstname,'[fg]iu')", True),
        ("startswith(firstname,'[^g]iu')", False),
        ("startswith(firstname,'[a-h]iulia')", True),
        ("parentcustomerid_account/name eq 'rossi costruzioni s.p.a.'", True),
        ("not contains(fullname,'x')", True),
    ],
)
def test_filter_grammar(expression: str, expected: bool) -> None:
    assert holds(expression) is expected


def test_in_with_aliases_used_several_times() -> None:
    expression = " or ".join(
        f"Microsoft.Dynamics.CRM.In(PropertyName=@p{n},PropertyValues=@v)" for n in (1, 2, 3)
    )
    values = json.dumps(["nobody@x.com", "100%_SURE@wild-cards.co.uk"])

    assert holds(
        expression, p1="'emailaddress1'", p2="'emailaddress2'", p3="'emailaddress3'", v=values
    )
    assert not holds(
        expression, p1="'emailaddress1'", p2="'emailaddress2'", p3="'jobtitle'", v=values
    )


@pytest.mark.parametrize(
    "expression",
    [
        'Microsoft.Dynamics.CRM.In(PropertyName=\'emailaddress1\',PropertyValues=["a@b.c","GIULIA.ROSSI+crm@rossicostruzioni.it"])',
        "Microsoft.Dynamics.CRM.In(PropertyValues=['giulia.rossi+crm@rossicostruzioni.it'],PropertyName='emailaddress1')",
        f"Microsoft.Dynamics.CRM.In(PropertyName='contactid',PropertyValues=[\"{GIULIA.upper()}\"])",
        'Microsoft.Dynamics.CRM.In(PropertyName=\'statecode\',PropertyValues=["0","1"])',
        "Microsoft.Dynamics.CRM.NotIn(PropertyName='firstname',PropertyValues=[\"Marco\"])",
    ],
)
def test_in_function_forms(expression: str) -> None:
    assert holds(expression)


def test_any_over_a_collection_navigation() -> None:
    email = {"activityid": "e1"}

    assert holds(f"email_activity_parties/any(p:p/_partyid_value eq {GIULIA})", email, "email")
    assert holds(
        "email_activity_parties/any(p:p/participationtypemask eq 2 and p/addressused eq 'X@Y.Z')",
        email,
        "email",
    )
    assert not holds("email_activity_parties/all(p:p/participationtypemask eq 1)", email, "email")
    assert holds("email_activity_parties/any()", email, "email")
    assert holds(
        f"contact_customer_accounts/any(c:c/contactid eq {GIULIA} or c/contactid eq {ROSSI})"
        f" or _primarycontactid_value eq {ROSSI}",
        {"accountid": ROSSI, "_primarycontactid_value": None},
        "account",
    )


def test_aliases_stand_for_any_literal() -> None:
    assert holds("firstname eq @name and statecode eq @state", name="'giulia'", state="0")
    assert holds("emailaddress2 eq @missing")  # an alias not given is null


# -- refusals and their messages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "lastname eq 'O'Bryan'",
            "There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''.",
        ),
        ("lastname eq 'x", "There is an unterminated literal at position 14 in 'lastname eq 'x'."),
        ("lastname eq 'x' foo", "Syntax error at position 19 in 'lastname eq 'x' foo'."),
        ("lastname eq", "Syntax error at position 11 in 'lastname eq'."),
        ("(lastname eq 'a'", "Syntax error at position 16 in '(lastname eq 'a''."),
        ("lastname eq 'a')", "Syntax error at position 16 in 'lastname eq 'a')'."),
        ("contains(lastname 'a')", "Syntax error at position 21 in 'contains(lastname 'a')'."),
        (
            "lastname # 'a'",
            "Syntax error: character '#' is not valid at position 9 in 'lastname # 'a''.",
        ),
        ("", "Syntax error at position 0 in ''."),
        (
            "nickname eq 'x'",
            "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.contact'.",
        ),
        (
            "parentcustomerid_account/nickname eq 'x'",
            "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.account'.",
        ),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='nickname',PropertyValues=[\"x\"])",
            "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.contact'.",
        ),
        (
            f"contactid eq '{GIULIA}'",
            "A binary operator with incompatible types was detected. Found operand types"
            " 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'.",
        ),
        (
            "statecode eq '0'",
            "A binary operator with incompatible types was detected. Found operand types"
            " 'Edm.Int32' and 'Edm.String' for operator kind 'Equal'.",
        ),
        ("lastname", "The $filter expression must evaluate to a single boolean value."),
        ("tolower(lastname) eq 'x'", "An unknown function with name 'tolower' was found."),
    ],
)
def test_malformed_filters_are_refused_with_dataverse_messages(
    expression: str, message: str
) -> None:
    assert refusal(expression).startswith(message)


def test_single_quoted_in_values_with_an_apostrophe_fail_as_in_dataverse() -> None:
    message = refusal(
        "Microsoft.Dynamics.CRM.In(PropertyName=@p,PropertyValues=@v)",
        p="'lastname'",
        v="['o'rossi']",
    )

    assert message.startswith("Invalid JSON. A comma character ',' was expected in scope 'Array'.")


def test_lambda_over_an_unknown_navigation_is_refused() -> None:
    message = refusal("email_parties/any(p:p/_partyid_value eq null)", "email")

    assert (
        message
        == "Could not find a property named 'email_parties' on type 'Microsoft.Dynamics.CRM.email'."
    )


# -- injection is data -------------------------------------------------------------------------

INJECTIONS = ["x' or '1'='1", "') or 1 eq 1 or ('", "' or contactid ne null or '", "x'')--"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_escaped_injection_is_one_string_literal(value: str) -> None:
    quoted = value.replace("'", "''")
    node = parse_filter(f"lastname eq '{quoted}'", "contact", TABLES)

    assert isinstance(node.right, Literal) and node.right.value == value  # type: ignore[attr-defined]
    assert not matches(node, ROW, related)


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_in_a_json_array_is_one_value(value: str) -> None:
    node = parse_filter(
        "Microsoft.Dynamics.CRM.In(PropertyName=@p,PropertyValues=@v)",
        "contact",
        TABLES,
        {"@p": "'lastname'", "@v": json.dumps([value])},
    )

    assert isinstance(node, InValues) and node.values == {value.casefold()}
    assert not matches(node, ROW, related)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_quoted_value_matches_itself_only(value: str) -> None:
    quoted = value.replace("'", "''")
    node = parse_filter(f"lastname eq '{quoted}'", "contact", TABLES)

    assert matches(node, {**ROW, "lastname": value}, related)
    assert matches(node, ROW, related) is (value.casefold() == ROW["lastname"].casefold())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), max_size=5))
def test_any_json_list_is_exactly_its_values(values: list[str]) -> None:
    node = parse_filter(
        "Microsoft.Dynamics.CRM.In(PropertyName=@p,PropertyValues=@v)",
        "contact",
        TABLES,
        {"@p": "'emailaddress1'", "@v": json.dumps(values)},
    )

    for value in values:
        assert matches(node, {**ROW, "emailaddress1": value}, related)
    assert matches(node, ROW, related) is (
        ROW["emailaddress1"].casefold() in {v.casefold() for v in values}
    )


FILTER_ALPHABET = st.sampled_from(
    [
        *"'\"()[],/:=@%_ -.#$\\",
        "eq",
        "ne",
        "and",
        "or",
        "not",
        "lastname",
        "statecode",
        "0",
        "null",
        "true",
        "any",
        "p",
        GIULIA,
        "2026-11-20T09:30:00Z",
        "2026-11-20",
        "contains",
        "Microsoft.Dynamics.CRM.In",
        "PropertyName",
        "PropertyValues",
        "email_activity_parties",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(FILTER_ALPHABET, max_size=14).map("".join))
def test_no_input_crashes_the_parser(text: str) -> None:
    try:
        node = parse_filter(text, "email", TABLES, {"@p": "'subject'", "@v": "[1,"})
    except ODataError as error:
        assert error.status == 400 and error.message
    else:
        matches(node, {"activityid": GIULIA, "subject": "x"}, related)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_no_text_crashes_the_parser(text: str) -> None:
    with contextlib.suppress(ODataError):
        parse_filter(text, "contact", TABLES)


OPTION_ALPHABET = st.sampled_from(
    [
        *"()';,=$ ",
        "$select",
        "$filter",
        "$orderby",
        "$top",
        "$expand",
        "desc",
        "name",
        "1",
        "statecode eq 0",
        "contact_customer_accounts",
        "primarycontactid",
        "fullname",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["$select", "$orderby", "$top", "$expand"]),
    st.lists(OPTION_ALPHABET, max_size=12).map("".join),
)
def test_no_query_option_crashes_the_parser(option: str, text: str) -> None:
    with contextlib.suppress(ODataError):
        parse_query("account", {option: text}, TABLES)


# -- $select, $orderby, $top, $expand ----------------------------------------------------------


def test_query_options_with_nested_expand() -> None:
    query = parse_query(
        "account",
        {
            "$select": "accountid,name",
            "$filter": "statecode eq 0",
            "$orderby": "name desc,createdon",
            "$top": "5",
            "$expand": "opportunity_customer_accounts($select=name;$filter=statecode eq 0 and"
            " contains(name,'a;b,(c)');$orderby=estimatedclosedate asc;$top=3),"
            "contact_customer_accounts($select=fullname;$expand=parentcustomerid_account("
            "$select=name)),primarycontactid",
        },
        TABLES,
    )

    assert query.select == ("accountid", "name")
    assert query.orderby == (OrderKey("name", True), OrderKey("createdon", False))
    assert query.top == 5
    deals, contacts, primary = query.expand
    assert (deals.navigation, deals.collection, deals.query.top) == (
        "opportunity_customer_accounts",
        True,
        3,
    )
    assert deals.query.orderby == (OrderKey("estimatedclosedate"),)
    assert contacts.query.expand[0].navigation == "parentcustomerid_account"
    assert (primary.target, primary.collection, primary.query.select) == ("contact", False, None)
    assert query.expand_count() == 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"$select": "fullname,nickname"}, "Could not find a property named 'nickname'"),
        ({"$orderby": "nickname desc"}, "Could not find a property named 'nickname'"),
        ({"$orderby": "fullname sideways"}, "Syntax error"),
        ({"$top": "-1"}, "Invalid value '-1' for $top query option found."),
        ({"$top": "ten"}, "Invalid value 'ten' for $top query option found."),
        ({"$expand": "nickname"}, "Could not find a property named 'nickname'"),
        (
            {"$expand": "fullname"},
            "Property 'fullname' on type 'Microsoft.Dynamics.CRM.contact' is not a navigation",
        ),
        ({"$expand": "parentcustomerid_account($top=1)"}, "single-valued"),
        ({"$expand": "account_primary_contact($top=1;$expand=primarycontactid)"}, "nested $expand"),
        (
            {"$expand": "account_primary_contact($orderby=name;$expand=primarycontactid)"},
            "nested $expand",
        ),
        ({"$expand": "account_primary_contact($search=x)"}, "'$search' is not supported"),
    ],
)
def test_bad_query_options_are_refused(options: dict[str, str], message: str) -> None:
    with pytest.raises(ODataError) as caught:
        parse_query("contact", options, TABLES)

    assert message in caught.value.message


def test_at_most_fifteen_expands() -> None:
    def chain(depth: int) -> str:
        # contact -> account -> contact -> ... through single-valued navigations
        navs = ["parentcustomerid_account", "primarycontactid"]
        text = ""
        for level in reversed(range(depth)):
            nav = navs[level % 2]
            text = f"{nav}($expand={text})" if text else nav
        return text

    parse_query("contact", {"$expand": chain(MAX_EXPANDS)}, TABLES)
    with pytest.raises(ODataError):
        parse_query("contact", {"$expand": chain(MAX_EXPANDS + 1)}, TABLES)


def test_sort_rows_by_several_keys_nulls_first() -> None:
    rows = [
        {"lastname": "b", "firstname": "x"},
        {"lastname": None, "firstname": "y"},
        {"lastname": "A", "firstname": "z"},
        {"lastname": "b", "firstname": "w"},
    ]

    ordered = sort_rows(
        rows, [OrderKey("lastname"), OrderKey("firstname", True)], "contact", TABLES
    )

    assert [r["firstname"] for r in ordered] == ["y", "z", "x", "w"]
