"""The read side of the Salesforce REST API: query pages, parameterized search, describe.

Features
--------
- `Pager` answers ``query/`` and ``queryAll/``: ``{"totalSize", "done", "records"}`` with
  ``nextRecordsUrl`` (``/services/data/vXX.X/query/01g...-2000``) while rows remain; a page is
  ``page_size`` rows (2,000 as Salesforce) or the ``Sforce-Query-Options: batchSize=N`` header's
  (200 to 2,000). A cursor keeps the matched rows of its query, as Salesforce's does; an unknown
  one is INVALID_QUERY_LOCATOR. ``COUNT()`` answers ``totalSize`` with no records.
- `search` answers ``parameterizedSearch/``: every word of ``q`` must start a word of the
  record's name (case- and accent-insensitive, as the sandbox folds names), per ``sobject``
  asked (all searchable objects if none), with ``<Type>.fields`` (default ``Id``),
  ``<Type>.limit`` and ``overallLimit``.
- `describe_global` / `describe` answer ``sobjects/`` and ``sobjects/<Type>/describe/`` with the
  fields of the catalog (name, type, what the API allows, ``referenceTo``,
  ``relationshipName``), enough for a client to check which custom fields the org has. Each
  object's summary carries describeGlobal's flags (``queryable``, ``createable``,
  ``updateable``, ``deletable``, ``retrieveable``, ``searchable``, ...): what the user may do,
  less the access a test took away (``denied``: object → ``query``/``create``/``update``/
  ``search``; no query means no retrieve or search either).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_adapters.sandbox.folding import fold, words

from .salesforce_objects import CATALOG, Catalog, IdMaker, SObject
from .salesforce_store import Records
from .salesforce_writes import ApiError
from .soql import Query, SoqlError, parse_soql, unsupported_type
from .soql_eval import Row, count, project, run

MAX_PAGE_SIZE = 2000
MIN_BATCH_SIZE = 200
_BATCH_SIZE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_LOCATOR = re.compile(r"(01g[0-9A-Za-z]{15})-(\d+)")


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


@dataclass
class _Cursor:
    query: Query
    rows: list[Row]
    size: int
    endpoint: str


@dataclass
class Pager:
    """Run queries and hand out their rows a page at a time."""

    records: Records
    ids: IdMaker
    page_size: int = MAX_PAGE_SIZE
    _cursors: dict[str, _Cursor] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def query(
        self, soql: str | None, version: str, endpoint: str, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        if not soql:
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            query = parse_soql(soql)
        except SoqlError as error:
            raise ApiError(400, error.code, error.message) from None
        if query.count:
            return {"totalSize": count(query, self.records), "done": True, "records": []}
        cursor = _Cursor(query, run(query, self.records), self._size(headers), endpoint)
        return self._page(cursor, 0, version)

    def more(self, locator: str, version: str) -> dict[str, Any]:
        found = _LOCATOR.fullmatch(locator)
        with self._lock:
            cursor = None if found is None else self._cursors.get(found.group(1))
        if found is None or cursor is None:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, int(found.group(2)), version)

    def clear(self) -> None:
        with self._lock:
            self._cursors.clear()

    def _size(self, headers: Mapping[str, str]) -> int:
        found = _BATCH_SIZE.search(headers.get("sforce-query-options", ""))
        if found is None:
            return max(1, self.page_size)
        return max(MIN_BATCH_SIZE, min(MAX_PAGE_SIZE, int(found.group(1))))

    def _page(self, cursor: _Cursor, offset: int, version: str) -> dict[str, Any]:
        rows = cursor.rows[offset : offset + cursor.size]
        query = cursor.query
        records = [
            project(query, row, self.records, lambda t, i: record_url(version, t, i))
            for row in rows
        ]
        done = offset + cursor.size >= len(cursor.rows)
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": done}
        if not done:
            locator = self.ids.new("01g")
            with self._lock:
                self._cursors[locator] = cursor
            next_offset = offset + cursor.size
            body["nextRecordsUrl"] = (
                f"/services/data/v{version}/{cursor.endpoint}/{locator}-{next_offset}"
            )
        body["records"] = records
        return body


def search(
    records: Records, params: Mapping[str, list[str]], version: str, catalog: Catalog = CATALOG
) -> dict[str, Any]:
    """Answer ``parameterizedSearch/``: the records whose name words start with ``q``'s."""
    text = (params.get("q") or [""])[-1]
    terms = words(fold(text))
    if len("".join(terms)) < 2:
        raise ApiError(400, "INVALID_SEARCH", "search term must be longer than one character")
    names = params.get("sobject") or [
        sobject.name for sobject in catalog if sobject.searchable is not None
    ]
    overall = _limit(params, "overallLimit", 2000)

    def url(sobject: str, record_id: str) -> str:
        return record_url(version, sobject, record_id)

    found: list[dict[str, Any]] = []
    for name in names:
        sobject = catalog.get(name)
        if sobject is None or sobject.searchable is None:
            raise ApiError(400, "INVALID_TYPE", unsupported_type(name))
        fields = _param(params, f"{sobject.name}.fields") or "Id"
        try:
            query = parse_soql(f"SELECT {fields} FROM {sobject.name}", catalog)
        except SoqlError as error:
            raise ApiError(400, error.code, error.message) from None
        limit = _limit(params, f"{sobject.name}.limit", overall)
        matched = 0
        for row in records.rows(sobject.name):
            if matched >= limit or len(found) >= overall:
                break
            if _matches(terms, row.get(sobject.searchable)):
                found.append(project(query, row, records, url))
                matched += 1
    return {"searchRecords": found}


