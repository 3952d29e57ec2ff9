"""The Salesforce emulator's records, in memory: rows per object, ids, indexes, undo and reset.

Features
--------
- A row is a dict of canonical field name → JSON value (date-times as Salesforce writes them,
  ``2026-11-20T09:30:00.000+0000``), plus the hidden ``@seq`` (insertion order, which is the
  order of a query without ORDER BY). Rows are never changed in place: an update stores a new
  dict, which is what lets the baseline share them.
- Ids are found in any case, and a 15-character id finds its 18-character record; `find` says
  which object an id belongs to (for polymorphic references and ``sobjects/<Type>/<id>``).
- `lookup` answers `soql_eval.Source`: the rows whose text field holds one of some values, from
  an index built on first use and dropped when the object changes.
- `transaction` undoes every write made inside it when it raises (a composite request with
  ``allOrNone``); `save_baseline` / `reset` put back only what changed since the baseline.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from .salesforce_objects import TEXT_TYPES, Catalog, with_checksum
from .soql_eval import comparable
from .undoable_rows import Row, UndoableRows


class Records(UndoableRows):
    """Rows of every object of a catalog, keyed by lower-case id."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(sobject.name for sobject in catalog)
        self.catalog = catalog
        self._owners: dict[str, str] = {}  # lower-case id -> object name
        self._indexes: dict[tuple[str, str], dict[Any, list[Row]]] = {}
        self._sequence = itertools.count(1)

    # -- reading ------------------------------------------------------------------------------

    def rows(self, sobject: str) -> Iterable[Row]:
        return self._rows_by_kind[sobject].values()

    def get(self, sobject: str, record_id: str) -> Row | None:
        return self._rows_by_kind[sobject].get(_key(record_id))

    def find(self, record_id: str) -> tuple[str, Row] | None:
        """Return the object and row of an id, whatever its object."""
        key = _key(record_id)
        sobject = self._owners.get(key)
        return None if sobject is None else (sobject, self._rows_by_kind[sobject][key])

    def lookup(self, sobject: str, field: str, keys: Iterable[Any]) -> list[Row] | None:
        """Return the rows whose text ``field`` compares equal to one of ``keys``, in order."""
        definition = self.catalog[sobject].field(field)
        if definition is None or definition.type not in TEXT_TYPES:
            return None
        index = self._index(sobject, definition.name, definition.type)
        found: dict[int, Row] = {}
        for key in keys:
            for row in index.get(key, ()):
                found[row["@seq"]] = row
        return [found[seq] for seq in sorted(found)]

    def _index(self, sobject: str, field: str, kind: str) -> dict[Any, list[Row]]:
        index = self._indexes.get((sobject, field))
        if index is None:
            index = {}
            for row in self._rows_by_kind[sobject].values():
                value = comparable(row.get(field), kind)
                if value is not None:
                    index.setdefault(value, []).append(row)
            self._indexes[(sobject, field)] = index
        return index

    # -- writing ------------------------------------------------------------------------------

    def insert(self, sobject: str, row: Row) -> Row:
        """Add a new row (its ``Id`` set) and return it."""
        key = _key(row["Id"])
        self._remember(sobject, key)
        row["@seq"] = next(self._sequence)
        self._rows_by_kind[sobject][key] = row
        self._owners[key] = sobject
        return row

    def update(self, sobject: str, record_id: str, changes: Row) -> Row:
        """Change some fields of an existing row and return the new row."""
        key = _key(record_id)
        self._remember(sobject, key)
        row = self._rows_by_kind[sobject][key] | changes
        self._rows_by_kind[sobject][key] = row
        return row

    def delete(self, sobject: str, record_id: str) -> None:
        key = _key(record_id)
        self._remember(sobject, key)
        del self._rows_by_kind[sobject][key]
        del self._owners[key]

    def _changed(self, kind: str) -> None:
        for index_key in [index_key for index_key in self._indexes if index_key[0] == kind]:
            del self._indexes[index_key]

    def _put(self, kind: str, key: str, row: Row | None) -> None:
        super()._put(kind, key, row)
        if row is None:
            self._owners.pop(key, None)
        else:
            self._owners[key] = kind


def _key(record_id: str) -> str:
    return with_checksum(record_id).lower()
