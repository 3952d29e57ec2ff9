"""The SOQL subset the Salesforce emulator answers: parsed, checked against the objects, run.

Features
--------
- ``SELECT`` a list of fields, parent relationship fields (``Account.Name``, any depth up to
  five) or ``COUNT()``; ``FROM`` one object; ``WHERE`` with ``= != < <= > >=``, ``IN (...)``,
  ``NOT IN (...)``, ``LIKE`` (``%`` any run, ``_`` one character, ``\\%``/``\\_`` themselves),
  ``AND``, ``OR``, ``NOT`` and parentheses (mixing ``AND`` and ``OR`` needs parentheses, as in
  Salesforce); ``ORDER BY`` several fields, ``ASC``/``DESC``, ``NULLS FIRST``/``LAST`` (nulls
  first by default); ``LIMIT``; ``OFFSET`` (at most 2,000).
- Semi-joins and anti-joins: ``Id IN (SELECT AccountId FROM AccountContactRelation WHERE ...)``
  and ``NOT IN``, at most two per query, not nested, not under ``OR`` or ``NOT``, selecting one
  id or reference field of another object, on an id or reference field; as Salesforce allows.
- Literals (see `soql_syntax`): strings with Salesforce's escapes, numbers, ``true``/``false``/
  ``null``, unquoted date-times and dates. Whatever `simple_salesforce.format_soql` writes parses.
- Checked as Salesforce checks: an unknown object is INVALID_TYPE ("sObject type 'Foo' is not
  supported."), an unknown field or relationship INVALID_FIELD ("No such column 'Foo' on entity
  'Contact'. ..."), a literal of the wrong type INVALID_FIELD ("value of filter criterion for
  field 'IsClosed' must be of type boolean and should not be enclosed in quotes"), LIKE or an
  ordering operator on a field that has none INVALID_QUERY_FILTER_OPERATOR, anything else
  MALFORMED_QUERY ("unexpected token: 'FORM'"). Every refusal is a `SoqlError`; no input makes the
  parser raise anything else.
- Names (keywords, objects, fields) are case-insensitive and come back in their canonical
  spelling; string comparison is case-insensitive (see `soql_eval`).

Not supported (refused as MALFORMED_QUERY): aggregates other than ``COUNT()``, ``GROUP BY``,
child relationship subqueries in the select list, ``TYPEOF``, ``WITH``, ``FOR``, ``USING
SCOPE``, date literals such as ``TODAY``, ``INCLUDES``/``EXCLUDES``, aliases, polymorphic
relationship fields (``What.Name``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .salesforce_objects import CATALOG, NUMBER_TYPES, TYPE_NAMES, Catalog, Field, SObject
from .soql_syntax import (
    INVALID_FIELD,
    INVALID_OPERATOR,
    INVALID_TYPE,
    MALFORMED_QUERY,
    Lexer,
    SoqlError,
    Token,
    located,
)

__all__ = [
    "INVALID_FIELD",
    "INVALID_TYPE",
    "MALFORMED_QUERY",
    "Comparison",
    "Condition",
    "FieldPath",
    "InList",
    "Junction",
    "Like",
    "Negation",
    "OrderKey",
    "Query",
    "SemiJoin",
    "SoqlError",
    "parse_soql",
]

MAX_SEMI_JOINS = 2
MAX_OFFSET = 2000
MAX_RELATIONSHIP_DEPTH = 5
MAX_QUERY_LENGTH = 100_000
MAX_NESTING = 100  # parentheses and NOTs; deeper is QUERY_TOO_COMPLICATED
_KEYWORDS = """
    and asc desc excludes first from group having in includes last like limit not null nulls
    or order by offset select where with true false using for update typeof
"""
#: Words that cannot name a field or an object.
_RESERVED = frozenset(_KEYWORDS.split())


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A field of the queried object, maybe through parent relationships (``Account.Name``)."""

    relationships: tuple[str, ...]  # canonical relationship names, outermost first
    references: tuple[str, ...]  # the reference field behind each relationship
    objects: tuple[str, ...]  # the object each step reads: the queried one, then the parents
    field: Field

    @property
    def text(self) -> str:
        return ".".join((*self.relationships, self.field.name))


@dataclass(frozen=True, slots=True)
class Comparison:
    path: FieldPath
    operator: str  # = != < <= > >=
    value: Any  # str, float, bool, None, datetime or date


