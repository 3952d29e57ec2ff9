"""Loopback Dataverse Global Discovery Service: which Dynamics 365 instances a user may open.

Endpoints
---------
GET /api/discovery/v2.0/Instances
    ``{"@odata.context": "{url}/api/discovery/v2.0/$metadata#Instances", "value": [Instance]}``:
    the instances of the token's tenant the token's user is enabled in, in the order they were
    added. ``$select=Id,Url`` keeps only those properties (an unknown one is a 400, as OData
    answers); ``$filter`` is not emulated (400 says so), because clients should filter on
    their side.
GET /api/discovery/v2.0/Instances(<guid>) and /Instances(UniqueName='name')
    one instance (``@odata.context`` ``...#Instances/$entity``), 404 if the user cannot see it.

An Instance has Microsoft's fields: ``Id``, ``UniqueName``, ``UrlName``, ``FriendlyName``,
``State`` (0 enabled, 1 disabled), ``Version``, ``Url``, ``ApiUrl``, ``LastUpdated``, ``Region``,
``OrganizationType`` (an int: 0 Customer, 4 Secondary, 5 CustomerTest, 6 CustomerFreeTest, ...),
``TenantId``, ``EnvironmentId``, ``Purpose``, ``TrialExpirationDate``, ``StatusMessage``.

Authentication
--------------
Every request needs ``Authorization: Bearer <token>``. With an ``entra`` emulator the token is
checked by ``entra.verify_token(token, audience=self.url)`` (signature, audience, expiry), as
the real service checks Entra's signature for ``https://globaldisco.crm.dynamics.com``; without
one the claims are read unchecked (for running by hand). A missing or bad token gets 401 with a
``WWW-Authenticate: Bearer`` challenge naming the authority and this resource.

Test controls
-------------
``add_instance(friendly_name, url, api_url, organization_type=0, state=0, users=None,
tenant_id=...)`` (``users=None``: everyone in the tenant; else a set of oids);
``remove_instances()``; ``fail_next(status, times=1, retry_after=None)`` makes the next requests
answer 429 or 5xx, ``drop_next(times=1)`` closes them unanswered (both through the loopback
base's ``inject``). ``requests_served`` counts calls per ``"METHOD /path"``.

Run by hand: ``python -m tests.emulators.discovery`` starts it with an Entra emulator, two
sample instances, and prints a token that lists them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import re
import signal
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import jwt
import trustme

from .entra import EntraEmulator
from .loopback import DROP, LoopbackServer, Reply, Request, Route

INSTANCES_PATH = "/api/discovery/v2.0/Instances"
DEFAULT_TENANT = "11111111-1111-4111-8111-111111111111"
INSTANCE_FIELDS = (
    "Id",
    "UniqueName",
    "UrlName",
    "FriendlyName",
    "State",
    "Version",
    "Url",
    "ApiUrl",
    "LastUpdated",
    "Region",
    "OrganizationType",
    "TenantId",
    "EnvironmentId",
    "Purpose",
    "TrialExpirationDate",
    "StatusMessage",
)
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_UNIQUE_NAME_KEY = re.compile(r"UniqueName='((?:[^']|'')*)'")


@dataclass(frozen=True, slots=True)
class Instance:
    """One Dataverse organization as Global Discovery lists it, and who may see it."""

    fields: dict[str, Any]
    tenant_id: str
    users: frozenset[str] | None = None

    def visible_to(self, tenant_id: str, oid: str) -> bool:
        """Whether the user ``oid`` of ``tenant_id`` is enabled in this instance."""
        return tenant_id == self.tenant_id and (self.users is None or oid in self.users)


class GlobalDiscoveryEmulator(LoopbackServer):
    """Global Discovery on 127.0.0.1: the Instances a bearer token's user may open."""

    name = "Global Discovery emulator"
    ROUTES = (
        Route("GET", INSTANCES_PATH, "instances"),
        Route("GET", INSTANCES_PATH + "({key})", "instance"),
    )

    def __init__(
        self, *, entra: EntraEmulator | None = None, port: int = 0, ca: trustme.CA | None = None
    ) -> None:
        super().__init__(port=port, ca=ca)
        self.entra = entra
        self._state_lock = threading.Lock()
        self._instances: list[Instance] = []

    # -- test controls ------------------------------------------------------------------------

    def add_instance(
        self,
        friendly_name: str,
        url: str,
        api_url: str,
        *,
        organization_type: int | str = 0,
        state: int = 0,
        users: Iterable[str] | None = None,
        tenant_id: str = DEFAULT_TENANT,
        unique_name: str | None = None,
        region: str = "NA",
        version: str = "9.2.24101.00175",
        instance_id: str | None = None,
        purpose: str = "",
        trial_expiration_date: str | None = None,
    ) -> dict[str, Any]:
        """List an instance for ``users`` (oids; None: everyone) of ``tenant_id``; return it."""
        host = urlsplit(url).hostname or ""
        url_name = host.split(".")[0] if "." in host else host
        fields: dict[str, Any] = {
            "Id": instance_id or str(uuid.uuid4()),
            "UniqueName": unique_name or f"org{uuid.uuid4().hex[:8]}",
            "UrlName": url_name,
            "FriendlyName": friendly_name,
            "State": state,
            "Version": version,
            "Url": url,
            "ApiUrl": api_url,
            "LastUpdated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "Region": region,
            "OrganizationType": organization_type,
            "TenantId": tenant_id,
            "EnvironmentId": str(uuid.uuid4()),
            "Purpose": purpose,
            "TrialExpirationDate": trial_expiration_date,
            "StatusMessage": "",
        }
        instance = Instance(fields, tenant_id, None if users is None else frozenset(users))
        with self._state_lock:
            self._instances.append(instance)
        return dict(fields)

    def remove_instances(self) -> None:
        """Forget every instance."""
        with self._state_lock:
            self._instances.clear()

    def fail_next(
        self, status: int = 503, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Make the next ``times`` Instances requests answer ``status`` (429 or 5xx, with
        ``Retry-After`` if given) before the token is even looked at."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        if status == 429:
            code, message = "0x80072322", "Number of requests exceeded the limit."
        else:
            code, message = "0x80040216", "The service is temporarily unavailable."
        self.inject(_odata_error(status, code, message, headers), times=times, path=INSTANCES_PATH)

    def drop_next(self, *, times: int = 1) -> None:
        """Close the next ``times`` Instances connections without answering."""
        self.inject(DROP, times=times, path=INSTANCES_PATH)

    # -- endpoints ----------------------------------------------------------------------------

    def instances(self, request: Request) -> Reply:
        """List the instances the caller may see, in the token's tenant."""
        refusal, claims = self._admit(request)
        if refusal is not None:
            return refusal
        if "$filter" in request.query:
            return _odata_error(400, "0x80060888", "$filter is not emulated; filter client-side.")
        selected, error = _select(request)
        if error is not None:
            return error
        visible = self._visible(claims)
        return Reply(
            200,
            {
                "@odata.context": f"{self.url}/api/discovery/v2.0/$metadata#Instances",
                "value": [_project(instance.fields, selected) for instance in visible],
            },
            {"OData-Version": "4.0"},
        )

    def instance(self, request: Request, key: str) -> Reply:
        """Answer one instance by its Id or its UniqueName."""
        refusal, claims = self._admit(request)
        if refusal is not None:
            return refusal
        selected, error = _select(request)
        if error is not None:
            return error
        key = unquote(key)
        if _GUID.fullmatch(key):
            wanted = ("Id", key.lower())
        elif found := _UNIQUE_NAME_KEY.fullmatch(key):
            wanted = ("UniqueName", found.group(1).replace("''", "'"))
        else:
            return _odata_error(400, "0x80060888", f"Bad key segment '{key}'.")
        for instance in self._visible(claims):
            if str(instance.fields[wanted[0]]).lower() == wanted[1].lower():
                body = {
                    "@odata.context": f"{self.url}/api/discovery/v2.0/$metadata#Instances/$entity"
                }
                return Reply(
                    200, body | _project(instance.fields, selected), {"OData-Version": "4.0"}
                )
        return _odata_error(404, "0x80040217", f"Instance with key {key} not found.")

    def _admit(self, request: Request) -> tuple[Reply | None, dict[str, Any]]:
        """Check the bearer token; return (a 401 challenge or None, its claims)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self._challenge(), {}
        try:
            if self.entra is not None:
                claims = self.entra.verify_token(token.strip(), audience=self.url)
            else:
                claims = jwt.decode(token.strip(), options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return self._challenge('error="invalid_token"'), {}
        if not isinstance(claims.get("tid"), str) or not isinstance(claims.get("oid"), str):
            return self._challenge('error="invalid_token"'), {}
        return None, claims

    def _challenge(self, error: str = "") -> Reply:
        authority = (
            self.entra.url if self.entra is not None else "https://login.microsoftonline.com"
        )
        challenge = (
            f'Bearer authorization_uri="{authority}/common/oauth2/authorize",'
            f' resource_id="{self.url}"'
        )
        return Reply(
            401, None, {"WWW-Authenticate": f"{challenge}, {error}" if error else challenge}
        )

    def _visible(self, claims: dict[str, Any]) -> list[Instance]:
        with self._state_lock:
            instances = list(self._instances)
        return [i for i in instances if i.visible_to(claims["tid"], claims["oid"])]


def _select(request: Request) -> tuple[list[str] | None, Reply | None]:
    """Return the ``$select``-ed properties (None: all), or a 400 for an unknown one."""
    values = request.query.get("$select")
    if not values:
        return None, None
    selected = [name.strip() for name in values[-1].split(",") if name.strip()]
    for name in selected:
        if name not in INSTANCE_FIELDS:
            return None, _odata_error(
                400,
                "0x80060888",
                f"Could not find a property named '{name}' on type"
                " 'Microsoft.Xrm.Sdk.Discovery.Instance'.",
            )
    return selected, None


def _project(fields: dict[str, Any], selected: list[str] | None) -> dict[str, Any]:
    return dict(fields) if selected is None else {name: fields[name] for name in selected}


def _odata_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


def main(argv: Sequence[str] | None = None) -> None:
    """Run Global Discovery (and an Entra emulator for its tokens) until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators.discovery", description=main.__doc__
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    with EntraEmulator() as entra, GlobalDiscoveryEmulator(entra=entra, port=args.port) as disco:
        disco.add_instance(
            "Contoso", "https://contoso.crm.dynamics.com/", "https://contoso.api.crm.dynamics.com"
        )
        disco.add_instance(
            "Contoso (test)",
            "https://contoso-test.crm.dynamics.com/",
            "https://contoso-test.api.crm.dynamics.com",
            organization_type=5,
        )
        token = entra.issue_token(
            tenant_id=DEFAULT_TENANT,
            oid="22222222-2222-4222-8222-222222222222",
            audience=disco.url,
            scopes=("user_impersonation",),
        )
        print(f"Global Discovery: {disco.url}{INSTANCES_PATH}", flush=True)
        print(f"CA file:          {disco.ca_file}", flush=True)
        print(f"Entra emulator:   {entra.url} (CA file {entra.ca_file})", flush=True)
        print(f"Token:            {token}", flush=True)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
