"""Global Discovery: the Dynamics 365 environments a rep may connect to.

Features
--------
- ``discover_environments(token)`` GETs ``{base_url}/api/discovery/v2.0/Instances`` with the
  rep's token for Global Discovery (``discovery_scope(GLOBAL_DISCOVERY_URL)``, obtained on behalf
  of the rep) and returns them as `Environment` values sorted by name.
- Only what discovery returned is ever called: an instance whose ``Url`` or ``ApiUrl`` is not an
  absolute https URL is skipped, so the backend never talks to a host a payload invented.
- Disabled instances (``State`` 1) are skipped: the Web API refuses every call to them, and an
  `Environment` has no state to show, so offering one would only lead the rep into errors.

Production or sandbox
---------------------
From ``OrganizationType`` (an int or its name; Microsoft's own model declares it a string):
production are 0 Customer (the primary instance), 4 Secondary ("Production instances"),
12 Default (the tenant's default environment) and 15 Teams (Dataverse for Teams, live data);
everything else is a sandbox: 5 CustomerTest and 6 CustomerFreeTest (sandboxes), 7 Preview,
9 TestDrive, 11 EmailTrial, 13 Developer, 14 Trial, Microsoft's internal types and any type not
known yet. An environment is called production only when discovery says so.

Errors
------
401 and 403: `NotSignedIn`; 429: `RateLimited` (``Retry-After`` seconds); 5xx, a dropped
connection or a timeout: one retry after a short pause, then `Unavailable`; a body that is not
the OData collection: `Unavailable`; any other status: `Rejected`.

Configuration
-------------
``verify`` (True, or a CA bundle path) is passed with each request, never set on the session:
``REQUESTS_CA_BUNDLE`` overrides ``session.verify`` but not a per-request ``verify``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from crm_adapters.errors import NotSignedIn, RateLimited, Rejected, Unavailable
from crm_adapters.models import Environment, EnvironmentKind
from crm_adapters.retry import retry_after_seconds

log = logging.getLogger(__name__)

GLOBAL_DISCOVERY_URL = "https://globaldisco.crm.dynamics.com"
INSTANCES_PATH = "/api/discovery/v2.0/Instances"
#: The Instance properties read; asked for with ``$select``.
SELECTED_FIELDS = ("Id", "FriendlyName", "UniqueName", "Url", "ApiUrl", "State", "OrganizationType")

#: OrganizationType values (by number and by name) of environments that hold live data.
PRODUCTION_TYPES: Mapping[int, str] = {
    0: "Customer",
    4: "Secondary",
    12: "Default",
    15: "Teams",
}
_PRODUCTION_NAMES = frozenset(name.lower() for name in PRODUCTION_TYPES.values())
_DISABLED = 1
_RETRY_PAUSE_SECONDS = 0.2
_DEFAULT_RETRY_AFTER = 5.0


def discovery_scope(url: str = GLOBAL_DISCOVERY_URL) -> str:
    """Return the scope to ask Entra for to call Global Discovery at ``url``."""
    return f"{url.rstrip('/')}/.default"


def discover_environments(
    access_token: str,
    *,
    base_url: str = GLOBAL_DISCOVERY_URL,
    verify: bool | str = True,
    session: requests.Session | None = None,
    timeout: float = 10,
) -> list[Environment]:
    """Return the Dynamics environments the token's user is enabled in, sorted by name."""
    if urlsplit(base_url).scheme != "https":
        raise ValueError(f"Global Discovery must be reached over https, not {base_url!r}.")
    own_session = session is None
    http = requests.Session() if session is None else session
    try:
        payload = _get_instances(http, base_url, access_token, verify, timeout)
    finally:
        if own_session:
            http.close()
    environments = [env for item in payload if (env := _environment(item)) is not None]
    return sorted(environments, key=lambda env: (env.name.casefold(), env.id))


def _get_instances(
    http: requests.Session, base_url: str, access_token: str, verify: bool | str, timeout: float
) -> list[Any]:
    """GET the Instances collection, retrying once on a server or connection failure."""
    url = f"{base_url.rstrip('/')}{INSTANCES_PATH}"
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json",
        "OData-MaxVersion": "4.0",
        "OData-Version": "4.0",
    }
    params = {"$select": ",".join(SELECTED_FIELDS)}
    for attempt in (1, 2):
        try:
            with http.get(
                url, headers=headers, params=params, verify=verify, timeout=timeout
            ) as response:
                status = response.status_code
                if status < 500:
                    return _instances_from(response)
                reason = f"HTTP {status}"
        except requests.Timeout:
            reason = "timed out"
        except requests.RequestException as error:  # refused, dropped, TLS failure
            reason = f"connection failed ({type(error).__name__})"
        log.warning("Global Discovery attempt %d failed: %s", attempt, reason)
        if attempt == 1:
            time.sleep(_RETRY_PAUSE_SECONDS)
    raise Unavailable(f"Dynamics 365 did not list your environments ({reason}). Try again soon.")


def _instances_from(response: requests.Response) -> list[Any]:
    """Return the ``value`` list of a < 500 response, or raise the error it stands for."""
    status = response.status_code
    if status in (401, 403):
        raise NotSignedIn("Sign in to Dynamics 365 again to see your environments.")
    if status == 429:
        raise RateLimited(
            "Dynamics 365 asked us to slow down; your environments will load shortly.",
            retry_after=retry_after_seconds(
                response.headers.get("Retry-After"), _DEFAULT_RETRY_AFTER
            ),
        )
    if status >= 400:
        raise Rejected(f"Dynamics 365 refused to list your environments (HTTP {status}).")
    try:
        body = response.json()
    except ValueError:
        body = None
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, list):
        raise Unavailable("Dynamics 365 answered the environment list with something else.")
    return value


def _environment(item: object) -> Environment | None:
    """Return the `Environment` of one Instance, or None to skip it (and say why in the log)."""
    if not isinstance(item, dict):
        log.warning("Skipping a Global Discovery instance that is not an object.")
        return None
    instance_id, name = item.get("Id"), item.get("FriendlyName") or item.get("UniqueName")
    url, api_url = _https_url(item.get("Url")), _https_url(item.get("ApiUrl"))
    if not isinstance(instance_id, str) or not instance_id or not isinstance(name, str):
        log.warning("Skipping a Global Discovery instance without an Id or a name.")
        return None
    if url is None or api_url is None:
        log.warning("Skipping instance %s: its Url or ApiUrl is not an https URL.", instance_id)
        return None
    if item.get("State") == _DISABLED:
        log.info("Skipping instance %s: it is disabled.", instance_id)
        return None
    return Environment(
        id=instance_id,
        name=name,
        kind=environment_kind(item.get("OrganizationType")),
        url=url,
        crm="dynamics",
        api_url=api_url,
    )


def environment_kind(organization_type: object) -> EnvironmentKind:
    """Return "production" for the OrganizationTypes that hold live data, else "sandbox"."""
    if isinstance(organization_type, bool):
        return "sandbox"
    if isinstance(organization_type, int):
        return "production" if organization_type in PRODUCTION_TYPES else "sandbox"
    if isinstance(organization_type, str):
        text = organization_type.strip()
        if text.isdigit():
            return "production" if int(text) in PRODUCTION_TYPES else "sandbox"
        return "production" if text.lower() in _PRODUCTION_NAMES else "sandbox"
    return "sandbox"


def _https_url(value: object) -> str | None:
    """Return ``value`` without a trailing slash if it is an absolute https URL, else None."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return None
    return value.strip().rstrip("/")
