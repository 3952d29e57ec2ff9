"""How the sandbox stores times: UTC text ``YYYY-MM-DD HH:MM:SS``.

Fixed-width UTC text sorts in time order, so ``ORDER BY at`` and ``at <= ?`` need no conversion,
and SQLite's own date functions read it. Naive datetimes are taken as UTC.
"""

from __future__ import annotations

import datetime as dt

FORMAT = "%Y-%m-%d %H:%M:%S"


def to_db(moment: dt.datetime) -> str:
    """Return ``moment`` as stored: UTC, to the second."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime(FORMAT)


def from_db(text: str) -> dt.datetime:
    """Return a stored time as an aware UTC datetime."""
    return dt.datetime.strptime(text, FORMAT).replace(tzinfo=dt.UTC)


def now() -> dt.datetime:
    """Return the current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)
