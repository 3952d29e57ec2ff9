"""Retrying CRM requests: the policy, its backoff, ``Retry-After`` and whether a write went out.

Shared by the Dynamics and Salesforce transports (``dynamics/transport.py``,
``salesforce/transport.py``); each keeps its own loop and its own vendor error table, and
re-exports its `RetryPolicy` (a subclass of this one with its vendor's ``default_retry_after``).

Features
--------
* `RetryPolicy`: how often and how long to retry; `RetryPolicy.backoff` is exponential with
  jitter, `RetryPolicy.may_wait` says whether a ``Retry-After`` wait is still worth it.
* `retry_after_seconds`: a ``Retry-After`` header as seconds (a number or an HTTP date);
  `delay_seconds` reads only the number form.
* `never_sent`: whether a failed request surely never reached the server (safe to retry a write).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from urllib3.exceptions import NewConnectionError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry; tests pass tiny delays."""

    #: Tries of one request in all (1: never retry). A token refresh does not use one up.
    attempts: int = 4
    #: First backoff delay in seconds; doubles each time.
    base_delay: float = 0.5
    #: Longest backoff delay.
    max_delay: float = 8.0
    #: Longest ``Retry-After`` waited for; a longer one is `RateLimited` at once.
    max_retry_after: float = 30.0
    #: Used when the CRM slows us down without naming a (readable) time.
    default_retry_after: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def backoff(self, attempt: int) -> float:
        """Return the wait before try ``attempt + 1``: exponential, with jitter."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** max(attempt - 1, 0))
        return delay * (0.5 + random.random() / 2)  # jitter, not a secret

    def may_wait(self, attempt: int, wait: float) -> bool:
        """Return whether try ``attempt``, told to wait ``wait`` seconds, may be tried again."""
        return attempt < self.attempts and wait <= self.max_retry_after


def delay_seconds(value: str | None) -> float | None:
    """Read a ``Retry-After`` of seconds; None if absent or not a number."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def retry_after_seconds(value: str | None, default: float) -> float:
    """Read ``Retry-After``: seconds, or an HTTP date; ``default`` if absent or unreadable."""
    if not value:
        return default
    seconds = delay_seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def never_sent(error: requests.RequestException) -> bool:
    """Return whether the request surely did not reach the server (safe to retry a write)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)
