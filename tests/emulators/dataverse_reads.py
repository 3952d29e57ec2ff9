"""Reading Dataverse records: the rows a query selects, written as the Web API writes them.

Features
--------
- `Reader.select`: the rows of a table passing a ``$filter`` (narrowed first by the store's
  indexes), ordered by ``$orderby`` with the primary key as the last tiebreak, as Dataverse
  orders; `Reader.filtered` does the same to the rows of an expanded collection.
- `Reader.render`: one record as JSON: ``@odata.etag``, the ``$select``ed columns (all when
  none) and always the primary key, lookups as ``_x_value``, and the expansions (single-valued:
  an object or null; collection-valued: filtered, ordered and cut to ``$top``).
- Annotations only when ``Prefer: odata.include-annotations`` asks (`Preferences.wants`, with
  ``*`` and ``Prefix.*`` patterns and ``-`` exclusions): FormattedValue (a lookup's target name,
  option labels, money, dates), lookuplogicalname and associatednavigationproperty of lookups.
- `context_url`: the ``@odata.context`` of a result, ``...$metadata#accounts(name,nav(col))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .dataverse_store import Row, Store, logical_name_key
from .dataverse_tables import (
    ASSOCIATED_NAVIGATION,
    FORMATTED_VALUE,
    LOOKUP_LOGICAL_NAME,
    TABLES,
    Table,
    formatted_value,
)
from .odata import Query, matches, sort_rows


@dataclass(frozen=True, slots=True)
class Preferences:
    """The ``Prefer`` header: annotations asked for, page size, return=representation, and (on
    a ``$batch``) whether to go on past a failed request."""

    annotations: tuple[str, ...] = ()
    annotations_text: str = ""
    max_page_size: int | None = None
    representation: bool = False
    continue_on_error: bool = False

    @classmethod
    def parse(cls, header: str) -> Preferences:
        """Read a ``Prefer`` header: comma-separated preferences, quoted values kept whole."""
        values: dict[str, str] = {}
        for item in _split_outside_quotes(header):
            name, _, value = item.partition("=")
            values[name.strip().lower()] = value.strip()
        text = values.get("odata.include-annotations", "")
        size = values.get("odata.maxpagesize", "")
        return cls(
            annotations=tuple(p.strip() for p in text.strip('"').split(",") if p.strip()),
            annotations_text=text,
            max_page_size=int(size) if size.isdigit() and int(size) > 0 else None,
            representation=values.get("return") == "representation",
            continue_on_error=values.get("odata.continue-on-error", "false") in ("", "true"),
        )

    def wants(self, annotation: str) -> bool:
        """Return whether the client asked for ``annotation`` (``*`` and ``A.B.*`` match)."""
        wanted = False
        for pattern in self.annotations:
            exclude = pattern.startswith("-")
            pattern = pattern.removeprefix("-")
            if (
                pattern == "*"
                or pattern == annotation
                or (pattern.endswith(".*") and annotation.startswith(pattern[:-1]))
            ):
                wanted = not exclude
        return wanted


def _split_outside_quotes(text: str) -> list[str]:
    """Split at commas that are not inside double quotes."""
    parts, current, quoted = list[str](), list[str](), False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


class Reader:
    """Select and render the records of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def select(self, table: Table, query: Query) -> list[Row]:
        """Return the rows of ``table`` that pass the filter, in the query's order."""
        return _ordered(table, self.filtered(table, query), query)

    def filtered(self, table: Table, query: Query, rows: Sequence[Row] | None = None) -> list[Row]:
        node = query.filter
        if rows is None:
            ids = None if node is None else self.store.candidates(node, table.logical)
            rows = (
                list(self.store.all(table.logical))
                if ids is None
                else [self.store.rows[table.logical][i] for i in ids]
            )
        if node is None:
            return list(rows)
        return [row for row in rows if matches(node, row, self.store.related)]

    def render(self, table: Table, row: Row, query: Query, prefer: Preferences) -> dict[str, Any]:
        """Return one record as the Web API writes it."""
        out: dict[str, Any] = {"@odata.etag": f'W/"{row["@version"]}"'}
        names = [n for n in (query.select or ()) if n != "*"] or list(table.columns)
        for name in dict.fromkeys([*names, table.key]):
            self._column(table, name, row, prefer, out)
        for expand in query.expand:
            related = self.store.related(table.logical, row, expand.navigation)
            target = TABLES[expand.target]
            if not expand.collection:
                out[expand.navigation] = (
                    self.render(target, related[0], expand.query, prefer) if related else None
                )
                continue
            rows = _ordered(target, self.filtered(target, expand.query, related), expand.query)
            if expand.query.top is not None:
                rows = rows[: expand.query.top]
            out[expand.navigation] = [self.render(target, r, expand.query, prefer) for r in rows]
        return out

    def _column(
        self, table: Table, name: str, row: Row, prefer: Preferences, out: dict[str, Any]
    ) -> None:
        column, value = table.columns[name], row.get(name)
        logical = row.get(logical_name_key(name))
        if column.kind == "lookup" and value is not None and logical in TABLES.by_logical:
            target, primary_name = self.store.get(logical, value), TABLES[logical].primary_name
            if target is not None and primary_name and prefer.wants(FORMATTED_VALUE):
                out[f"{name}@{FORMATTED_VALUE}"] = target.get(primary_name)
            navigation = next(
                (
                    n.name
                    for n in table.navigations.values()
                    if n.column == name and n.target == logical and not n.collection
                ),
                None,
            )
            if navigation and prefer.wants(ASSOCIATED_NAVIGATION):
                out[f"{name}@{ASSOCIATED_NAVIGATION}"] = navigation
            if prefer.wants(LOOKUP_LOGICAL_NAME):
                out[f"{name}@{LOOKUP_LOGICAL_NAME}"] = logical
        elif prefer.wants(FORMATTED_VALUE):
            text = formatted_value(column, value)
            if text is not None:
                out[f"{name}@{FORMATTED_VALUE}"] = text
        out[name] = value


def _ordered(table: Table, rows: list[Row], query: Query) -> list[Row]:
    """Order rows by ``$orderby``, then by primary key, as Dataverse does."""
    rows.sort(key=lambda row: row[table.key])
    return sort_rows(rows, query.orderby, table.logical, TABLES)


def context_url(api_url: str, table: Table, query: Query) -> str:
    """Return the ``@odata.context`` of a query's result."""
    selection = _selection(query)
    return f"{api_url}$metadata#{table.entity_set}{f'({selection})' if selection else ''}"


def _selection(query: Query) -> str:
    """Return the ``(a,b,nav(c))`` part of a context URL."""
    items = [name for name in query.select or () if name != "*"]
    for expand in query.expand:
        inner = _selection(expand.query)
        items.append(f"{expand.navigation}({inner})" if inner else f"{expand.navigation}()")
    return ",".join(items)
