"""A parsed ``$filter``: one node class per construct, each evaluating itself against a row.

Features
--------
- `Literal`, `Member` (a column, maybe through single-valued navigations or a lambda variable),
  `Comparison`, `Junction` (``and``/``or``), `Negation`, `TextMatch` (``contains``,
  ``startswith``, ``endswith`` compiled to a regex), `InValues` (``In``/``NotIn``) and `Lambda`
  (``any``/``all``); every node knows its Edm ``type``, which the parser checks.
- Values are compared as Dataverse compares them (`comparable`): strings case-insensitively,
  GUIDs case-insensitively, numbers as decimals, date-times as instants (a date is its midnight
  UTC); null equals only null and never orders.
- `like_pattern` turns Dataverse's wildcards (``%``, ``_``, ``[abc]``, ``[^abc]``, ``[%]``) into
  a regex.
- Related rows (navigations, lambdas) come from a ``related(entity, row, navigation)`` callback,
  so the nodes know nothing of the store.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .odata_syntax import parse_datetime

Row = Mapping[str, Any]
#: (entity of the row, the row, navigation name) -> the related rows.
Related = Callable[[str, Row, str], Sequence[Row]]


@dataclass(frozen=True, slots=True)
class Scope:
    """What a filter is evaluated with: the rows bound to lambda variables and the callback."""

    row: Row
    related: Related
    variables: Mapping[str, Row]

    def bound(self, variable: str | None) -> Row:
        return self.row if variable is None else self.variables[variable]


class Node:
    """A ``$filter`` expression; ``type`` is its Edm type (None for the null literal)."""

    type: str | None

    def evaluate(self, scope: Scope) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.evaluate")


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any
    type: str | None

    def evaluate(self, scope: Scope) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class Member(Node):
    """A column of the row (or of a lambda variable's row), maybe through single-valued navs."""

    variable: str | None
    hops: tuple[tuple[str, str], ...]  # (entity, navigation) to follow first
    name: str
    type: str | None

    def evaluate(self, scope: Scope) -> Any:
        row: Row | None = scope.bound(self.variable)
        for entity, navigation in self.hops:
            related = scope.related(entity, row, navigation) if row is not None else ()
            row = related[0] if related else None
        return None if row is None else row.get(self.name)


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    operator: str
    left: Node
    right: Node
    type: str | None = "Edm.Boolean"

    def evaluate(self, scope: Scope) -> bool:
        common = common_type(self.left.type, self.right.type)
        left = comparable(self.left.evaluate(scope), common)
        right = comparable(self.right.evaluate(scope), common)
        if left is None or right is None:
            same = left is None and right is None
            return same if self.operator == "eq" else not same if self.operator == "ne" else False
        return bool(OPERATORS[self.operator](left, right))


@dataclass(frozen=True, slots=True)
class Junction(Node):
    operator: str  # and, or
    left: Node
    right: Node
    type: str | None = "Edm.Boolean"

    def evaluate(self, scope: Scope) -> bool:
        if self.operator == "and":
            return bool(self.left.evaluate(scope)) and bool(self.right.evaluate(scope))
        return bool(self.left.evaluate(scope)) or bool(self.right.evaluate(scope))


@dataclass(frozen=True, slots=True)
class Negation(Node):
    operand: Node
    type: str | None = "Edm.Boolean"

    def evaluate(self, scope: Scope) -> bool:
        return not self.operand.evaluate(scope)


@dataclass(frozen=True, slots=True)
class TextMatch(Node):
    """``contains``/``startswith``/``endswith`` with the pattern compiled to a regex."""

    function: str
    subject: Node
    pattern: re.Pattern[str]
    type: str | None = "Edm.Boolean"

    def evaluate(self, scope: Scope) -> bool:
        value = self.subject.evaluate(scope)
        return value is not None and self.pattern.fullmatch(str(value)) is not None


@dataclass(frozen=True, slots=True)
class InValues(Node):
    """``Microsoft.Dynamics.CRM.In`` (or ``NotIn``): the column's value is one of a list."""

    member: Member
    values: frozenset[Any]
    negated: bool = False
    type: str | None = "Edm.Boolean"

    def evaluate(self, scope: Scope) -> bool:
        value = comparable(self.member.evaluate(scope), self.member.type)
        return (value is not None and value in self.values) != self.negated


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    """``nav/any(x: ...)`` or ``nav/all(x: ...)`` over a collection-valued navigation."""

    quantifier: str  # any, all
    source: Member  # its ``name`` is the collection navigation, reached through ``hops``
    entity: str  # the entity holding that navigation
    variable: str | None
    predicate: Node | None
    type: str | None = "Edm.Boolean"

    def evaluate(self, scope: Scope) -> bool:
        row: Row | None = scope.bound(self.source.variable)
        for entity, navigation in self.source.hops:
            related = scope.related(entity, row, navigation) if row is not None else ()
            row = related[0] if related else None
        rows = scope.related(self.entity, row, self.source.name) if row is not None else ()
        if self.predicate is None:
            return bool(rows) if self.quantifier == "any" else True

        def holds(item: Row) -> bool:
            assert self.predicate is not None and self.variable is not None
            inner = Scope(scope.row, scope.related, {**scope.variables, self.variable: item})
            return bool(self.predicate.evaluate(inner))

        return any(map(holds, rows)) if self.quantifier == "any" else all(map(holds, rows))


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
OPERATOR_KINDS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
    "and": "And",
    "or": "Or",
}
_NUMERIC = frozenset({"Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double"})
_TEMPORAL = frozenset({"Edm.DateTimeOffset", "Edm.Date"})


