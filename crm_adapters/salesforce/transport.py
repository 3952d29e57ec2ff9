"""HTTP to one Salesforce org through simple-salesforce: session, tokens, retries, the error table.

Features
--------
* `OrgSession`: the `requests.Session` simple-salesforce sends everything through. It passes
  ``verify`` and ``timeout`` with every request (``REQUESTS_CA_BUNDLE`` overrides
  ``session.verify``, so setting it on the session is not enough), never follows redirects,
  counts each request (the adapter's ``round_trips``: a composite batch is one) and logs
  method, path, status and time, never tokens, query strings or bodies.
* `Transport`: the reads and writes of ``docs/salesforce-requests.md`` on a `Salesforce` client
  built with the rep's access token (``session_id``): SOQL queries following
  ``nextRecordsUrl`` (several queries travel in one composite batch), ``composite/batch`` (up to
  25 GETs, queries or ``parameterizedSearch``, in one POST), creates (one record, or many with
  ``composite/sobjects``) and deletes.
* Faults, by `RetryPolicy`:

  ==================================  =====================================================
  ``REQUEST_LIMIT_EXCEEDED`` (403)    wait (``Retry-After`` if sent, else backoff) and try
                                      again, up to ``attempts``; then `RateLimited`
  5xx, dropped connection, timeout    exponential backoff with jitter, then `Unavailable`
  ``INVALID_SESSION_ID`` (401)        ask ``refresh()`` for a new access token once, rebuild
                                      the client and repeat; then `NotSignedIn`
  anything else                       `error_for` (the one translation table)
  ==================================  =====================================================

  A write that is not idempotent (a create) is retried only when it cannot have been applied:
  a refused limit, a 503, an expired session, or a connection that was never made. Otherwise
  it fails with `Unavailable` and the caller's own idempotency (message ids) decides.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from ..errors import (
    Conflict,
    CrmError,
    NotFound,
    NotSignedIn,
    RateLimited,
    Rejected,
    Unavailable,
)
from ..retry import RetryPolicy as SharedRetryPolicy
from ..retry import delay_seconds, never_sent

log = logging.getLogger(__name__)

Json = dict[str, Any]
T = TypeVar("T")

#: Salesforce's composite batch takes at most this many subrequests.
MAX_BATCH = 25
#: ``composite/sobjects`` creates at most this many records.
MAX_COLLECTION = 200
#: The only status with which Salesforce promises nothing was done (besides refusals).
NOT_APPLIED_STATUS = 503


@dataclass(frozen=True, slots=True)
class RetryPolicy(SharedRetryPolicy):
    """How often and how long to retry Salesforce requests; tests pass tiny delays."""

    #: What `RateLimited` tells callers to wait when Salesforce named no time.
    default_retry_after: float = 30.0


# --- the one translation table -----------------------------------------------------------------

#: Salesforce error code → our error, for answers that are not retried.
CODE_ERRORS: Mapping[str, type[CrmError]] = {
    "INVALID_SESSION_ID": NotSignedIn,
    "REQUEST_LIMIT_EXCEEDED": RateLimited,
    "NOT_FOUND": NotFound,
    "ENTITY_IS_DELETED": NotFound,
    "INVALID_CROSS_REFERENCE_KEY": NotFound,  # a lookup (RelatedToId, WhatId...) points nowhere
    "MALFORMED_ID": NotFound,  # an id of the wrong form: no such record
    "DUPLICATE_VALUE": Conflict,
    "DUPLICATES_DETECTED": Conflict,
}
#: HTTP status → our error, where the error code says nothing more.
STATUS_ERRORS: Mapping[int, type[CrmError]] = {
    401: NotSignedIn,
    404: NotFound,
    409: Conflict,
    412: Conflict,
}
_MESSAGES: Mapping[type[CrmError], str] = {
    NotSignedIn: "Salesforce did not accept the sign-in; sign in to Salesforce again.",
    NotFound: "Salesforce has no such record",
    Conflict: "Salesforce refused the change because it clashes with a record it holds",
    RateLimited: "Salesforce asked us to slow down (API request limit); try again later.",
    Unavailable: "Salesforce did not answer (HTTP {status}); try again in a moment.",
}


def error_fields(content: object) -> tuple[str, str]:
    """Return the first ``errorCode`` and ``message`` of Salesforce's error array."""
    first = content[0] if isinstance(content, list) and content else content
    if not isinstance(first, dict):
        return "", ""
    code, message = first.get("errorCode"), first.get("message")
    return (
        code if isinstance(code, str) else "",
        message if isinstance(message, str) else "",
    )


