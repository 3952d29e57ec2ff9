"""Creating and updating Dataverse records from a JSON body, as the Web API checks them.

Features
--------
- Columns: unknown ones are refused with "Could not find a property named ..."; a lookup's
  ``_x_value`` is refused (bind the navigation instead); server-set columns (``fullname``,
  ``createdon``...) are ignored; values are type-checked (a string where a number belongs, an
  option outside its set, a malformed date) and date-times normalised to ``...Z``.
- ``<navigation>@odata.bind``: ``/accounts(<guid>)``, ``accounts(<guid>)`` or the absolute URL,
  for the single-valued navigations; the target must exist (404 ``0x80040217`` "account With Id
  = <guid> Does Not Exist") and be in the navigation's entity set.
- Deep insert: a collection-valued navigation given a list of objects creates those records
  linked to the new one (``email_activity_parties``, ``email_activity_mime_attachment``...).
- Required columns (contact ``lastname``), defaults, ``createdon``/``modifiedon``, ``fullname``
  and an attachment's ``filesize`` are set; a duplicate id answers 412.

Run the writes inside ``Store.transaction()``: a failure half-way leaves nothing behind.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from .dataverse_store import Row, Store, set_lookup
from .dataverse_tables import Column, NavigationProperty, Table, Tables
from .odata import ODataError, property_error

NOT_FOUND = "0x80040217"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_BIND = re.compile(
    r"(?:https?://[^/]+)?(?:/api/data/v9\.2)?/?(?P<set>[^\W\d]\w*)\((?P<id>[0-9a-fA-F-]{36})\)"
)
_BIND_SUFFIX = "@odata.bind"


def now() -> str:
    """Return the current time as Dataverse writes it."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_not_found(logical: str, record_id: str) -> ODataError:
    return ODataError(f"{logical} With Id = {record_id} Does Not Exist", status=404, code=NOT_FOUND)


