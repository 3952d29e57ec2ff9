"""HTTP to one Dataverse environment: headers, tokens, retries, and Dataverse's errors as ours.

Features
--------
* One `requests.Session` per adapter (connection reuse); ``verify`` is passed with every request,
  never set on the session, because ``REQUESTS_CA_BUNDLE`` overrides ``session.verify``.
* The headers of the contract on every request: bearer token, ``Accept``, ``OData-MaxVersion``,
  ``OData-Version``, ``If-None-Match: null``; ``Prefer`` with the FormattedValue (and
  lookuplogicalname) annotations on reads; ``Content-Type`` with a body.
* Faults, by `RetryPolicy`:

  ====================================  =================================================
  429 with ``Retry-After``              wait that long and try again, up to ``attempts``;
                                        then (or when asked to wait longer than
                                        ``max_retry_after``) `RateLimited`
  5xx, dropped connection, timeout      exponential backoff with jitter, then `Unavailable`
  401                                   ask ``token(True)`` for a fresh token once and
                                        repeat, then `NotSignedIn`
  other statuses                        `error_for` (the one translation table)
  ====================================  =================================================

  A write that is not idempotent (creating a record) is retried only when it cannot have been
  applied: a 429 (service protection refuses before doing anything) or a connection that was
  never made. A 5xx, even a 503, may come after Dataverse committed (a gateway timing out), so
  it fails with `Unavailable` and the caller's own idempotency decides: a save job is retried
  later, and the adapter's check by message id finds what the first try wrote.
* ``count()`` is called once per HTTP request sent, retries included: the adapter's
  ``round_trips``.
* Never logs tokens, query strings or bodies: method, path, status and time only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from .. import bearer_http
from ..bearer_http import Service, error_fields, maybe_json
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
from ..retry import retry_after_seconds
from . import batch

log = logging.getLogger(__name__)

API_PATH = "/api/data/v9.2/"
#: Sent with every request.
BASE_HEADERS: Mapping[str, str] = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "If-None-Match": "null",
}
#: ``Prefer`` of every read: lookups and option sets come back with their display names, and
#: lookups with the table they point to (a contact's parent customer may be a contact).
READ_PREFER = (
    'odata.include-annotations="OData.Community.Display.V1.FormattedValue,'
    'Microsoft.Dynamics.CRM.lookuplogicalname"'
)
JSON_TYPE = "application/json; charset=utf-8"
#: Dataverse's longest GET URL is 32 KB; longer reads travel inside a ``$batch`` body.
MAX_URL_LENGTH = 16_000

Json = dict[str, Any]
TokenSource = Callable[[bool], str]


@dataclass(frozen=True, slots=True)
class RetryPolicy(SharedRetryPolicy):
    """How often and how long to retry Dataverse requests; tests pass tiny delays."""

    #: Used when a 429 carries no (readable) ``Retry-After``.
    default_retry_after: float = 5.0


# --- the one translation table -----------------------------------------------------------------

#: Dataverse status → our error, for statuses that are not retried (401, 429 and 5xx are).
STATUS_ERRORS: Mapping[int, type[CrmError]] = {
    401: NotSignedIn,
    404: NotFound,
    409: Conflict,
    412: Conflict,
    429: RateLimited,
}
#: Dataverse error code → our error, where the code says more than the status.
CODE_ERRORS: Mapping[str, type[CrmError]] = {
    "0x80040217": NotFound,  # record (or bind target) does not exist
    "0x80040237": Conflict,  # duplicate record
    "0x80072322": RateLimited,  # service protection: requests
    "0x80072321": RateLimited,  # service protection: execution time
    "0x80072326": RateLimited,  # service protection: concurrent requests
}
_MESSAGES: Mapping[type[CrmError], str] = {
    NotSignedIn: "Dynamics 365 did not accept the sign-in; sign in again.",
    NotFound: "Dynamics 365 has no such record",
    Conflict: "Dynamics 365 refused the change because it clashes with a record it holds",
    RateLimited: "Dynamics 365 asked us to slow down; try again in {seconds:g} seconds.",
    Unavailable: "Dynamics 365 did not answer (HTTP {status}); try again in a moment.",
}


def error_for(status: int, payload: object = None, retry_after: float = 1.0) -> CrmError:
    """Return our error for a Dataverse answer: its status and ``{"error": {code, message}}``."""
    code, message = error_fields(payload)
    kind = CODE_ERRORS.get(code.lower()) or STATUS_ERRORS.get(status)
    if kind is None:
        kind = Unavailable if status >= 500 else Rejected
    if kind is Rejected:
        return Rejected(message or f"Dynamics 365 refused the request (HTTP {status}).")
    if kind is RateLimited:
        return RateLimited(_MESSAGES[RateLimited].format(seconds=retry_after), retry_after)
    if kind is Unavailable:
        return Unavailable(_MESSAGES[Unavailable].format(status=status))
    if kind is NotSignedIn:
        return NotSignedIn(_MESSAGES[NotSignedIn])
    return kind(f"{_MESSAGES[kind]}: {message}" if message else f"{_MESSAGES[kind]}.")


#: How the shared request loop names Dataverse (`crm_adapters.bearer_http`).
DATAVERSE = Service(
    log_name="Dataverse",
    label="Dynamics 365",
    check="the environment",
    error_for=error_for,
    no_token="Could not get a Dynamics 365 token; sign in again.",
)


# --- the transport -----------------------------------------------------------------------------


class Transport:
    """Send requests to one environment's Web API and return JSON, or raise our errors."""

    def __init__(
        self,
        api_url: str,
        token: TokenSource,
        *,
        verify: bool | str,
        timeout: float,
        retry: RetryPolicy,
        session: requests.Session | None,
        count: Callable[[], None],
    ) -> None:
        self.base = api_url.rstrip("/") + API_PATH
        self._token = token
        self._verify = verify
        self._timeout = timeout
        self._retry = retry
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()
        self._count = count

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    # --- JSON reads and writes ---------------------------------------------------------------

    def get(self, resource: str) -> Json:
        """GET ``resource`` (relative to the API, or a nextLink) and return its JSON."""
        if len(self.base) + len(resource) > MAX_URL_LENGTH and not resource.startswith("http"):
            return self.read_batch([resource])[0]
        response = self.send("GET", resource, headers={"Prefer": READ_PREFER})
        return _json(response)

    def create(self, resource: str, body: Json) -> Json:
        """POST a new record (deep insert allowed) and return it as Dataverse stored it."""
        response = self.send(
            "POST",
            resource,
            json_body=body,
            headers={"Prefer": f"return=representation,{READ_PREFER}"},
            idempotent=False,
        )
        return _json(response)

    def read_batch(self, resources: Sequence[str]) -> list[Json]:
        """GET every resource in one ``$batch`` and return their JSON in order."""
        boundary, body = batch.build(
            [self.base + resource for resource in resources], {"Prefer": READ_PREFER}
        )
        response = self.send(
            "POST",
            "$batch",
            data=body,
            headers={"Content-Type": f'multipart/mixed; boundary="{boundary}"'},
        )
        try:
            answers = batch.parse(response.headers.get("Content-Type", ""), response.content)
        except ValueError as error:
            raise Unavailable(
                "Dynamics 365 answered the batch in a form we cannot read; try again."
            ) from error
        for answer in answers:
            if not 200 <= answer.status < 300:
                raise error_for(
                    answer.status,
                    answer.json(),
                    retry_after_seconds(
                        answer.headers.get("retry-after"), self._retry.default_retry_after
                    ),
                )
        if len(answers) != len(resources):
            raise Unavailable("Dynamics 365 answered only part of the batch; try again.")
        return [_payload(answer.json()) for answer in answers]

    def rows(self, payload: Json) -> list[Json]:
        """Return a collection's rows, following ``@odata.nextLink`` to the last page."""
        found = list(payload.get("value") or [])
        link = payload.get("@odata.nextLink")
        while isinstance(link, str) and link:
            if not link.startswith(self.base):  # the token is for this environment only
                raise Unavailable("Dynamics 365 sent a next page elsewhere; check the environment.")
            page = self.get(link)
            found += page.get("value") or []
            link = page.get("@odata.nextLink")
        return found

    # --- one request, with retries -------------------------------------------------------------

    def send(
        self,
        method: str,
        resource: str,
        *,
        json_body: Json | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        """Send one request, retrying by the policy; return a 2xx response or raise."""
        url = resource if resource.startswith("https://") else self.base + resource
        all_headers = {**BASE_HEADERS, **(headers or {})}
        if json_body is not None:
            all_headers["Content-Type"] = JSON_TYPE
        return bearer_http.send(
            self._session,
            DATAVERSE,
            method,
            url,
            token=self._token,
            retry=self._retry,
            timeout=self._timeout,
            verify=self._verify,
            count=self._count,
            headers=all_headers,
            idempotent=idempotent,
            json=json_body,
            data=data,
        )


def _json(response: requests.Response) -> Json:
    if response.status_code == 204 or not response.content:
        return {}
    return _payload(maybe_json(response))


def _payload(value: object) -> Json:
    if not isinstance(value, dict):
        raise Unavailable("Dynamics 365 answered in a form we cannot read; try again.")
    return value