def error_for(status: int, content: object = None, retry_after: float = 30.0) -> CrmError:
    """Return our error for a Salesforce answer: its status and ``[{errorCode, message}]``."""
    code, message = error_fields(content)
    kind = CODE_ERRORS.get(code) or STATUS_ERRORS.get(status)
    if kind is None:
        kind = Unavailable if status >= 500 else Rejected
    if kind is Rejected:
        return Rejected(message or f"Salesforce refused the request (HTTP {status}).")
    if kind is RateLimited:
        return RateLimited(_MESSAGES[RateLimited], retry_after)
    if kind is Unavailable:
        return Unavailable(_MESSAGES[Unavailable].format(status=status))
    if kind is NotSignedIn:
        return NotSignedIn(_MESSAGES[NotSignedIn])
    return kind(f"{_MESSAGES[kind]}: {message}" if message else f"{_MESSAGES[kind]}.")


class Refused(Exception):
    """A Salesforce error answer: a failed request, or a failed subrequest of a batch."""

    def __init__(self, status: int, content: object) -> None:
        self.status, self.content = status, content
        self.code = error_fields(content)[0]
        super().__init__(f"HTTP {status} {self.code}")


def _first_error(errors: Sequence[tuple[int, object]]) -> CrmError:
    """Return our error for the first real failure of a collection (not a rolled-back one)."""
    problems = [
        problem
        for _, found in errors
        if isinstance(found, list)
        for problem in found
        if isinstance(problem, dict)
    ]
    real = [p for p in problems if p.get("statusCode") != "ALL_OR_NONE_OPERATION_ROLLED_BACK"]
    first = (real or problems or [{}])[0]
    return error_for(400, [{"errorCode": first.get("statusCode"), "message": first.get("message")}])


# --- the session simple-salesforce uses ---------------------------------------------------------


