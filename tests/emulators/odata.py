"""OData v4 query options as Dataverse reads them: parsed, checked against a model, evaluated.

Features
--------
- ``$filter`` → an AST (`parse_filter`) that `matches` evaluates against a row dict:
  ``eq ne gt ge lt le``, ``and or not``, parentheses; literals: single-quoted strings (``''`` is
  a quote), numbers, ``true false null``, unquoted GUIDs, unquoted ISO date-times
  (``2026-11-20T09:30:00Z``) and dates; ``contains``/``startswith``/``endswith`` with Dataverse's
  wildcards (``%`` any run, ``_`` one character, ``[abc]``/``[^abc]`` classes, ``[%]`` a literal
  ``%``); ``Microsoft.Dynamics.CRM.In``/``NotIn(PropertyName=..., PropertyValues=[...])``;
  lambdas ``nav/any(x: x/prop eq ...)`` and ``all`` over collection navigations (rows come from a
  ``related`` callback); paths through single-valued navigations (``primarycontactid/fullname``);
  parameter aliases (``@p1``, from the query string, usable anywhere a literal is and any number
  of times; an alias not given is null, as OData says).
- String comparison is case-insensitive, like Dataverse on its default collation.
- Types are checked as Dataverse's OData library does: a quoted GUID compared with a GUID column,
  or a number with a string column, is refused with its "incompatible types" message.
- ``$select``, ``$orderby`` (several keys, ``asc``/``desc``), ``$top``, and ``$expand`` with
  nested ``$select;$filter;$orderby;$top;$expand`` (`parse_query`), with Dataverse's limits: at
  most 15 expands; ``$filter``/``$orderby``/``$top`` only on collection-valued expands, and
  ``$orderby``/``$top`` not together with a nested ``$expand`` there.
- Errors raise `ODataError` with Dataverse's status, code and message ("Syntax error at position
  N in '...'.", "There is an unterminated literal at position N in '...'.", "Could not find a
  property named 'x' on type 'Microsoft.Dynamics.CRM.contact'."). Malformed input never escapes
  as any other exception. Positions are 0-based, at the end of the offending token.

The model (`Model`) says which properties and navigations each entity has and their Edm types;
the emulator's table definitions implement it. The words of a filter are read by `odata_syntax`,
its nodes live in `odata_nodes`; this module parses and holds the query options.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .odata_nodes import (
    OPERATOR_KINDS,
    OPERATORS,
    Comparison,
    InValues,
    Junction,
    Lambda,
    Literal,
    Member,
    Negation,
    Node,
    Related,
    Row,
    Scope,
    TextMatch,
    common_type,
    comparable,
    like_pattern,
)
from .odata_syntax import NAMESPACE, Lexer, ODataError, Token, property_error

__all__ = [
    "MAX_EXPANDS",
    "NAMESPACE",
    "Comparison",
    "Expand",
    "InValues",
    "Junction",
    "Lambda",
    "Literal",
    "Member",
    "Model",
    "Navigation",
    "Node",
    "ODataError",
    "OrderKey",
    "Query",
    "comparable",
    "matches",
    "parse_filter",
    "parse_query",
    "property_error",
    "sort_rows",
]

MAX_EXPANDS = 15
RowT = TypeVar("RowT", bound=Row)


class Navigation(Protocol):
    @property
    def target(self) -> str: ...
    @property
    def collection(self) -> bool: ...


class Model(Protocol):
    """What the parser needs to know about the tables."""

    def property_type(self, entity: str, name: str) -> str | None:
        """Return the Edm type of a column (``Edm.String``...), None if there is no such column."""
        ...

    def navigation(self, entity: str, name: str) -> Navigation | None:
        """Return the navigation property ``name`` of ``entity``, if it has one."""
        ...


# -- parsing ------------------------------------------------------------------------------------

_COMPARISONS = frozenset(OPERATORS)
_TEXT_FUNCTIONS = frozenset({"contains", "startswith", "endswith"})
_IN_FUNCTIONS = {f"{NAMESPACE}.In": False, f"{NAMESPACE}.NotIn": True}


class _FilterParser:
    """Recursive descent over the tokens: or > and > not > comparison > primary."""

    def __init__(
        self, text: str, entity: str, model: Model, aliases: Mapping[str, str] | None
    ) -> None:
        self.lexer = Lexer(text)
        self.tokens = self.lexer.tokens()
        self.position = 0
        self.entity, self.model = entity, model
        self.aliases = aliases or {}
        self.variables: dict[str, str] = {}  # lambda variable -> its entity

    # token helpers

    @property
    def token(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "end":
            self.position += 1
        return token

    def expect(self, kind: str) -> Token:
        if self.token.kind != kind:
            raise self.lexer.syntax_error(self.token.end)
        return self.advance()

    def at_word(self, *words: str) -> bool:
        return self.token.kind == "name" and self.token.text in words

    # grammar

    def parse(self) -> Node:
        node = self.disjunction()
        if self.token.kind != "end":
            raise self.lexer.syntax_error(self.token.end)
        if node.type != "Edm.Boolean":
            raise ODataError("The $filter expression must evaluate to a single boolean value.")
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at_word("or"):
            self.advance()
            node = _junction("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.at_word("and"):
            self.advance()
            node = _junction("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.at_word("not"):
            self.advance()
            operand = self.negation()
            if operand.type != "Edm.Boolean":
                raise ODataError(
                    "The operand for a unary not operator must be of type Edm.Boolean."
                )
            return Negation(operand)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.primary()
        if self.token.kind == "name" and self.token.text in _COMPARISONS:
            operator = self.advance().text
            right = self.primary()
            if common_type(left.type, right.type) is None and None not in (left.type, right.type):
                raise _incompatible(left.type, right.type, operator)
            if left.type is right.type is None and operator not in ("eq", "ne"):
                raise _incompatible(left.type, right.type, operator)
            return Comparison(operator, left, right)
        return left

    def primary(self) -> Node:
        token = self.token
        if token.kind == "(":
            self.advance()
            node = self.disjunction()
            self.expect(")")
            return node
        if token.kind == "literal":
            self.advance()
            return Literal(token.value, token.type)
        if token.kind == "alias":
            self.advance()
            return self.alias(token.text)
        if token.kind == "name":
            if self.tokens[self.position + 1].kind == "(":
                return self.call()
            return self.member()
        raise self.lexer.syntax_error(token.end)

    def alias(self, name: str) -> Literal:
        """Return the literal a parameter alias stands for (null when it is not given)."""
        text = self.aliases.get(name)
        if text is None:
            return Literal(None, None)
        tokens = Lexer(text).tokens()
        if len(tokens) != 2 or tokens[0].kind != "literal":
            raise Lexer(text).syntax_error(tokens[0].end)
        return Literal(tokens[0].value, tokens[0].type)

    def call(self) -> Node:
        name = self.advance().text
        self.expect("(")
        if name in _IN_FUNCTIONS:
            return self.in_values(name)
        if name not in _TEXT_FUNCTIONS:
            raise ODataError(
                f"An unknown function with name '{name}' was found. This may also be a function"
                " import or a key lookup on a navigation property, which is not allowed."
            )
        subject = self.disjunction()
        self.expect(",")
        pattern = self.disjunction()
        self.expect(")")
        if subject.type != "Edm.String" or pattern.type != "Edm.String":
            raise ODataError(
                f"No function signature for the function with name '{name}' matches the"
                f" specified arguments. The function signatures considered are: {name}(Edm.String"
                " Nullable=true, Edm.String Nullable=true)."
            )
        if not isinstance(pattern, Literal):
            raise ODataError(f"The second argument of '{name}' must be a string literal.")
        return TextMatch(name, subject, like_pattern(name, pattern.value))

    def in_values(self, name: str) -> Node:
        """Parse ``In(PropertyName=..., PropertyValues=...)`` after its opening parenthesis."""
        arguments: dict[str, Literal] = {}
        while True:
            parameter = self.expect("name").text
            self.expect("=")
            arguments[parameter] = (
                self.alias(self.advance().text) if self.token.kind == "alias" else self.literal()
            )
            if self.token.kind == ")":
                self.advance()
                break
            self.expect(",")
        short = name.rsplit(".", 1)[1]
        if set(arguments) != {"PropertyName", "PropertyValues"}:
            raise ODataError(
                f"The parameters of function '{name}' must be PropertyName and PropertyValues."
            )
        column, values = arguments["PropertyName"].value, arguments["PropertyValues"].value
        if not isinstance(column, str):
            raise ODataError(f"{short}: the PropertyName parameter must be a string.")
        if not isinstance(values, list):
            raise ODataError(f"{short}: the PropertyValues parameter must be a JSON array.")
        edm = self.model.property_type(self.entity, column)
        if edm is None:
            raise property_error(column, self.entity)
        member = Member(None, (), column, edm)
        normalized = frozenset(comparable(value, edm) for value in values) - {None}
        return InValues(member, normalized, _IN_FUNCTIONS[name])

    def literal(self) -> Literal:
        token = self.token
        if token.kind != "literal":
            raise self.lexer.syntax_error(token.end)
        self.advance()
        return Literal(token.value, token.type)

    def member(self) -> Node:
        """Parse a property path, ending in a column or in ``collection/any(...)``."""
        first = self.advance()
        variable: str | None = None
        entity = self.entity
        if first.text in self.variables:
            variable, entity = first.text, self.variables[first.text]
            self.expect("/")
            segment = self.expect("name")
        else:
            segment = first
        hops: list[tuple[str, str]] = []
        while True:
            edm = self.model.property_type(entity, segment.text)
            if edm is not None:
                return Member(variable, tuple(hops), segment.text, edm)
            navigation = self.model.navigation(entity, segment.text)
            if navigation is None:
                raise property_error(segment.text, entity)
            self.expect("/")
            if navigation.collection:
                return self.lambda_(
                    Member(variable, tuple(hops), segment.text, None), entity, navigation.target
                )
            hops.append((entity, segment.text))
            entity = navigation.target
            segment = self.expect("name")

    def lambda_(self, source: Member, entity: str, target: str) -> Node:
        quantifier = self.expect("name")
        if quantifier.text not in ("any", "all"):
            raise ODataError(
                f"The parent value for a property access of a property '{quantifier.text}' is not"
                " a single value. Property access can only be applied to a single value."
            )
        self.expect("(")
        if self.token.kind == ")" and quantifier.text == "any":
            self.advance()
            return Lambda("any", source, entity, None, None)
        variable = self.expect("name").text
        self.expect(":")
        if variable in self.variables:
            raise ODataError(f"The range variable '{variable}' has already been declared.")
        self.variables[variable] = target
        try:
            predicate = self.disjunction()
        finally:
            del self.variables[variable]
        self.expect(")")
        if predicate.type != "Edm.Boolean":
            raise ODataError("The expression of a lambda must evaluate to a boolean value.")
        return Lambda(quantifier.text, source, entity, variable, predicate)


def _junction(operator: str, left: Node, right: Node) -> Node:
    for side in (left, right):
        if side.type != "Edm.Boolean":
            raise _incompatible(left.type, right.type, operator)
    return Junction(operator, left, right)


def _incompatible(left: str | None, right: str | None, operator: str) -> ODataError:
    return ODataError(
        "A binary operator with incompatible types was detected. Found operand types"
        f" '{left}' and '{right}' for operator kind '{OPERATOR_KINDS[operator]}'."
    )


def parse_filter(
    text: str, entity: str, model: Model, aliases: Mapping[str, str] | None = None
) -> Node:
    """Parse a ``$filter`` on ``entity``; ``aliases`` maps ``@p1`` to its literal's text."""
    return _FilterParser(text, entity, model, aliases).parse()