def _matches(terms: list[str], name: Any) -> bool:
    if not name:
        return False
    name_words = words(fold(str(name)))
    return all(any(word.startswith(term) for word in name_words) for term in terms)


def _param(params: Mapping[str, list[str]], name: str) -> str | None:
    for key, values in params.items():
        if key.lower() == name.lower() and values:
            return values[-1]
    return None


def _limit(params: Mapping[str, list[str]], name: str, default: int) -> int:
    value = _param(params, name)
    if value is None:
        return default
    if not value.isdigit():
        raise ApiError(400, "INVALID_SEARCH", f"invalid value for {name}: {value}")
    return int(value)


#: The access a test may take from every user, and describeGlobal's flags each turns off.
ACCESS_FLAGS: Mapping[str, tuple[str, ...]] = {
    "query": ("queryable", "retrieveable", "searchable"),
    "create": ("createable",),
    "update": ("updateable",),
    "search": ("searchable",),
}
NOTHING_DENIED: Mapping[str, frozenset[str]] = {}


def describe_global(
    version: str,
    catalog: Catalog = CATALOG,
    denied: Mapping[str, frozenset[str]] = NOTHING_DENIED,
) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [
            _summary(sobject, version, denied.get(sobject.name, frozenset())) for sobject in catalog
        ],
    }


def describe(
    sobject: SObject, version: str, denied: frozenset[str] = frozenset()
) -> dict[str, Any]:
    relationships = {r.field: r.name for r in sobject.relationships}
    fields = [
        {
            "name": f.name,
            "label": f.name,
            "type": f.type if f.type != "junction" else "junctionidlist",
            "createable": f.createable,
            "updateable": f.updateable,
            "filterable": f.filterable,
            "sortable": f.sortable,
            "nillable": f.name not in sobject.required and f.type != "boolean",
            "custom": f.name.endswith("__c"),
            "referenceTo": list(f.references),
            "relationshipName": relationships.get(f.name),
        }
        for f in sobject.fields
    ]
    return _summary(sobject, version, denied) | {"fields": fields}


def _summary(sobject: SObject, version: str, denied: frozenset[str]) -> dict[str, Any]:
    base = f"/services/data/v{version}/sobjects/{sobject.name}"
    flags = {
        "activateable": False,
        "createable": sobject.createable,
        "custom": False,
        "customSetting": False,
        "deletable": sobject.createable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": sobject.key_prefix,
        "label": sobject.name,
        "labelPlural": sobject.name,
        "layoutable": True,
        "mergeable": False,
        "mruEnabled": False,
        "name": sobject.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": sobject.searchable is not None,
        "triggerable": True,
        "undeletable": False,
        "updateable": sobject.createable,
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    }
    for access in denied:
        for flag in ACCESS_FLAGS[access]:
            flags[flag] = False
    return flags
