"""The one error tree every CRM adapter raises.

    CrmError
     ├── NotSignedIn      the rep must sign in (again) before the CRM answers
     │    └── ConsentRequired   an administrator must consent first; the rep cannot fix it
     ├── NotFound         the record or endpoint does not exist
     ├── Conflict         the write clashes with what the CRM holds (duplicate key, stale etag)
     ├── RateLimited      the CRM asked us to slow down; ``retry_after`` seconds
     ├── Unavailable      the CRM did not answer usefully (5xx, dropped connection, timeout)
     └── Rejected         the CRM refused the request as invalid; ``reason`` says why

Each adapter maps its vendor's statuses and error codes to these in one table, so services and
workers branch on our types only. Messages are written for the rep: they say what happened and,
where there is one, what to do next.
"""

from __future__ import annotations


class CrmError(Exception):
    """Base of every error an adapter raises."""

    #: Whether trying the same call again later can succeed.
    retryable: bool = False


class NotSignedIn(CrmError):
    """The CRM needs the rep to sign in (again).

    ``claims`` is the identity provider's claims challenge, when it sent one (Entra's
    ``interaction_required``): the pane passes it back when it asks the rep to sign in.
    """

    def __init__(
        self, message: str = "Sign in to the CRM again.", *, claims: str | None = None
    ) -> None:
        super().__init__(message)
        self.claims = claims


class ConsentRequired(NotSignedIn):
    """The organisation has not consented to Sidepane reaching the CRM (rule 19)."""


class NotFound(CrmError):
    """The record or endpoint does not exist."""


class Conflict(CrmError):
    """The write clashes with what the CRM already holds."""


class RateLimited(CrmError):
    """The CRM throttled us; try again after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(CrmError):
    """The CRM could not be reached or failed on its side."""

    retryable = True


class Rejected(CrmError):
    """The CRM refused the request as invalid."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