def matches(node: Node, row: Row, related: Related) -> bool:
    """Return whether ``row`` passes the filter ``node``."""
    return bool(node.evaluate(Scope(row, related, {})))


# -- query options ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderKey:
    name: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Expand:
    """One ``$expand`` item: the navigation and the options inside its parentheses."""

    navigation: str
    target: str
    collection: bool
    query: Query


@dataclass(frozen=True, slots=True)
class Query:
    """The query options of one GET (or of one expand)."""

    entity: str
    select: tuple[str, ...] | None = None
    filter: Node | None = None
    orderby: tuple[OrderKey, ...] = ()
    top: int | None = None
    expand: tuple[Expand, ...] = ()

    def expand_count(self) -> int:
        """Return how many expands the query has, nested ones included."""
        return sum(1 + item.query.expand_count() for item in self.expand)


_EXPAND_OPTIONS = frozenset({"$select", "$filter", "$orderby", "$top", "$expand"})


def parse_query(
    entity: str,
    options: Mapping[str, str],
    model: Model,
    aliases: Mapping[str, str] | None = None,
) -> Query:
    """Parse ``$select``, ``$filter``, ``$orderby``, ``$top`` and ``$expand`` of ``entity``."""
    query = _query(entity, options, model, aliases or {})
    if query.expand_count() > MAX_EXPANDS:
        raise ODataError(
            f"The query has {query.expand_count()} $expand options; at most {MAX_EXPANDS} are"
            " allowed."
        )
    return query


