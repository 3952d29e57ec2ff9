"""One HTTP request to a Microsoft API with a bearer token, retried by the policy.

Dataverse and Microsoft Graph answer faults the same way, so the Dynamics transport and the
Graph mailbox share this loop and differ only in names and in their error tables:

====================================  =====================================================
answer                                what happens
====================================  =====================================================
2xx                                   returned
401                                   ``bearer(True)`` (a fresh token) once, then repeated
429                                   repeated after ``Retry-After`` while the policy allows,
                                      then the service's `RateLimited`
5xx                                   repeated with backoff, **only if** the request is
                                      idempotent (a create answered 5xx may have been
                                      written), then the service's error
dropped connection, timeout           repeated with backoff if idempotent or never sent
TLS failure                           `Unavailable` at once (retrying changes nothing)
3xx                                   `Unavailable` (a redirect means a wrong URL)
====================================  =====================================================

Logs method, path, status and time only: never a token, a query string or a body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from .errors import CrmError, NotSignedIn, Unavailable
from .retry import RetryPolicy, never_sent, retry_after_seconds

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Service:
    """How a service is named: in logs (``log_name``) and to people (``label``)."""

    log_name: str  # "Dataverse", "Graph"
    label: str  # "Dynamics 365", "Microsoft 365"
    #: What to check when it redirects: "the environment", "GRAPH_URL".
    check: str
    #: The status and JSON body of a refusal -> our error (429 also gets the wait).
    error_for: Callable[[int, object, float], CrmError]
    #: What a rep is told when no token can be had.
    no_token: str


def maybe_json(response: requests.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def error_fields(payload: object) -> tuple[str, str]:
    """``code`` and ``message`` of an OData error body (``{"error": {"code", "message"}}``).

    Both services write their faults this way; either is "" when absent or not a string.
    """
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return "", ""
    code, message = error.get("code"), error.get("message")
    return (code if isinstance(code, str) else "", message if isinstance(message, str) else "")


def bearer_token(token: Callable[[bool], str], force_refresh: bool, no_token: str) -> str:
    """Ask the app's token source; its own failures (msal's) become `NotSignedIn`."""
    try:
        return token(force_refresh)
    except CrmError:
        raise
    except Exception as error:  # the token source is the app's (msal); its errors are not ours
        raise NotSignedIn(no_token) from error


def send(
    session: requests.Session,
    service: Service,
    method: str,
    url: str,
    *,
    token: Callable[[bool], str],
    retry: RetryPolicy,
    timeout: float,
    verify: str | bool,
    count: Callable[[], None],
    headers: Mapping[str, str],
    idempotent: bool = True,
    **body: Any,
) -> requests.Response:
    """Send one request, retrying by the policy; return a 2xx response or raise our error.

    ``body`` goes to ``requests`` as is (``params``, ``json``, ``data``).
    """
    path = urlsplit(url).path
    bearer, refreshed, attempt = bearer_token(token, False, service.no_token), False, 0
    while True:
        attempt += 1
        started = time.monotonic()
        try:
            count()
            response = session.request(
                method,
                url,
                headers={**headers, "Authorization": f"Bearer {bearer}"},
                timeout=timeout,
                verify=verify,
                allow_redirects=False,
                **body,
            )
        except requests.exceptions.SSLError as error:
            log.warning("%s %s %s: TLS failed", service.log_name, method, path)
            raise Unavailable(
                f"Could not open a secure connection to {service.label} (certificate problem)."
            ) from error
        except (requests.ConnectionError, requests.Timeout) as error:
            log.info(
                "%s %s %s: %s (try %d)",
                service.log_name,
                method,
                path,
                type(error).__name__,
                attempt,
            )
            if attempt < retry.attempts and (idempotent or never_sent(error)):
                retry.sleep(retry.backoff(attempt))
                continue
            raise Unavailable(
                f"Could not reach {service.label}; check the connection and try again."
            ) from error
        status = response.status_code
        log.debug(
            "%s %s %s: %d in %.0f ms",
            service.log_name,
            method,
            path,
            status,
            (time.monotonic() - started) * 1000,
        )
        if 200 <= status < 300:
            return response
        if status == 401 and not refreshed:
            response.close()
            bearer, refreshed = bearer_token(token, True, service.no_token), True
            attempt -= 1
            continue
        if status == 429:
            wait = retry_after_seconds(
                response.headers.get("Retry-After"), retry.default_retry_after
            )
            if retry.may_wait(attempt, wait):
                response.close()
                retry.sleep(wait)
                continue
            raise service.error_for(429, maybe_json(response), wait)
        if status >= 500 and attempt < retry.attempts and idempotent:
            response.close()
            retry.sleep(retry.backoff(attempt))
            continue
        if 300 <= status < 400:
            raise Unavailable(
                f"{service.label} redirected the request (HTTP {status}); check {service.check}."
            )
        payload = maybe_json(response)
        log.info("%s %s %s: %d", service.log_name, method, path, status)
        raise service.error_for(status, payload, 1.0)