@dataclass(frozen=True, slots=True)
class InList:
    path: FieldPath
    values: tuple[Any, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class SemiJoin:
    path: FieldPath
    query: Query
    negated: bool


@dataclass(frozen=True, slots=True)
class Like:
    path: FieldPath
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Negation:
    operand: Condition


@dataclass(frozen=True, slots=True)
class Junction:
    operator: str  # and, or
    operands: tuple[Condition, ...]


Condition = Comparison | InList | SemiJoin | Like | Negation | Junction


@dataclass(frozen=True, slots=True)
class OrderKey:
    path: FieldPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: the object, what it selects, and how rows are filtered and ordered."""

    sobject: str
    fields: tuple[FieldPath, ...]  # empty for COUNT()
    count: bool
    where: Condition | None
    order: tuple[OrderKey, ...] = ()
    limit: int | None = None
    offset: int = 0


def parse_soql(text: str, catalog: Catalog = CATALOG) -> Query:
    """Parse and check ``text``; raise `SoqlError` as Salesforce would refuse it."""
    if not isinstance(text, str) or not text.strip():
        raise SoqlError(MALFORMED_QUERY, "unexpected token: '<EOF>'")
    if len(text) > MAX_QUERY_LENGTH:
        raise SoqlError(
            MALFORMED_QUERY,
            f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH:,} characters.",
        )
    parser = _Parser(text, catalog)
    query = parser.query(subquery=False)
    parser.expect_end()
    if query.where is not None:
        _check_semi_joins(query.where, parser.semi_join_count)
    return query


def no_such_column(name: str, sobject: str) -> str:
    """Return Salesforce's INVALID_FIELD reason for a field the object does not have."""
    return (
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom"
        " field, be sure to append the '__c' after the custom field name. Please reference your"
        " WSDL or the describe call for the appropriate names."
    )


def unsupported_type(name: str) -> str:
    """Return Salesforce's INVALID_TYPE reason for an object the org does not have."""
    return (
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object,"
        " be sure to append the '__c' after the entity name. Please reference your WSDL or the"
        " describe call for the appropriate names."
    )


class _Parser:
    """Recursive descent over the tokens, resolving names against the catalog as it goes."""

    def __init__(self, text: str, catalog: Catalog) -> None:
        self.text, self.catalog = text, catalog
        self.tokens = Lexer(text).tokens()
        self.position = 0
        self.semi_join_count = 0
        self.in_subquery = False
        self.depth = 0

    # -- tokens -------------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "end":
            self.position += 1
        return token

    def at(self, *keywords: str) -> bool:
        return self.token.kind == "name" and self.token.text.lower() in keywords

    def expect(self, keyword: str) -> Token:
        if not self.at(keyword):
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.token.kind != "punct" or self.token.text != char:
            raise self.unexpected()
        return self.advance()

    def at_punct(self, char: str) -> bool:
        return self.token.kind == "punct" and self.token.text == char

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.token
        return located(self.text, token.start, f"unexpected token: '{token.text}'")

    def expect_end(self) -> None:
        if self.token.kind != "end":
            raise self.unexpected()

    # -- the query ----------------------------------------------------------------------------

    def query(self, *, subquery: bool) -> Query:
        self.expect("select")
        items, count = self.select_list()
        self.expect("from")
        sobject = self.sobject()
        fields = tuple(self.resolve(sobject, token) for token in items)
        if subquery and (count or len(fields) != 1):
            raise located(
                self.text,
                items[0].start if items else self.token.start,
                "a semi join sub-select must select exactly one field",
            )
        where = None
        if self.at("where"):
            self.advance()
            where = self.condition(sobject)
        if subquery:
            return Query(sobject.name, fields, count, where)
        order = self.order_by(sobject) if self.at("order") else ()
        limit = self.integer("limit") if self.at("limit") else None
        offset = self.integer("offset") if self.at("offset") else 0
        if offset > MAX_OFFSET:
            raise SoqlError(
                "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
            )
        return Query(sobject.name, fields, count, where, order, limit, offset)

    def select_list(self) -> tuple[list[Token], bool]:
        """Return the field tokens of the select list, or ([], True) for ``COUNT()``."""
        if self.at("count") and self.tokens[self.position + 1].text == "(":
            self.advance()
            self.advance()
            if not self.at_punct(")"):
                raise located(
                    self.text,
                    self.token.start,
                    "the emulator's SOQL subset has no aggregate functions but COUNT()",
                )
            self.advance()
            return [], True
        items = [self.field_token()]
        while self.at_punct(","):
            self.advance()
            items.append(self.field_token())
        seen: set[str] = set()
        for item in items:
            if item.text.lower() in seen:
                raise SoqlError(MALFORMED_QUERY, f"duplicate field selected: {item.text}")
            seen.add(item.text.lower())
        return items, False

    def field_token(self) -> Token:
        token = self.token
        if token.kind != "name" or token.text.lower() in _RESERVED:
            raise self.unexpected()
        return self.advance()

    def sobject(self) -> SObject:
        token = self.token
        if token.kind != "name" or token.text.lower() in _RESERVED:
            raise self.unexpected()
        self.advance()
        sobject = self.catalog.get(token.text) if "." not in token.text else None
        if sobject is None:
            raise located(self.text, token.start, unsupported_type(token.text), INVALID_TYPE)
        return sobject

    def resolve(self, sobject: SObject, token: Token) -> FieldPath:
        """Return the field a (dotted) name means on ``sobject``, or raise INVALID_FIELD."""
        parts = token.text.split(".")
        if len(parts) > 1 and parts[0].lower() == sobject.name.lower():
            parts = parts[1:]  # SELECT Contact.Name FROM Contact
        if len(parts) > MAX_RELATIONSHIP_DEPTH + 1:
            raise located(
                self.text,
                token.start,
                "SOQL statements cannot query relationship data more than 5 levels away from"
                " the root entity object.",
                INVALID_FIELD,
            )
        relationships, references, objects, current = [], [], [sobject.name], sobject
        for part in parts[:-1]:
            relationship = current.relationship(part)
            if relationship is None:
                raise located(
                    self.text,
                    token.start,
                    f"Didn't understand relationship '{part}' in field path. If you are"
                    " attempting to use a custom relationship, be sure to append the '__r'"
                    " after the custom relationship name. Please reference your WSDL or the"
                    " describe call for the appropriate names.",
                    INVALID_FIELD,
                )
            relationships.append(relationship.name)
            references.append(relationship.field)
            current = self.catalog[relationship.target]
            objects.append(current.name)
        field = current.field(parts[-1])
        if field is None or not field.selectable:
            raise located(
                self.text, token.start, no_such_column(parts[-1], current.name), INVALID_FIELD
            )
        return FieldPath(tuple(relationships), tuple(references), tuple(objects), field)

    def integer(self, keyword: str) -> int:
        self.expect(keyword)
        token = self.token
        if token.kind != "number" or not re.fullmatch(r"\d+", token.text):
            raise self.unexpected()
        self.advance()
        return int(token.text)

    def order_by(self, sobject: SObject) -> tuple[OrderKey, ...]:
        self.expect("order")
        self.expect("by")
        keys = [self.order_key(sobject)]
        while self.at_punct(","):
            self.advance()
            keys.append(self.order_key(sobject))
        return tuple(keys)

    def order_key(self, sobject: SObject) -> OrderKey:
        token = self.field_token()
        path = self.resolve(sobject, token)
        if not path.field.sortable:
            raise located(
                self.text,
                token.start,
                f"field '{path.field.name}' can not be sorted in a query call",
                INVALID_FIELD,
            )
        descending = False
        if self.at("asc", "desc"):
            descending = self.advance().text.lower() == "desc"
        nulls_first = True
        if self.at("nulls"):
            self.advance()
            if not self.at("first", "last"):
                raise self.unexpected()
            nulls_first = self.advance().text.lower() == "first"
        return OrderKey(path, descending, nulls_first)

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, sobject: SObject) -> Condition:
        """Read ``a AND b AND c`` or ``a OR b OR c``; mixing them needs parentheses."""
        first = self.unary(sobject)
        if not self.at("and", "or"):
            return first
        operator = self.token.text.lower()
        operands = [first]
        while self.at(operator):
            self.advance()
            operands.append(self.unary(sobject))
        if self.at("and", "or"):
            raise self.unexpected()
        return Junction(operator, tuple(operands))

    def unary(self, sobject: SObject) -> Condition:
        if not self.at("not") and not self.at_punct("("):
            return self.simple(sobject)
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise SoqlError(
                "QUERY_TOO_COMPLICATED",
                "Query is either selecting too many fields or the"
                " filter conditions are too complicated.",
            )
        try:
            if self.advance().text == "(":
                node = self.condition(sobject)
                self.expect_punct(")")
                return node
            return Negation(self.unary(sobject))
        finally:
            self.depth -= 1

    def simple(self, sobject: SObject) -> Condition:
        token = self.field_token()
        path = self.resolve(sobject, token)
        if not path.field.filterable:
            raise located(
                self.text,
                token.start,
                f"field '{path.field.name}' can not be filtered in a query call",
                INVALID_FIELD,
            )
        if self.token.kind == "op":
            operator = self.advance().text
            if operator not in ("=", "!=") and path.field.type == "boolean":
                raise self.bad_operator(token, path)
            return Comparison(path, operator, self.value(path))
        if self.at("like"):
            self.advance()
            if not path.field.is_text or path.field.type in ("id", "reference"):
                raise self.bad_operator(token, path)
            pattern = self.token
            if pattern.kind != "string":
                if pattern.kind != "end" and pattern.kind != "punct":
                    raise self.type_error(path, pattern)
                raise self.unexpected()
            self.advance()
            assert pattern.like is not None
            return Like(path, pattern.like)
        negated = False
        if self.at("not"):
            self.advance()
            negated = True
            if not self.at("in"):
                raise self.unexpected()
        if self.at("in"):
            self.advance()
            return self.in_tail(sobject, token, path, negated)
        raise self.unexpected()

    def in_tail(self, sobject: SObject, token: Token, path: FieldPath, negated: bool) -> Condition:
        self.expect_punct("(")
        if self.at("select"):
            return self.semi_join(sobject, token, path, negated)
        values = [self.value(path)]
        while self.at_punct(","):
            self.advance()
            values.append(self.value(path))
        self.expect_punct(")")
        return InList(path, tuple(values), negated)

    def semi_join(self, sobject: SObject, token: Token, path: FieldPath, negated: bool) -> SemiJoin:
        start = self.token
        if self.in_subquery:
            raise located(
                self.text, start.start, "Nesting of semi join sub-selects is not supported"
            )
        self.semi_join_count += 1
        if self.semi_join_count > MAX_SEMI_JOINS:
            raise located(
                self.text,
                start.start,
                f"Maximum of {MAX_SEMI_JOINS} semi join sub-selects are allowed",
            )
        if path.field.type not in ("id", "reference") or path.relationships:
            raise located(
                self.text,
                token.start,
                "The left operand field in the where expression for outer query should be an"
                f" id field, cannot use: '{path.field.name}'",
                INVALID_FIELD,
            )
        self.in_subquery = True
        try:
            inner = self.query(subquery=True)
        finally:
            self.in_subquery = False
        selected = inner.fields[0]
        if selected.field.type not in ("id", "reference") or selected.relationships:
            raise located(
                self.text,
                start.start,
                "The selected field in a semi join sub-select must be an id or a reference"
                f" field, cannot use: '{selected.field.name}'",
                INVALID_FIELD,
            )
        if inner.sobject == sobject.name:
            raise located(
                self.text,
                start.start,
                "The inner and outer selects should not be on the same object type",
                INVALID_TYPE,
            )
        self.expect_punct(")")
        return SemiJoin(path, inner, negated)

    def value(self, path: FieldPath) -> Any:
        """Read one literal and check it against the field's type."""
        token = self.token
        if token.kind == "name" and token.text.lower() in ("true", "false", "null"):
            self.advance()
            word = token.text.lower()
            value: Any = None if word == "null" else word == "true"
            if value is not None and path.field.type != "boolean":
                raise self.type_error(path, token)
            return value
        if token.kind not in ("string", "number", "datetime", "date"):
            raise self.unexpected()
        self.advance()
        expected = _literal_kind(path.field)
        if token.kind != expected:
            raise self.type_error(path, token)
        return token.value

    def type_error(self, path: FieldPath, token: Token) -> SoqlError:
        field = path.field
        quoted = _literal_kind(field) == "string"
        return located(
            self.text,
            token.start,
            f"value of filter criterion for field '{field.name}' must be of type"
            f" {TYPE_NAMES.get(field.type, field.type)} and should"
            f"{'' if quoted else ' not'} be enclosed in quotes",
            INVALID_FIELD,
        )

    def bad_operator(self, token: Token, path: FieldPath) -> SoqlError:
        kind = TYPE_NAMES.get(path.field.type, path.field.type)
        return located(
            self.text, token.start, f"invalid operator on {kind} field", INVALID_OPERATOR
        )


def _literal_kind(field: Field) -> str:
    """Return the kind of token a field's literals are: string, number, datetime, date..."""
    if field.type in NUMBER_TYPES:
        return "number"
    if field.type in ("datetime", "date", "boolean"):
        return field.type
    return "string"


def _check_semi_joins(node: Condition, count: int, under: str | None = None) -> None:
    """Refuse a semi-join under OR or NOT, as Salesforce does."""
    if count == 0:
        return
    if isinstance(node, SemiJoin) and under is not None:
        raise SoqlError(
            MALFORMED_QUERY, f"Semi join sub-selects are not allowed with the '{under}' operator"
        )
    if isinstance(node, Junction):
        for operand in node.operands:
            _check_semi_joins(operand, count, "OR" if node.operator == "or" else under)
    elif isinstance(node, Negation):
        _check_semi_joins(node.operand, count, "NOT")
