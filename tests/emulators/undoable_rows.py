"""Rows in memory that can be put back: a transaction's undo and a reset to a baseline.

The base of the emulators' record stores (`dataverse_store.Store`, `salesforce_store.Records`).
Rows live per kind (a table, an object) keyed by id and are never changed in place: a write
stores a new dict, so the baseline shares the rows it did not touch and reset costs only what
changed since it.

A store calls `_remember(kind, key)` before each write. `transaction` undoes the block's writes
when it raises; `save_baseline` / `reset` put back every row written since the baseline. A store
learns of each change to a kind through `_changed` (e.g. to drop the indexes of that kind) and
may keep more bookkeeping per row through `_put`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

Row = dict[str, Any]


class UndoableRows:
    """Rows per kind, keyed by id, with transactions and a resettable baseline."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self._rows_by_kind: dict[str, dict[str, Row]] = {kind: {} for kind in kinds}
        # The row each changed id had at the baseline (None: it did not exist), for reset.
        self._since_baseline: dict[tuple[str, str], Row | None] = {}
        self._journal: list[tuple[str, str, Row | None]] | None = None

    def _remember(self, kind: str, key: str) -> None:
        """Note a row about to change: for reset, for the transaction, and for `_changed`."""
        previous = self._rows_by_kind[kind].get(key)
        self._since_baseline.setdefault((kind, key), previous)
        if self._journal is not None:
            self._journal.append((kind, key, previous))
        self._changed(kind)

    def _changed(self, kind: str) -> None:
        """Hear that a row of ``kind`` changes (written, or put back)."""

    def _put(self, kind: str, key: str, row: Row | None) -> None:
        """Put a row back as it was (None: it did not exist)."""
        if row is None:
            self._rows_by_kind[kind].pop(key, None)
        else:
            self._rows_by_kind[kind][key] = row

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Undo every write made in the block if it raises."""
        if self._journal is not None:  # nested: the outer transaction undoes everything
            yield
            return
        self._journal = []
        try:
            yield
        except BaseException:
            self._restore(reversed(self._journal))
            raise
        finally:
            self._journal = None

    def _restore(self, previous_rows: Iterable[tuple[str, str, Row | None]]) -> None:
        for kind, key, previous in previous_rows:
            self._put(kind, key, previous)
            self._changed(kind)

    def save_baseline(self) -> None:
        """Make the current rows the state `reset` restores."""
        self._since_baseline.clear()

    def reset(self) -> None:
        """Put back the rows written since the baseline."""
        self._restore((kind, key, row) for (kind, key), row in self._since_baseline.items())
        self._since_baseline.clear()
