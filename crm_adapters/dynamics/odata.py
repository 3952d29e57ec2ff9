"""OData literals and query strings for the Dataverse Web API: where user text meets syntax.

Features
--------
* `literal`: the ONE way a string becomes an OData string literal (single-quoted, ``'`` doubled).
* `wildcard`: the ONE way a string is made safe inside ``contains``/``startswith``, where
  Dataverse treats ``%``, ``_`` and ``[`` as wildcard syntax (``[%]``, ``[_]``, ``[[]``).
  Compose as ``literal(wildcard(text))``.
* `json_values`: values of the ``Microsoft.Dynamics.CRM.In`` function as a JSON array of
  double-quoted strings (an apostrophe inside is plain data there).
* `is_guid` / `guid`: ids are GUIDs; anything else matches nothing and is never sent.
* `timestamp`: unquoted ISO 8601 UTC date-time literals (``2026-11-20T09:30:00Z``).
* `query_string`: the percent-encoded query of a request line. Every reserved character of a
  value is encoded (``+`` → ``%2B``, ``&`` → ``%26``, ``#`` → ``%23``), so the same string serves
  a direct GET and a request line inside a ``$batch``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from urllib.parse import quote

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_WILDCARDS = re.compile(r"([%_\[])")
# Left readable in a query value: OData punctuation that means nothing to a query-string parser.
_SAFE_IN_VALUES = "$,()'"


def literal(value: str) -> str:
    """Return ``value`` as an OData string literal: single-quoted, each ``'`` doubled."""
    return "'" + value.replace("'", "''") + "'"


def wildcard(value: str) -> str:
    """Escape Dataverse's wildcard characters for ``contains``/``startswith`` (then `literal`)."""
    return _WILDCARDS.sub(r"[\1]", value)


def json_values(values: Iterable[str]) -> str:
    """Return the values as the JSON array ``In``'s ``PropertyValues`` takes."""
    return json.dumps(list(values), ensure_ascii=False)


def is_guid(value: object) -> bool:
    """Return whether ``value`` is a GUID in its 8-4-4-4-12 text form."""
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


def guid(value: str) -> str:
    """Return the GUID in Dataverse's lower-case form (an unquoted literal); ValueError if not."""
    if not is_guid(value):
        raise ValueError(f"{value!r} is not a GUID")
    return str(uuid.UUID(value))


def timestamp(moment: dt.datetime) -> str:
    """Return ``moment`` as Dataverse writes date-times: UTC, to the second, with ``Z``.

    Naive datetimes are taken as UTC.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> dt.datetime:
    """Return a Dataverse date-time (``...Z`` or with an offset) as an aware UTC datetime."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def query_string(options: Mapping[str, str]) -> str:
    """Return ``options`` (``$select``, ``$filter``, ``@p1``...) as a percent-encoded query."""
    return "&".join(
        f"{quote(name, safe='$@')}={quote(value, safe=_SAFE_IN_VALUES)}"
        for name, value in options.items()
    )


def resource(path: str, options: Mapping[str, str] | None = None) -> str:
    """Return ``path`` (relative to ``/api/data/v9.2/``) with its encoded query, if any."""
    return f"{path}?{query_string(options)}" if options else path