def common_type(left: str | None, right: str | None) -> str | None:
    """Return the type both sides of a comparison are converted to, None if incompatible."""
    if left is None or right is None or left == right:
        return left or right
    if left in _NUMERIC and right in _NUMERIC:
        return "Edm.Decimal"
    if left in _TEMPORAL and right in _TEMPORAL:
        return "Edm.DateTimeOffset"
    return None


def comparable(value: Any, edm: str | None) -> Any:
    """Return ``value`` as Dataverse compares it for a column of type ``edm``."""
    if value is None:
        return None
    try:
        if edm == "Edm.String":
            return str(value).casefold()
        if edm == "Edm.Guid":
            return str(value).lower()
        if edm in _NUMERIC and not isinstance(value, bool):
            return Decimal(str(value))
        if edm == "Edm.DateTimeOffset":
            if isinstance(value, str):
                value = parse_datetime(value) if "T" in value else dt.date.fromisoformat(value)
            if isinstance(value, dt.datetime):
                return value
            if isinstance(value, dt.date):
                return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        if edm == "Edm.Date":
            if isinstance(value, dt.datetime):
                return value.date()
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except (ValueError, InvalidOperation):
        return None  # a value of the wrong shape matches nothing
    return value


def like_pattern(function: str, pattern: str) -> re.Pattern[str]:
    """Compile a Dataverse (SQL LIKE) pattern for ``contains``/``startswith``/``endswith``."""
    parts, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        close = pattern.find("]", i + 2) if char == "[" else -1
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        elif close > 0:
            body = pattern[i + 1 : close]
            negate = body.startswith("^") and len(body) > 1
            body = body[1:] if negate else body
            members = "".join(
                c if c == "-" and 0 < k < len(body) - 1 else re.escape(c)
                for k, c in enumerate(body)
            )
            parts.append(f"[{'^' if negate else ''}{members}]")
            i = close
        else:
            parts.append(re.escape(char))
        i += 1
    core = "".join(parts)
    regex = {"contains": f".*{core}.*", "startswith": f"{core}.*", "endswith": f".*{core}"}
    return re.compile(regex[function], re.IGNORECASE | re.DOTALL)