def _query(
    entity: str, options: Mapping[str, str], model: Model, aliases: Mapping[str, str]
) -> Query:
    filter_text = options.get("$filter")
    return Query(
        entity=entity,
        select=parse_select(options["$select"], entity, model) if "$select" in options else None,
        filter=parse_filter(filter_text, entity, model, aliases) if filter_text else None,
        orderby=parse_orderby(options.get("$orderby", ""), entity, model),
        top=parse_top(options["$top"]) if "$top" in options else None,
        expand=tuple(
            _expand_item(item, entity, model, aliases)
            for item in split_top_level(options.get("$expand", ""), ",")
        ),
    )


def parse_select(text: str, entity: str, model: Model) -> tuple[str, ...]:
    """Return the columns of a ``$select``; every one must be a column of ``entity``."""
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        if not name:
            raise Lexer(text).syntax_error(len(text))
        if name != "*" and model.property_type(entity, name) is None:
            raise property_error(name, entity)
    return names


def parse_orderby(text: str, entity: str, model: Model) -> tuple[OrderKey, ...]:
    """Return the sort keys of an ``$orderby`` (``name [asc|desc], ...``)."""
    keys = []
    for item in split_top_level(text, ","):
        words = item.split()
        if not 1 <= len(words) <= 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise Lexer(text).syntax_error(text.find(item) + len(item))
        if model.property_type(entity, words[0]) is None:
            raise property_error(words[0], entity)
        keys.append(OrderKey(words[0], words[-1] == "desc"))
    return tuple(keys)


