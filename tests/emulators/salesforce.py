"""Loopback Salesforce: a real TLS REST API and OAuth login host, seeded from a sandbox CRM file.

Written to ``docs/salesforce-requests.md``, the contract the Salesforce adapter is written to.
One emulator is both the org's login host and its instance (``instance_url`` is its ``url``).

Endpoints (under ``/services/data/vXX.X/``, any version from 37.0)
-------------------------------------------------------------------
GET query/ ?q=              SOQL (the subset of `soql`), 2,000 records a page with
GET queryAll/ ?q=           ``nextRecordsUrl`` (see `salesforce_reads`); ``COUNT()``
GET query/<locator>         the next page
POST sobjects/<Type>/       create (see `salesforce_writes`): 201 ``{"id", "success", "errors"}``
GET sobjects/<Type>/<id>    one record (``?fields=`` to choose), 404 NOT_FOUND
PATCH / DELETE  ...<id>     204
GET sobjects/ , sobjects/<Type>/describe/   describe (objects, fields): describeGlobal's
                            ``{"encoding", "maxBatchSize", "sobjects": [{"name", "label",
                            "queryable", "createable", "updateable", "searchable", ...}]}``
POST composite/batch        up to 25 subrequests ``{"method", "url", "richInput"}`` →
                            ``{"hasErrors", "results": [{"statusCode", "result"}]}``
                            (see `salesforce_composite`); counts as one request
POST composite/sobjects     up to 200 records, ``allOrNone`` → ``[{"id", "success", "errors"}]``
GET parameterizedSearch/    ``q``, ``sobject`` (repeated), ``<Type>.fields``, ``<Type>.limit``
GET limits/                 ``DailyApiRequests`` and a few more

Every REST answer carries ``Sforce-Limit-Info: api-usage=N/15000`` (N counts this emulator's
REST requests since the last reset; past ``api_limit`` every call is REQUEST_LIMIT_EXCEEDED).
Errors are JSON arrays ``[{"message", "errorCode", "fields"}]``. OAuth and identity: see
`salesforce_oauth`.

Auth
----
Every REST call needs ``Authorization: Bearer <access token>`` (``OAuth <token>`` works too) that
this emulator issued and has not revoked or expired, else 401 INVALID_SESSION_ID ("Session
expired or invalid"). ``issue_access_token(user=...)`` gives one without OAuth.

Data
----
`load_sandbox` (or ``SalesforceEmulator.from_sandbox(path)``) reads a sandbox CRM file
(`salesforce_sandbox`): records keep the sandbox's uuid ids so ``tests.known.sandbox_known``
holds; records made here get Salesforce-style 18-character ids with their key prefix (``003``
Contact, ``001`` Account, ``006`` Opportunity, ``500`` Case, ``02s`` EmailMessage, ``00U`` Event,
``005`` User, ``068`` ContentVersion). The org has one user from the start (Alex Morgan,
``alex@contoso.example``; a sandbox org's username ends in ``.sandbox``) and an
``Organization`` record (``IsSandbox``).

Test controls
-------------
``reset()`` restores the baseline records cheaply and clears faults, latency, counts, api
usage, cursors, tokens and codes (connected apps stay); ``save_baseline()``; ``add_user(...)``;
``records(Type)`` / ``record(Type, id)`` to look inside; ``page_size``.
``deny_object(Type, "query"|"create"|"update"|"search")`` takes that access to an object from every
user, as a profile without the object permission would: describeGlobal and describe say so
(``queryable: false``...); queries and creates themselves are not refused. ``reset()`` gives it
back.
Tokens: ``register_connected_app(client_id, secret, redirect_uris)``,
``issue_access_token(user=None)``, ``expire_access_tokens()`` (refresh tokens still work),
``revoke(token)``, ``code_lifetime``.
Faults for the next N requests, optionally only for a method and a path (relative to
``/services/data/v59.0/`` unless it starts with ``/``): ``exceed_request_limit(...)`` (403
REQUEST_LIMIT_EXCEEDED), ``invalid_session(...)`` (401), ``fail(status)`` (5xx), ``drop()``;
and the ``latency`` knob. ``requests_served`` counts ``"GET /services/data/v59.0/query/"``...

Run by hand: ``python -m tests.emulators.salesforce --sandbox PATH [--port N] [--latency S]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import threading
from collections.abc import Sequence
from typing import Any, Self

import trustme

from .loopback import DROP, LoopbackServer, Reply, Request, Route
from .salesforce_composite import create_records, run_batch
from .salesforce_oauth import ConnectedApp, Login, Sessions
from .salesforce_objects import CATALOG, IdMaker, SObject, with_checksum
from .salesforce_reads import ACCESS_FLAGS, Pager, describe, describe_global, record_url, search
from .salesforce_sandbox import sandbox_rows
from .salesforce_store import Records, Row
from .salesforce_writes import ApiError, Writer, not_found, now_text

API_VERSION = "59.0"
MIN_VERSION = 37.0
REST_ROOT = "/services/data"
DEFAULT_USER = ("Alex", "Morgan", "alex@contoso.example")
_SESSION_EXPIRED = "Session expired or invalid"


def _rest_routes() -> tuple[Route, ...]:
    """Return the REST routes, each path with and without its trailing slash."""
    table = (
        ("GET", "", "resources"),
        ("GET", "query", "query"),
        ("GET", "queryAll", "query_all"),
        ("GET", "query/{locator}", "query_more"),
        ("GET", "queryAll/{locator}", "query_more_all"),
        ("GET", "parameterizedSearch", "search"),
        ("GET", "limits", "limits"),
        ("GET", "sobjects", "describe_global"),
        ("GET", "sobjects/{sobject}/describe", "describe"),
        ("GET", "sobjects/{sobject}", "sobject_info"),
        ("POST", "sobjects/{sobject}", "create"),
        ("GET", "sobjects/{sobject}/{record_id}", "read"),
        ("PATCH", "sobjects/{sobject}/{record_id}", "update"),
        ("DELETE", "sobjects/{sobject}/{record_id}", "delete"),
        ("POST", "composite/batch", "composite_batch"),
        ("POST", "composite/sobjects", "composite_sobjects"),
    )
    routes = []
    for method, path, handler in table:
        base = f"{REST_ROOT}/{{version}}" + (f"/{path}" if path else "")
        routes += [Route(method, base, handler), Route(method, f"{base}/", handler)]
    return tuple(routes)


class SalesforceEmulator(LoopbackServer):
    """A Salesforce org on 127.0.0.1: REST API, OAuth login host and identity service."""

    name = "Salesforce emulator"
    ROUTES = (
        Route("GET", "/services/oauth2/authorize", "authorize_page"),
        Route("POST", "/services/oauth2/authorize", "authorize_decision"),
        Route("POST", "/services/oauth2/token", "token"),
        Route("POST", "/services/oauth2/revoke", "revoke_token"),
        Route("GET", "/services/oauth2/revoke", "revoke_token"),
        Route("GET", "/id/{org}/{user}", "identity"),
        Route("GET", REST_ROOT, "versions"),
        Route("GET", f"{REST_ROOT}/", "versions"),
        *_rest_routes(),
    )

    def __init__(
        self,
        *,
        kind: str = "production",
        org_name: str = "Sidepane Emulator Org",
        port: int = 0,
        ca: trustme.CA | None = None,
        latency: float = 0.0,
        page_size: int = 2000,
        api_limit: int = 15000,
        access_token_lifetime: float = 7200.0,
        code_lifetime: float = 900.0,
    ) -> None:
        if kind not in ("production", "sandbox"):
            raise ValueError("kind must be 'production' or 'sandbox'")
        super().__init__(port=port, ca=ca)
        self.kind, self.org_name = kind, org_name
        self.latency = self._initial_latency = latency
        self.page_size = self._initial_page_size = page_size
        self.api_limit = api_limit
        self.api_usage = 0
        marker = "0S" if kind == "sandbox" else "0P"
        number = int.from_bytes(hashlib.sha256(f"{kind}:{org_name}".encode()).digest()[:6])
        self.organization_id = with_checksum(f"00D{marker}{_base62(number).rjust(10, '0')}")
        self._ids = IdMaker(marker)
        self._baseline_id_number = 1
        self._lock = threading.RLock()
        self.sessions = Sessions(self.organization_id, access_token_lifetime)
        self.login = Login(self, self.sessions, code_lifetime)
        self.default_user_id = ""
        self._denied: dict[str, frozenset[str]] = {}
        self._use(self._new_records([]))
        self.save_baseline()

    @classmethod
    def from_sandbox(cls, path: str | os.PathLike[str], **options: Any) -> Self:
        """Make an emulator holding the records of a sandbox CRM file (not yet started)."""
        return cls(**options).load_sandbox(path)

    # -- data ---------------------------------------------------------------------------------

    def load_sandbox(self, path: str | os.PathLike[str]) -> Self:
        """Replace every record with those of the sandbox file and make that the baseline."""
        with self._lock:
            users = [dict(row) for row in self.store.rows("User")]
            records = self._new_records(users)
            addresses = {str(row["Email"]).lower(): str(row["Id"]) for row in records.rows("User")}
            for sobject, rows in sandbox_rows(path, self._ids, addresses).items():
                for row in rows:
                    records.insert(sobject, _complete(CATALOG[sobject], row))
            self._use(records)
            self.save_baseline()
        return self

    def _new_records(self, users: list[Row]) -> Records:
        """Return a store holding the Organization record and the org's users."""
        records = Records(CATALOG)
        records.insert(
            "Organization",
            {
                "Id": self.organization_id,
                "Name": self.org_name,
                "IsSandbox": self.kind == "sandbox",
                "OrganizationType": "Enterprise Edition",
                "InstanceName": "EMU1",
                "CreatedDate": "2020-01-01T00:00:00.000+0000",
            },
        )
        if not users:
            first, last, email = DEFAULT_USER
            users = [self._user_row(first, last, email, None)]
        for user in users:
            user.pop("@seq", None)
            records.insert("User", user)
        self.default_user_id = str(users[0]["Id"])
        return records

    def _use(self, records: Records) -> None:
        self.store = records
        self._writer = Writer(CATALOG, records, self._ids)
        self._pager = Pager(records, self._ids, self.page_size)

    def _user_row(self, first: str, last: str, email: str, username: str | None) -> Row:
        if username is None:
            username = email if self.kind == "production" else f"{email}.sandbox"
        return {
            "Id": self._ids.new(CATALOG["User"].key_prefix),
            "Username": username,
            "FirstName": first,
            "LastName": last,
            "Name": f"{first} {last}".strip(),
            "Email": email,
            "IsActive": True,
            "CreatedDate": now_text(),
        }

    def add_user(
        self, first_name: str, last_name: str, email: str, *, username: str | None = None
    ) -> str:
        """Add a user of the org (username: the address, plus ``.sandbox`` in a sandbox)."""
        with self._lock:
            row = self.store.insert("User", self._user_row(first_name, last_name, email, username))
        return str(row["Id"])

    def user(self, user_id: str) -> Row | None:
        """Return a copy of one user's record."""
        return self.record("User", user_id)

    def user_by_username(self, username: str) -> Row | None:
        with self._lock:
            found = self.store.lookup("User", "Username", [username.casefold()]) or []
        return dict(found[0]) if found else None

    def save_baseline(self) -> None:
        """Make the current records the state `reset` restores."""
        with self._lock:
            self.store.save_baseline()
            self._baseline_id_number = self._ids.next_number

    def reset(self) -> None:
        """Restore the baseline; clear faults, latency, counts, usage, cursors, tokens, codes."""
        with self._lock:
            self.store.reset()
            self._ids.next_number = self._baseline_id_number
            self._pager.clear()
            self.page_size = self._pager.page_size = self._initial_page_size
            self.api_usage = 0
            self._denied.clear()
        self.sessions.clear()
        self.login.clear()
        self.clear_faults()
        self.latency = self._initial_latency
        with self._count_lock:
            self.requests_served.clear()

    def deny_object(self, sobject: str, access: str) -> None:
        """Take ``query``, ``create``, ``update`` or ``search`` access to an object from every
        user: describeGlobal and describe report it (``reset()`` gives it back)."""
        if access not in ACCESS_FLAGS:
            raise ValueError(f"access must be one of {', '.join(ACCESS_FLAGS)}, not {access!r}")
        name = CATALOG[sobject].name
        with self._lock:
            self._denied[name] = self._denied.get(name, frozenset()) | {access}

    def records(self, sobject: str) -> list[Row]:
        """Return copies of the records of an object."""
        with self._lock:
            return [_public(row) for row in self.store.rows(CATALOG[sobject].name)]

    def record(self, sobject: str, record_id: str) -> Row | None:
        """Return a copy of one record, or None."""
        with self._lock:
            row = self.store.get(CATALOG[sobject].name, record_id)
        return None if row is None else _public(row)

    @property
    def rest_url(self) -> str:
        """Return the REST base, ``https://127.0.0.1:PORT/services/data/v59.0/``."""
        return f"{self.url}{REST_ROOT}/v{API_VERSION}/"

    # -- tokens -------------------------------------------------------------------------------

    def register_connected_app(
        self,
        client_id: str,
        secret: str,
        redirect_uris: Sequence[str],
        *,
        name: str = "Sidepane",
    ) -> None:
        """Register (or replace) a connected app for the OAuth web-server flow."""
        self.login.register(ConnectedApp(client_id, secret, tuple(redirect_uris), name))

    @property
    def code_lifetime(self) -> float:
        return self.login.code_lifetime

    @code_lifetime.setter
    def code_lifetime(self, seconds: float) -> None:
        self.login.code_lifetime = seconds

    def issue_access_token(self, user: str | None = None) -> str:
        """Return a valid access token for a user (an id or username; default the org's)."""
        user_id = self.default_user_id
        if user is not None:
            row = self.user(user) or self.user_by_username(user)
            if row is None:
                raise ValueError(f"No user {user!r} in {self.org_name}")
            user_id = str(row["Id"])
        return self.sessions.issue(user_id)

    def expire_access_tokens(self) -> int:
        """Make every current access token invalid (refresh tokens still work)."""
        return self.sessions.expire_all()

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token (and its access tokens) or one access token."""
        return self.sessions.revoke(token)

    # -- faults -------------------------------------------------------------------------------

    def exceed_request_limit(
        self, times: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next ``times`` requests 403 REQUEST_LIMIT_EXCEEDED."""
        error = ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        self.inject(Reply(403, error.body()), times=times, method=method, path=_api_path(path))

    def invalid_session(
        self, times: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next ``times`` requests 401 INVALID_SESSION_ID."""
        error = ApiError(401, "INVALID_SESSION_ID", _SESSION_EXPIRED)
        self.inject(Reply(401, error.body()), times=times, method=method, path=_api_path(path))

    def fail(
        self,
        status: int = 503,
        times: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (a 5xx, or any other)."""
        if status == 503:
            error = ApiError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable.")
        else:
            error = ApiError(
                status,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact"
                " support: 1234567890-12345 (-123456789)",
            )
        self.inject(Reply(status, error.body()), times=times, method=method, path=_api_path(path))

    def drop(self, times: int = 1, *, method: str | None = None, path: str | None = None) -> None:
        """Close the next ``times`` connections without answering."""
        self.inject(DROP, times=times, method=method, path=_api_path(path))

    # -- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply:
        """Serve a request; count REST calls and add ``Sforce-Limit-Info`` to their answers."""
        if not request.path.startswith(f"{REST_ROOT}/v"):
            return super()._dispatch(request)
        with self._lock:
            self.api_usage += 1
            usage = self.api_usage
        reply = super()._dispatch(request)
        if reply.status == DROP.status:
            return reply
        limit_info = {"Sforce-Limit-Info": f"api-usage={usage}/{self.api_limit}"}
        return Reply(reply.status, reply.body, {**reply.headers, **limit_info}, reply.content_type)

    def route(self, request: Request) -> Reply:
        """Check the session of a REST call, then serve it."""
        if not request.path.startswith(f"{REST_ROOT}/v"):
            return super().route(request)
        try:
            _version(request.path)
            if self._session_user(request) is None:
                raise ApiError(401, "INVALID_SESSION_ID", _SESSION_EXPIRED)
            if self.api_usage > self.api_limit:
                raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        except ApiError as error:
            return Reply(error.status, error.body())
        return self._serve(request)

    def _serve(self, request: Request) -> Reply:
        """Serve one REST request (also a batch's subrequest), turning refusals into errors."""
        try:
            _version(request.path)
            with self._lock:
                return super().route(request)
        except ApiError as error:
            return Reply(error.status, error.body())

    def not_found(self, request: Request) -> Reply:
        return Reply(404, not_found().body())

    def _session_user(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token.strip():
            return None
        user_id = self.sessions.user_of(token.strip())
        if user_id is None:
            return None
        with self._lock:
            user = self.store.get("User", user_id)
        return None if user is None or not user.get("IsActive") else user_id

    # -- OAuth and identity -------------------------------------------------------------------

    def authorize_page(self, request: Request) -> Reply:
        return self.login.authorize_page(request)

    def authorize_decision(self, request: Request) -> Reply:
        return self.login.authorize_decision(request)

    def token(self, request: Request) -> Reply:
        return self.login.token(request)

    def revoke_token(self, request: Request) -> Reply:
        return self.login.revoke(request)

    def identity(self, request: Request, org: str, user: str) -> Reply:
        return self.login.identity(request, org, user)

    # -- REST endpoints -----------------------------------------------------------------------

    def versions(self, request: Request) -> Reply:
        return Reply(
            200,
            [{"label": "Winter '24", "url": f"{REST_ROOT}/v{API_VERSION}", "version": API_VERSION}],
        )

    def resources(self, request: Request, version: str) -> Reply:
        base = f"{REST_ROOT}/{version}"
        names = ("sobjects", "query", "queryAll", "parameterizedSearch", "limits", "composite")
        return Reply(200, {name: f"{base}/{name}" for name in names})

    def query(self, request: Request, version: str) -> Reply:
        return self._query(request, version, "query")

    def query_all(self, request: Request, version: str) -> Reply:
        return self._query(request, version, "queryAll")

    def _query(self, request: Request, version: str, endpoint: str) -> Reply:
        soql = (request.query.get("q") or [""])[-1]
        self._pager.page_size = self.page_size
        return Reply(200, self._pager.query(soql, version[1:], endpoint, request.headers))

    def query_more(self, request: Request, version: str, locator: str) -> Reply:
        return Reply(200, self._pager.more(locator, version[1:]))

    def query_more_all(self, request: Request, version: str, locator: str) -> Reply:
        return self.query_more(request, version, locator)

    def search(self, request: Request, version: str) -> Reply:
        return Reply(200, search(self.store, request.query, version[1:]))

    def limits(self, request: Request, version: str) -> Reply:
        remaining = max(0, self.api_limit - self.api_usage)
        return Reply(
            200,
            {
                "DailyApiRequests": {"Max": self.api_limit, "Remaining": remaining},
                "DataStorageMB": {"Max": 1024, "Remaining": 1024},
                "FileStorageMB": {"Max": 1024, "Remaining": 1024},
            },
        )

    def describe_global(self, request: Request, version: str) -> Reply:
        return Reply(200, describe_global(version[1:], denied=self._denied))

    def describe(self, request: Request, version: str, sobject: str) -> Reply:
        definition = _sobject(sobject)
        denied = self._denied.get(definition.name, frozenset())
        return Reply(200, describe(definition, version[1:], denied))

    def sobject_info(self, request: Request, version: str, sobject: str) -> Reply:
        definition = _sobject(sobject)
        info = describe(definition, version[1:], self._denied.get(definition.name, frozenset()))
        info.pop("fields")
        return Reply(200, {"objectDescribe": info, "recentItems": []})

    def create(self, request: Request, version: str, sobject: str) -> Reply:
        row = self._writer.create(_sobject(sobject), _json_body(request))
        return Reply(201, {"id": row["Id"], "success": True, "errors": []})

    def read(self, request: Request, version: str, sobject: str, record_id: str) -> Reply:
        definition = _sobject(sobject)
        row = self.store.get(definition.name, record_id)
        if row is None:
            raise not_found()
        wanted = (request.query.get("fields") or [""])[-1]
        fields = [f.name for f in definition.fields if f.selectable]
        if wanted:
            fields = []
            for name in wanted.split(","):
                field = definition.field(name.strip())
                if field is None or not field.selectable:
                    raise ApiError(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name.strip()}' on entity '{definition.name}'",
                    )
                fields.append(field.name)
        url = record_url(version[1:], definition.name, str(row["Id"]))
        record = {"attributes": {"type": definition.name, "url": url}}
        return Reply(200, record | {name: row.get(name) for name in fields})

    def update(self, request: Request, version: str, sobject: str, record_id: str) -> Reply:
        self._writer.update(_sobject(sobject), record_id, _json_body(request))
        return Reply(204, None)

    def delete(self, request: Request, version: str, sobject: str, record_id: str) -> Reply:
        self._writer.delete(_sobject(sobject), record_id)
        return Reply(204, None)

    def composite_batch(self, request: Request, version: str) -> Reply:
        authorization = request.headers.get("authorization", "")
        return Reply(200, run_batch(_json_body(request), self._serve, authorization))

    def composite_sobjects(self, request: Request, version: str) -> Reply:
        return Reply(200, create_records(_json_body(request), self._writer, self.store))


def _version(path: str) -> str:
    """Return the API version of a REST path (``59.0``), or raise NOT_FOUND."""
    segment = path.removeprefix(f"{REST_ROOT}/").split("/")[0]
    try:
        number = float(segment[1:]) if segment.startswith("v") else 0.0
    except ValueError:
        number = 0.0
    if number < MIN_VERSION or not segment[1:].replace(".", "").isdigit():
        raise not_found()
    return segment[1:]


def _sobject(name: str) -> SObject:
    sobject = CATALOG.get(name)
    if sobject is None:
        raise not_found()
    return sobject


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {error}") from None


def _public(row: Row) -> Row:
    return {name: value for name, value in row.items() if not name.startswith("@")}


def _complete(sobject: SObject, row: Row) -> Row:
    """Return ``row`` with every selectable field present (null when unset)."""
    return {field.name: None for field in sobject.fields if field.selectable} | row


def _api_path(path: str | None) -> str | None:
    """Read a fault's path relative to the REST base unless it starts with ``/``."""
    if path is None or path.startswith("/"):
        return path
    return f"{REST_ROOT}/v{API_VERSION}/{path}"


def _base62(number: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    digits = ""
    while number:
        number, digit = divmod(number, 62)
        digits = alphabet[digit] + digits
    return digits or "0"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the emulator in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators.salesforce", description=main.__doc__
    )
    parser.add_argument("--sandbox", required=True, help="sandbox CRM file to serve")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument(
        "--kind", choices=("production", "sandbox"), default="production", help="kind of org"
    )
    args = parser.parse_args(argv)
    emulator = SalesforceEmulator.from_sandbox(
        args.sandbox, port=args.port, latency=args.latency, kind=args.kind
    )
    with emulator:
        token = emulator.issue_access_token()
        print(f"Salesforce emulator: {emulator.url}", flush=True)
        print(f"REST base:           {emulator.rest_url}", flush=True)
        print(f"CA file:             {emulator.ca_file}", flush=True)
        print(f"Access token:        {token}", flush=True)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
