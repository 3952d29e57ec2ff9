"""Matching contacts to email addresses: the found contacts grouped under the asked addresses.

Used by ``dynamics/contacts.py`` and ``salesforce/contacts.py`` (``group_by_address``): each
asks its CRM for the contacts holding any address in some email columns (fields), then groups
the rows here. The sandbox groups in its own SQL answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .models import Contact


def group_by_address(
    rows: Iterable[Mapping[str, Any]],
    wanted: Sequence[str],
    columns: Sequence[str],
    contact_of: Callable[[Mapping[str, Any]], Contact],
) -> dict[str, list[Contact]]:
    """Map each wanted (lower-cased) address to the contacts holding it in one of ``columns``.

    ``contact_of`` turns a row into its `Contact`; a contact holding an address in two columns
    is listed once under it.
    """
    matches: dict[str, list[Contact]] = {address: [] for address in wanted}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        found = contact_of(row)
        for column in columns:
            value = row.get(column)
            address = value.lower() if isinstance(value, str) else ""
            if address in matches and (address, found.id) not in seen:
                seen.add((address, found.id))
                matches[address].append(found)
    return matches
