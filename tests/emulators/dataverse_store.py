"""The emulator's records, in memory: rows per table, navigation, indexes, undo and reset.

Features
--------
- A row is a dict of column → JSON value (GUIDs lower-case, date-times ``...Z`` text), plus
  hidden keys starting with ``@`` or holding an annotation: ``@version`` (the etag) and, per
  lookup, ``_x_value@Microsoft.Dynamics.CRM.lookuplogicalname`` (the table it points to).
- `related` follows a navigation property from a row, both ways; `candidates` narrows a parsed
  ``$filter`` to the rows an index says can match (``eq``/``In`` on a column, ``or``/``and`` of
  those, ``any()`` over a collection whose predicate is indexable), so matching a few addresses
  among a million contacts does not scan them all. Indexes are built on first use and dropped
  when their table changes.
- `transaction` undoes every write made inside it when it raises (a deep insert, a changeset).
- `save_baseline` / `reset`: reset puts back only the rows written since the baseline (and the
  indexes built on it), so tests can share one loaded emulator and reset between tests in
  microseconds. Rows are never changed in place (an update stores a new dict), which is what
  lets the baseline share them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from .dataverse_tables import LOOKUP_LOGICAL_NAME, NavigationProperty, Table, Tables
from .odata import Comparison, InValues, Junction, Lambda, Literal, Member, Node, comparable
from .undoable_rows import Row, UndoableRows


def logical_name_key(column: str) -> str:
    """Return the hidden key holding the table a lookup column points to."""
    return f"{column}@{LOOKUP_LOGICAL_NAME}"


def set_lookup(row: Row, column: str, logical: str | None, record_id: str | None) -> None:
    """Point the lookup ``column`` of ``row`` at a record (or at nothing)."""
    row[column] = record_id.lower() if record_id else None
    row[logical_name_key(column)] = logical if record_id else None


class Store(UndoableRows):
    """Rows of every table, keyed by lower-case id."""

    def __init__(self, tables: Tables) -> None:
        super().__init__(table.logical for table in tables)
        self.tables = tables
        self._dirty: set[str] = set()  # tables written since the baseline
        self._indexes: dict[tuple[str, str], dict[Any, list[str]]] = {}
        self._clean_indexes: dict[tuple[str, str], dict[Any, list[str]]] = {}  # of the baseline
        self._versions = itertools.count(1_000_001)

    @property
    def rows(self) -> dict[str, dict[str, Row]]:
        """Return the rows of every table, by logical name and id."""
        return self._rows_by_kind

    # -- reading ----------------------------------------------------------------------------

    def get(self, logical: str, record_id: str) -> Row | None:
        return self.rows[logical].get(record_id.lower())

    def all(self, logical: str) -> Iterable[Row]:
        return self.rows[logical].values()

    def related(self, logical: str, row: Mapping[str, Any], name: str) -> list[Row]:
        """Return the rows the navigation ``name`` of ``row`` leads to."""
        navigation = self.tables.navigation(logical, name)
        if navigation is None:
            return []
        if not navigation.collection:
            target_id = row.get(navigation.column)
            if not target_id or row.get(logical_name_key(navigation.column)) != navigation.target:
                return []
            target = self.get(navigation.target, target_id)
            return [] if target is None else [target]
        own_id = row[self.tables[logical].key]
        return [
            other
            for other_id in self.lookup(navigation.target, navigation.column, own_id)
            if (other := self.rows[navigation.target][other_id]).get(
                logical_name_key(navigation.column)
            )
            == logical
        ]

    def lookup(self, logical: str, column: str, value: Any) -> list[str]:
        """Return the ids of the rows of ``logical`` whose ``column`` equals ``value``."""
        edm = self.tables.property_type(logical, column)
        return self._index(logical, column, edm).get(comparable(value, edm), [])

    def _index(self, logical: str, column: str, edm: str | None) -> dict[Any, list[str]]:
        index = self._indexes.get((logical, column))
        if index is None:
            index = {}
            for record_id, row in self.rows[logical].items():
                value = comparable(row.get(column), edm)
                if value is not None:
                    index.setdefault(value, []).append(record_id)
            self._indexes[(logical, column)] = index
            if logical not in self._dirty:
                self._clean_indexes[(logical, column)] = index  # never changed: rebuilt instead
        return index

    def candidates(self, node: Node, logical: str, variable: str | None = None) -> set[str] | None:
        """Return a superset of the ids of the rows ``node`` can match, None for "any row"."""
        if isinstance(node, InValues) and not node.negated and _plain(node.member, variable):
            return self._ids(logical, node.member.name, node.values)
        if isinstance(node, Comparison) and node.operator == "eq":
            for member, literal in ((node.left, node.right), (node.right, node.left)):
                if (
                    isinstance(member, Member)
                    and _plain(member, variable)
                    and isinstance(literal, Literal)
                    and literal.value is not None
                ):
                    return self._ids(logical, member.name, {comparable(literal.value, member.type)})
            return None
        if isinstance(node, Junction):
            left = self.candidates(node.left, logical, variable)
            right = self.candidates(node.right, logical, variable)
            if node.operator == "or":
                return None if left is None or right is None else left | right
            return right if left is None else left if right is None else left & right
        if isinstance(node, Lambda) and node.quantifier == "any" and node.predicate is not None:
            if not _plain(node.source, variable):
                return None
            navigation = self.tables.navigation(logical, node.source.name)
            assert navigation is not None
            inner = self.candidates(node.predicate, navigation.target, node.variable)
            return None if inner is None else self._owners(navigation, logical, inner)
        return None

    def _ids(self, logical: str, column: str, values: Iterable[Any]) -> set[str]:
        if column == self.tables[logical].key:
            return {value for value in values if value in self.rows[logical]}
        index = self._index(logical, column, self.tables.property_type(logical, column))
        return {record_id for value in values for record_id in index.get(value, ())}

    def _owners(self, navigation: NavigationProperty, logical: str, ids: set[str]) -> set[str]:
        """Return the ids the rows ``ids`` of a collection navigation point back to."""
        owners = set()
        for record_id in ids:
            row = self.rows[navigation.target][record_id]
            if row.get(logical_name_key(navigation.column)) == logical and row[navigation.column]:
                owners.add(row[navigation.column])
        return owners

    # -- writing ----------------------------------------------------------------------------

    def insert(self, table: Table, row: Row) -> Row:
        """Add a new row (its key already set) and return it."""
        record_id = row[table.key]
        self._remember(table.logical, record_id)
        row["@version"] = next(self._versions)
        self.rows[table.logical][record_id] = row
        return row

    def update(self, table: Table, record_id: str, changes: Row) -> Row:
        """Change some columns of an existing row and return it."""
        self._remember(table.logical, record_id)
        row = dict(self.rows[table.logical][record_id]) | changes
        row["@version"] = next(self._versions)
        self.rows[table.logical][record_id] = row
        return row

    def delete(self, table: Table, record_id: str) -> None:
        self._remember(table.logical, record_id)
        del self.rows[table.logical][record_id]

    def _changed(self, kind: str) -> None:
        self._dirty.add(kind)
        self._drop_indexes(kind)

    def _drop_indexes(self, logical: str) -> None:
        for key in [key for key in self._indexes if key[0] == logical]:
            del self._indexes[key]

    def save_baseline(self) -> None:
        """Make the current rows (and the indexes built on them) the state `reset` restores."""
        super().save_baseline()
        self._dirty.clear()
        self._clean_indexes = dict(self._indexes)

    def reset(self) -> None:
        """Put back the rows written since the baseline, and the indexes built on it."""
        super().reset()
        for logical in self._dirty:
            self._drop_indexes(logical)
            self._indexes |= {
                key: index for key, index in self._clean_indexes.items() if key[0] == logical
            }
        self._dirty.clear()


def _plain(member: Member, variable: str | None) -> bool:
    """Return whether ``member`` is a column of the row being filtered, not of a related one."""
    return member.variable == variable and not member.hops