class Writer:
    """Apply create and update bodies to the store."""

    def __init__(self, tables: Tables, store: Store) -> None:
        self.tables, self.store = tables, store

    def create(self, table: Table, body: Any, parent: tuple[str, str, str] | None = None) -> Row:
        """Create a record (and its deep-inserted children); ``parent`` links it to its owner.

        ``parent`` is (lookup column, owner's logical name, owner's id).
        """
        body = _object(body)
        row: Row = {name: None for name in table.columns}
        for name, column in table.columns.items():
            if column.kind == "lookup":
                set_lookup(row, name, None, None)
        row |= table.defaults
        children = self._assign(table, body, row, creating=True)
        if parent is not None:
            set_lookup(row, parent[0], parent[1], parent[2])
        for name in table.required:
            if row.get(name) in (None, ""):
                raise ODataError(
                    f"A value for the required column '{name}' of {table.logical} is missing.",
                    code="0x80040203",
                )
        row[table.key] = (row.get(table.key) or str(uuid.uuid4())).lower()
        if self.store.get(table.logical, row[table.key]) is not None:
            raise ODataError(
                "A record with matching key values already exists.",
                status=412,
                code="0x80040237",
            )
        if "createdon" in table.columns:
            row["createdon"] = row["modifiedon"] = now()
        self._compute(table, row)
        self.store.insert(table, row)
        for navigation, items in children:
            target = self.tables[navigation.target]
            for item in items:
                self.create(target, item, (navigation.column, table.logical, row[table.key]))
        return row

    def update(self, table: Table, record_id: str, body: Any) -> Row:
        """Change an existing record's columns and lookups."""
        row = dict(self.store.get(table.logical, record_id) or {})
        if self._assign(table, _object(body), row, creating=False):
            raise ODataError("Deep insert is supported only when creating a record.")
        if "modifiedon" in table.columns:
            row["modifiedon"] = now()
        self._compute(table, row)
        return self.store.update(table, record_id.lower(), row)

    def _assign(
        self, table: Table, body: Mapping[str, Any], row: Row, *, creating: bool
    ) -> list[tuple[NavigationProperty, list[Any]]]:
        """Copy the body's columns and binds into ``row``; return the deep inserts to do."""
        children = []
        for name, value in body.items():
            if name.endswith(_BIND_SUFFIX):
                navigation = table.navigations.get(name.removesuffix(_BIND_SUFFIX))
                if navigation is None or navigation.collection:
                    raise property_error(name.removesuffix(_BIND_SUFFIX), table.logical)
                target_id = None if value is None else self._bind_target(navigation, value)
                set_lookup(row, navigation.column, navigation.target, target_id)
            elif name.startswith("@") or "@" in name:
                continue  # instance annotations such as @odata.type
            elif name in table.navigations:
                navigation = table.navigations[name]
                if not navigation.collection or not isinstance(value, list):
                    raise ODataError(
                        f"The emulator supports deep insert only of collection-valued"
                        f" navigation properties given as an array; '{name}' is not one."
                    )
                children.append((navigation, value))
            else:
                column = table.columns.get(name)
                if column is None:
                    raise property_error(name, table.logical)
                if column.kind == "lookup":
                    raise ODataError(
                        "CRM do not support direct update of Entity Reference properties, Use"
                        " Navigation properties instead."
                    )
                if column.kind == "system" or (column.kind == "key" and not creating):
                    continue
                row[name] = _checked(table, name, column, value)
        return children

    def _bind_target(self, navigation: NavigationProperty, value: Any) -> str:
        """Return the id a ``@odata.bind`` value names, checking the record exists."""
        found = _BIND.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise ODataError(f"The @odata.bind value '{value}' is not a valid entity reference.")
        target = self.tables[navigation.target]
        if found["set"] != target.entity_set:
            raise ODataError(
                f"The navigation property '{navigation.name}' binds to {target.entity_set},"
                f" not to {found['set']}."
            )
        if self.store.get(target.logical, found["id"]) is None:
            raise record_not_found(target.logical, found["id"].lower())
        return found["id"].lower()

    def _compute(self, table: Table, row: Row) -> None:
        """Set the columns the server derives from others."""
        if table.logical == "contact":
            row["fullname"] = f"{row.get('firstname') or ''} {row.get('lastname') or ''}".strip()
        if table.logical == "activitymimeattachment":
            try:
                content = base64.b64decode(row.get("body") or "", validate=True)
            except binascii.Error:
                raise ODataError("The attachment body is not valid base64.") from None
            row["filesize"] = len(content)


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise ODataError("The request body must be a JSON object.")
    return body


def _checked(table: Table, name: str, column: Column, value: Any) -> Any:
    """Return ``value`` as stored for ``column``, or raise as Dataverse refuses it."""
    if value is None:
        return None
    edm = column.type
    ok = {
        "Edm.String": isinstance(value, str),
        "Edm.Int32": isinstance(value, int) and not isinstance(value, bool),
        "Edm.Decimal": isinstance(value, int | float) and not isinstance(value, bool),
        "Edm.Boolean": isinstance(value, bool),
        "Edm.Guid": isinstance(value, str) and _GUID.fullmatch(value) is not None,
        "Edm.DateTimeOffset": isinstance(value, str) and _datetime(value) is not None,
        "Edm.Date": isinstance(value, str) and _date(value) is not None,
    }.get(edm, True)
    if not ok:
        raise ODataError(f"Cannot convert the literal '{value}' to the expected type '{edm}'.")
    if edm == "Edm.Int32" and column.labels and value not in column.labels:
        raise ODataError(
            f"A validation error occurred. The value {value} of '{name}' on record of type"
            f" '{table.logical}' is outside the valid range.",
            code="0x8004431a",
        )
    if edm == "Edm.DateTimeOffset":
        moment = _datetime(value)
        assert moment is not None
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.lower() if edm == "Edm.Guid" else value


def _datetime(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