def parse_top(text: str) -> int:
    """Return the value of ``$top``: a non-negative integer."""
    if not text.strip().isdigit():
        raise ODataError(
            f"Invalid value '{text}' for $top query option found. The $top query option"
            " requires a non-negative integer value."
        )
    return int(text)


def _expand_item(text: str, entity: str, model: Model, aliases: Mapping[str, str]) -> Expand:
    found = re.fullmatch(r"\s*([^\W\d]\w*)\s*(?:\((.*)\))?\s*", text, re.DOTALL)
    if found is None:
        raise Lexer(text).syntax_error(len(text))
    name, inner = found.group(1), found.group(2) or ""
    navigation = model.navigation(entity, name)
    if navigation is None:
        if model.property_type(entity, name) is not None:
            raise ODataError(
                f"Property '{name}' on type '{NAMESPACE}.{entity}' is not a navigation property"
                " or complex property. Only navigation properties can be expanded."
            )
        raise property_error(name, entity)
    options: dict[str, str] = {}
    for option in split_top_level(inner, ";"):
        key, equals, value = option.partition("=")
        key = key.strip()
        if not equals or key not in _EXPAND_OPTIONS:
            raise ODataError(f"The query option '{key}' is not supported inside $expand.")
        options[key] = value.strip()
    if not navigation.collection and {"$filter", "$orderby", "$top"} & set(options):
        raise ODataError(
            f"$filter, $orderby and $top are supported only in the $expand of a collection-valued"
            f" navigation property; '{name}' is single-valued."
        )
    if navigation.collection and "$expand" in options and {"$orderby", "$top"} & set(options):
        raise ODataError(
            f"$orderby and $top are not supported with a nested $expand in the $expand of the"
            f" collection-valued navigation property '{name}'."
        )
    query = _query(navigation.target, options, model, aliases)
    return Expand(name, navigation.target, navigation.collection, query)


def split_top_level(text: str, separator: str) -> list[str]:
    """Split ``text`` at ``separator`` outside parentheses, quoted strings and JSON arrays."""
    parts, depth, quote, start = [], 0, "", 0
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


def sort_rows(
    rows: Iterable[RowT], keys: Sequence[OrderKey], entity: str, model: Model
) -> list[RowT]:
    """Return ``rows`` ordered by ``keys`` (nulls first ascending, last descending)."""
    ordered = list(rows)
    for key in reversed(keys):
        edm = model.property_type(entity, key.name)

        def sort_key(row: Row, name: str = key.name, edm: str | None = edm) -> tuple[Any, ...]:
            value = comparable(row.get(name), edm)
            return (0,) if value is None else (1, value)

        ordered.sort(key=sort_key, reverse=key.descending)
    return ordered
