"""Run a parsed SOQL query (`soql.Query`) against rows, as Salesforce compares and orders them.

Features
--------
- `run` returns the rows a query selects, ordered, after ``OFFSET`` and ``LIMIT``; `count` the
  number of matches for ``COUNT()``. Semi-joins run their sub-select once per query.
- Values compare as Salesforce compares them (`comparable`): text and ids case-insensitively,
  date-times as instants, dates as dates, numbers as floats. ``= null`` matches only null;
  ``!=`` and ``NOT IN`` match null too; ``< <= > >=`` and LIKE never match null.
- Rows come from a `Source`: every row of an object, one by id, and, when it has an index, the
  rows whose field holds one of some values. `run` asks the source's index first when the
  filter is an ``=``/``IN``/semi-join on a text field (or an AND/OR of them), so a match among
  a million contacts does not scan them all; it still checks every candidate against the whole
  filter.
- `project` renders a row as the REST API does: ``attributes``, the selected fields in order, a
  parent relationship as a nested record (or null).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

from .salesforce_objects import NUMBER_TYPES, TEXT_TYPES
from .soql import (
    Comparison,
    Condition,
    FieldPath,
    InList,
    Junction,
    Like,
    Negation,
    OrderKey,
    Query,
    SemiJoin,
)

Row = Mapping[str, Any]
#: Builds a record's ``attributes.url`` from its type and id.
UrlFor = Callable[[str, str], str]


class Source(Protocol):
    """Where a query's rows come from."""

    def rows(self, sobject: str) -> Iterable[Row]:
        """Return every row of an object, in a stable order."""
        ...

    def get(self, sobject: str, record_id: str) -> Row | None:
        """Return one row by id (any case), if it exists."""
        ...

    def lookup(self, sobject: str, field: str, keys: Iterable[Any]) -> Sequence[Row] | None:
        """Return the rows whose ``field`` `comparable` value is one of ``keys``, in the
        stable order; None when the source keeps no index for that field."""
        ...


def run(query: Query, source: Source) -> list[Row]:
    """Return the rows ``query`` selects, ordered, offset and limited."""
    rows = _Evaluation(query, source).matching()
    rows = sort_rows(rows, query.order, source)
    end = None if query.limit is None else query.offset + query.limit
    return rows[query.offset : end]


def count(query: Query, source: Source) -> int:
    """Return how many rows ``query`` matches (before OFFSET and LIMIT, as COUNT() does)."""
    matched = len(_Evaluation(query, source).matching())
    if query.limit is not None:
        return min(matched, query.limit)
    return matched


def comparable(value: Any, kind: str) -> Any:
    """Return ``value`` of a field of SOAP type ``kind`` as Salesforce compares it."""
    if value is None:
        return None
    if kind in TEXT_TYPES:
        return str(value).casefold()
    if kind == "datetime":
        return value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if kind == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if kind in NUMBER_TYPES:
        return float(value)
    if kind == "boolean":
        return bool(value)
    return value


@lru_cache(maxsize=65536)
def parse_datetime(text: str) -> dt.datetime:
    """Return a stored date-time (``2026-11-20T09:30:00.000+0000``) as an aware datetime."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def value_at(path: FieldPath, row: Row, source: Source) -> Any:
    """Return the value of ``path`` for ``row``, following parent relationships (or None)."""
    current: Row | None = row
    for index in range(len(path.relationships)):
        current = _parent(path, index, current, source)
    return None if current is None else current.get(path.field.name)


def sort_rows(rows: list[Row], order: Iterable[OrderKey], source: Source) -> list[Row]:
    """Return ``rows`` ordered by the keys (stable: equal rows keep their order)."""
    for key in reversed(tuple(order)):
        kind = key.path.field.type
        values = [(comparable(value_at(key.path, row, source), kind), row) for row in rows]
        nulls = [row for value, row in values if value is None]
        present = [pair for pair in values if pair[0] is not None]
        present.sort(key=lambda pair: pair[0], reverse=key.descending)
        ordered = [row for _, row in present]
        rows = nulls + ordered if key.nulls_first else ordered + nulls
    return rows


def project(query: Query, row: Row, source: Source, url_for: UrlFor) -> dict[str, Any]:
    """Return ``row`` as the REST API renders it for ``query``'s select list."""
    record: dict[str, Any] = {"attributes": _attributes(query.sobject, row, url_for)}
    for path in query.fields:
        target, current = record, row
        for index, name in enumerate(path.relationships):
            parent = _parent(path, index, current, source)
            if name not in target:
                sobject = path.objects[index + 1]
                target[name] = (
                    None
                    if parent is None
                    else {"attributes": _attributes(sobject, parent, url_for)}
                )
            if target[name] is None or parent is None:
                break
            target, current = target[name], parent
        else:
            target[path.field.name] = current.get(path.field.name)
    return record