class OrgSession(requests.Session):
    """Send every request with our TLS verification and timeout; count and log it."""

    def __init__(self, verify: bool | str, timeout: float, count: Callable[[], None]) -> None:
        super().__init__()
        self._verify = verify
        self._timeout = timeout
        self._count = count
        self._last = threading.local()

    # Takes what `requests.Session.request` takes; only verify, timeout and redirects are ours.
    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs["verify"] = self._verify
        kwargs.setdefault("timeout", self._timeout)
        kwargs["allow_redirects"] = False
        self._last.retry_after = None
        self._count()
        started = time.monotonic()
        response = super().request(method, url, *args, **kwargs)
        self._last.retry_after = response.headers.get("Retry-After")
        log.debug(
            "Salesforce %s %s: %d in %.0f ms",
            method,
            urlsplit(url).path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    def last_retry_after(self) -> float | None:
        """Return the ``Retry-After`` of this thread's last answer, if it had one."""
        return delay_seconds(getattr(self._last, "retry_after", None))


# --- the transport -----------------------------------------------------------------------------


class Transport:
    """Send requests to one org's REST API through simple-salesforce; JSON or our errors."""

    def __init__(
        self,
        instance_url: str,
        access_token: str,
        refresh: Callable[[], str] | None,
        *,
        version: str,
        verify: bool | str,
        timeout: float,
        retry: RetryPolicy,
        count: Callable[[], None],
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.version = version
        self._refresh = refresh
        self._retry = retry
        self._session = OrgSession(verify, timeout, count)
        self._renewing = threading.Lock()
        self._client = self._build(access_token)

    def _build(self, access_token: str) -> Salesforce:
        return Salesforce(
            instance_url=self.instance_url,
            session_id=access_token,
            version=self.version,
            session=self._session,
            object_pairs_hook=dict,
        )

    @property
    def api_base(self) -> str:
        """The REST base, ``/services/data/vXX.X/``, as an instance-relative path."""
        return f"/services/data/v{self.version}/"

    def close(self) -> None:
        self._session.close()

    # --- reads ---------------------------------------------------------------------------------

    def query(self, soqls: Sequence[str]) -> list[Json]:
        """Run SOQL queries in one round trip (one GET, else a batch); all their records."""
        if len(soqls) == 1:
            soql = soqls[0]
            page = self.call(lambda client: client.query(soql), "GET query")
            return self.records(page)
        answers = self.read_batch([query_url(self.version, soql) for soql in soqls])
        return [row for rows in answers for row in rows]

    def read_batch(
        self, urls: Sequence[str], *, tolerate: Collection[str] = ()
    ) -> list[list[Json]]:
        """GET every URL (``vXX.X/query/?q=...``) in composite batches; records, in order.

        A subrequest refused with an error code in ``tolerate`` answers no records.
        """
        answers: list[Json] = []
        for start in range(0, len(urls), MAX_BATCH):
            chunk = list(urls[start : start + MAX_BATCH])
            answers += self.call(
                partial(_batch, urls=chunk, tolerate=tolerate), "POST composite/batch"
            )
        return [self.records(answer) for answer in answers]

    def records(self, page: Json) -> list[Json]:
        """Return a query or search answer's records, fetching the query's further pages."""
        if "searchRecords" in page:
            return list(page.get("searchRecords") or [])
        found = list(page.get("records") or [])
        while not page.get("done", True) and isinstance(page.get("nextRecordsUrl"), str):
            link = page["nextRecordsUrl"]
            if not link.startswith(self.api_base):  # the token is for this org only
                raise Unavailable("Salesforce sent a next page elsewhere; check the org.")
            page = self.call(partial(_query_more, url=link), "GET query (next page)")
            found += page.get("records") or []
        return found

    # --- writes --------------------------------------------------------------------------------

    def create(self, sobject: str, body: Json) -> str:
        """Create one record and return its id."""
        answer = self.call(
            partial(_post, path=f"sobjects/{sobject}/", body=body),
            f"POST sobjects/{sobject}",
            idempotent=False,
        )
        record_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(record_id, str) or not record_id:
            raise Unavailable("Salesforce answered the create in a form we cannot read.")
        return record_id

    def create_records(self, items: Sequence[Json], *, all_or_none: bool = False) -> list[int]:
        """Create records of any objects (``attributes.type``) with ``composite/sobjects``.

        Return the positions of the records that failed; with ``all_or_none`` nothing is kept
        when one fails, and its error is raised instead.
        """
        failed: list[int] = []
        for start in range(0, len(items), MAX_COLLECTION):
            chunk = list(items[start : start + MAX_COLLECTION])
            body = {"allOrNone": all_or_none, "records": chunk}
            answer = self.call(
                partial(_post, path="composite/sobjects", body=body),
                "POST composite/sobjects",
                idempotent=False,
            )
            if not isinstance(answer, list) or len(answer) != len(chunk):
                raise Unavailable("Salesforce answered the collection in a form we cannot read.")
            errors = [
                (start + n, result.get("errors") or [])
                for n, result in enumerate(answer)
                if not (isinstance(result, dict) and result.get("success"))
            ]
            if errors and all_or_none:
                raise _first_error(errors)
            failed += [position for position, _ in errors]
        return failed

    def delete(self, sobject: str, record_id: str) -> None:
        """Delete one record."""
        self.call(
            lambda client: client.restful(
                f"sobjects/{sobject}/{quote(record_id, safe='')}", method="DELETE"
            ),
            f"DELETE sobjects/{sobject}",
        )

    # --- one call, with retries ----------------------------------------------------------------

    def call(self, action: Callable[[Salesforce], T], what: str, *, idempotent: bool = True) -> T:
        """Run ``action`` on the client, retrying by the policy; return its answer or raise."""
        refreshed, attempt = False, 0
        while True:
            attempt += 1
            client = self._client
            try:
                try:
                    return action(client)
                except SalesforceError as error:
                    raise Refused(error.status, error.content) from error
            except Refused as refused:
                if refused.status == 401 and not refreshed:
                    self._renew(client)
                    refreshed, attempt = True, attempt - 1
                    continue
                if refused.code == "REQUEST_LIMIT_EXCEEDED":
                    told = self._session.last_retry_after()
                    wait = told if told is not None else self._retry.backoff(attempt)
                    if self._retry.may_wait(attempt, wait):
                        log.info("Salesforce %s: request limit (try %d)", what, attempt)
                        self._retry.sleep(wait)
                        continue
                    raise error_for(
                        refused.status,
                        refused.content,
                        told if told is not None else self._retry.default_retry_after,
                    ) from refused
                if (
                    refused.status >= 500
                    and attempt < self._retry.attempts
                    and (idempotent or refused.status == NOT_APPLIED_STATUS)
                ):
                    log.info("Salesforce %s: HTTP %d (try %d)", what, refused.status, attempt)
                    self._retry.sleep(self._retry.backoff(attempt))
                    continue
                raise error_for(refused.status, refused.content) from refused
            except requests.exceptions.SSLError as error:
                log.warning("Salesforce %s: TLS failed", what)
                raise Unavailable(
                    "Could not open a secure connection to Salesforce (certificate problem)."
                ) from error
            except (requests.ConnectionError, requests.Timeout) as error:
                log.info("Salesforce %s: %s (try %d)", what, type(error).__name__, attempt)
                if attempt < self._retry.attempts and (idempotent or never_sent(error)):
                    self._retry.sleep(self._retry.backoff(attempt))
                    continue
                raise Unavailable(
                    "Could not reach Salesforce; check the connection and try again."
                ) from error
            except ValueError as error:  # a body that is not JSON
                raise Unavailable(
                    "Salesforce answered in a form we cannot read; try again."
                ) from error

    def _renew(self, stale: Salesforce) -> None:
        """Get a new access token once and rebuild the client (unless another thread did)."""
        if self._refresh is None:
            raise NotSignedIn(_MESSAGES[NotSignedIn])
        with self._renewing:
            if self._client is not stale:
                return
            try:
                token = self._refresh()
            except CrmError:
                raise
            except Exception as error:  # the app's OAuth client; its errors are not ours
                raise NotSignedIn(
                    "Could not renew the Salesforce session; sign in again."
                ) from error
            self._client = self._build(token)


def _post(client: Salesforce, *, path: str, body: object) -> Any:
    return client.restful(path, method="POST", json=body)


def _query_more(client: Salesforce, *, url: str) -> Any:
    return client.query_more(url, identifier_is_url=True)


def _batch(client: Salesforce, *, urls: Sequence[str], tolerate: Collection[str]) -> list[Json]:
    """POST one composite batch of GETs; raise `Refused` for the first failed subrequest."""
    body = {"batchRequests": [{"method": "GET", "url": url} for url in urls], "haltOnError": False}
    answer = client.restful("composite/batch", method="POST", json=body)
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or len(results) != len(urls):
        raise Unavailable("Salesforce answered only part of the batch; try again.")
    pages: list[Json] = []
    for result in results:
        status = int(result.get("statusCode") or 0)
        if not 200 <= status < 300:
            if error_fields(result.get("result"))[0] in tolerate:
                pages.append({})
                continue
            raise Refused(status, result.get("result"))
        page = result.get("result")
        pages.append(page if isinstance(page, dict) else {})
    return pages


# --- URLs of subrequests -----------------------------------------------------------------------


def query_url(version: str, soql: str) -> str:
    """Return the batch subrequest URL of a SOQL query (every reserved character encoded)."""
    return f"v{version}/query/?q={quote(soql, safe='')}"


def search_url(version: str, parameters: Sequence[tuple[str, str]]) -> str:
    """Return the URL of a ``parameterizedSearch`` (relative to ``/services/data/``)."""
    return f"v{version}/parameterizedSearch/?{urlencode(parameters, quote_via=quote, safe=',')}"