def _parent(path: FieldPath, index: int, row: Row | None, source: Source) -> Row | None:
    """Return the parent record step ``index`` of ``path`` leads to from ``row``."""
    target_id = None if row is None else row.get(path.references[index])
    return None if target_id is None else source.get(path.objects[index + 1], str(target_id))


def _attributes(sobject: str, row: Row, url_for: UrlFor) -> dict[str, str]:
    return {"type": sobject, "url": url_for(sobject, str(row["Id"]))}


class _Evaluation:
    """One run of a query's filter: the semi-joins' results, candidates, matching."""

    def __init__(self, query: Query, source: Source) -> None:
        self.query, self.source = query, source
        self.semi_joins: dict[int, frozenset[Any]] = {}

    def matching(self) -> list[Row]:
        where = self.query.where
        if where is None:
            return list(self.source.rows(self.query.sobject))
        candidates = self.candidates(where)
        rows = self.source.rows(self.query.sobject) if candidates is None else candidates
        return [row for row in rows if self.matches(where, row)]

    def keys(self, node: SemiJoin) -> frozenset[Any]:
        """Return the comparable values the sub-select of a semi-join selects."""
        found = self.semi_joins.get(id(node))
        if found is None:
            inner = node.query
            selected = inner.fields[0]
            rows = _Evaluation(inner, self.source).matching()
            found = frozenset(
                comparable(row.get(selected.field.name), selected.field.type) for row in rows
            ) - {None}
            self.semi_joins[id(node)] = found
        return found

    def candidates(self, node: Condition) -> Sequence[Row] | None:
        """Return the rows an index says can match (a superset), None for "scan them all"."""
        sobject = self.query.sobject
        if isinstance(node, Comparison | InList | SemiJoin) and _indexable(node.path):
            if isinstance(node, Comparison):
                if node.operator != "=" or node.value is None:
                    return None
                keys: Iterable[Any] = [comparable(node.value, node.path.field.type)]
            elif isinstance(node, InList):
                if node.negated or None in node.values:
                    return None
                keys = {comparable(value, node.path.field.type) for value in node.values}
            else:
                if node.negated:
                    return None
                keys = self.keys(node)
            return self.source.lookup(sobject, node.path.field.name, keys)
        if isinstance(node, Junction):
            parts = [self.candidates(operand) for operand in node.operands]
            if node.operator == "and":
                known = [part for part in parts if part is not None]
                return min(known, key=len) if known else None
            if any(part is None for part in parts):
                return None
            return _union(part for part in parts if part is not None)
        return None

    def matches(self, node: Condition, row: Row) -> bool:
        if isinstance(node, Junction):
            if node.operator == "and":
                return all(self.matches(operand, row) for operand in node.operands)
            return any(self.matches(operand, row) for operand in node.operands)
        if isinstance(node, Negation):
            return not self.matches(node.operand, row)
        kind = node.path.field.type
        value = comparable(value_at(node.path, row, self.source), kind)
        if isinstance(node, Comparison):
            return _compare(value, node.operator, comparable(node.value, kind))
        if isinstance(node, InList):
            found = any(value == comparable(item, kind) for item in node.values)
            return found != node.negated
        if isinstance(node, SemiJoin):
            return (value is not None and value in self.keys(node)) != node.negated
        assert isinstance(node, Like)
        return value is not None and node.pattern.fullmatch(str(value)) is not None


def _compare(value: Any, operator: str, literal: Any) -> bool:
    if operator == "=":
        return bool(value == literal)
    if operator == "!=":
        return bool(value != literal)
    if value is None or literal is None:
        return False
    if operator == "<":
        return bool(value < literal)
    if operator == "<=":
        return bool(value <= literal)
    if operator == ">":
        return bool(value > literal)
    return bool(value >= literal)


def _indexable(path: FieldPath) -> bool:
    return not path.relationships and path.field.type in TEXT_TYPES


def _union(parts: Iterable[Sequence[Row]]) -> list[Row]:
    """Return the rows of every part once, in the source's stable order."""
    seen: dict[str, Row] = {}
    for part in parts:
        for row in part:
            seen.setdefault(str(row["Id"]).lower(), row)
    return sorted(seen.values(), key=lambda row: row.get("@seq", 0))
