"""Loopback Dataverse Web API v9.2: a real TLS OData v4 server seeded from a sandbox CRM file.

Written to ``docs/dataverse-requests.md``, the contract the Dynamics adapter is written to.

Endpoints (under ``/api/data/v9.2``)
------------------------------------
GET <set>                 ``$select`` ``$filter`` ``$orderby`` ``$top`` ``$expand`` (see `odata`),
                          ``$count`` (``@odata.count`` of every match, at most 5,000, as
                          Dataverse counts), ``Prefer: odata.maxpagesize=N`` with
                          ``@odata.nextLink`` (opaque ``$skiptoken``; ``$top`` is ignored
                          then, as Dataverse does), ``Prefer: odata.include-annotations=...``
                          (FormattedValue, lookuplogicalname, associatednavigationproperty),
                          ``@odata.context``, ``@odata.etag``; rows come in primary-key order
                          unless ordered.
GET <set>(<guid>)         one record (404 ``0x80040217`` when missing)
POST <set>                create (see `dataverse_writes`): 204 + ``OData-EntityId``, or with
                          ``Prefer: return=representation`` 201 + the record (``$select`` and
                          ``$expand`` of the POST URL)
PATCH <set>(<guid>)       update (an upsert when missing, unless ``If-Match: *``); 204 or 200
DELETE <set>(<guid>)      204
POST $batch               multipart/mixed GETs and changesets (see `dataverse_batch`); like
                          Dataverse it stops at the first failed request (its error is the last
                          part) unless sent ``Prefer: odata.continue-on-error``, which answers
                          every part and says ``Preference-Applied: odata.continue-on-error``
GET WhoAmI                UserId (the systemuser whose ``azureactivedirectoryobjectid`` is the
                          token's ``oid``, created on first sight), BusinessUnitId, OrganizationId
GET systemusers(<guid>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()
                          ``{"RolePrivileges": [{"Depth", "PrivilegeId", "BusinessUnitId",
                          "PrivilegeName", ...}]}``: the user's privileges (see
                          `dataverse_security`); the caller needs prvReadUser, as for
                          reading ``systemusers(<guid>)`` (assumed, not documented)
GET /                     the service document

Errors are ``{"error": {"code", "message"}}`` with Dataverse's codes (see the contract). A user
lacking a table's Read privilege who reads it (or its Create privilege who creates a record of
it) gets Dataverse's ``403`` ``0x80040220`` "Principal user (Id=..., type=8, ...) is missing
prvReadIncident privilege ..." (`dataverse_security`).

Auth
----
With ``entra`` (an `EntraEmulator`), every request needs ``Authorization: Bearer <jwt>`` that
``entra.verify_token(token, audience=<this emulator's url>)`` accepts, as an OBO token for
``https://127.0.0.1:PORT/.default`` carries; otherwise 401 with ``WWW-Authenticate: Bearer
authorization_uri=...`` and no body. Without ``entra``, any non-empty bearer token will do.

Test controls
-------------
``load_sandbox(path)`` (or ``DataverseEmulator.from_sandbox(path)``) reads a sandbox file
(`dataverse_sandbox`); ``reset()`` restores that state cheaply (and clears faults, latency and
``requests_served``); ``save_baseline()`` makes the current state the one reset restores;
``add_systemuser(...)`` (``accessmode=4`` for an application user); ``rows(set)`` /
``record(set, id)`` to look inside.
Every systemuser the emulator adds (by ``add_systemuser`` or on first sight in ``WhoAmI``) gets,
as Dataverse gives each user, a default mailbox (``mailboxes``, linked by the user's
``defaultmailbox``) and its ``usersettingscollection`` row: by default server-side sync for
incoming and outgoing email, the address approved, tracking option 2 ("Email messages from
Dynamics 365 Leads, Contacts and Accounts"). ``set_mailbox(server_side_sync, approved,
filtering_method, user_id=None)`` changes them for one user, or (``user_id=None``) for every
user and those added later; ``reset()`` restores them. A mailbox's ``regardingobjectid`` is its
user (``_regardingobjectid_value``, filterable as ``regardingobjectid/isdisabled``).
Privileges: every user holds all of them (`dataverse_security.PRIVILEGES`, Global depth);
``deny_privileges(*names, user_id=None)`` takes some from one user or from everyone (users added
later too); ``reset()`` gives them back.
Faults for the next N requests, optionally only for a method and a path under the API root:
``throttle(...)`` (429 ``Retry-After``, ``0x80072322``), ``fail(status)``, ``drop()``; and the
``latency`` knob. ``requests_served`` counts a ``$batch`` once, as
``"POST /api/data/v9.2/$batch"``.

Run by hand: ``python -m tests.emulators.dataverse --sandbox PATH [--port N] [--latency 0.05]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import parse_qs, quote, urlsplit

import jwt
import trustme

from .dataverse_batch import JSON_CONTENT_TYPE, BatchRequest, ChangeSet, parse_batch, render_batch
from .dataverse_reads import Preferences, Reader, context_url
from .dataverse_sandbox import sandbox_rows
from .dataverse_security import Privileges, missing_privilege, needed
from .dataverse_store import Row, Store, set_lookup
from .dataverse_tables import ACCESS_MODES, FILTERING_METHODS, TABLES, Table
from .dataverse_writes import Writer, record_not_found
from .entra import EntraEmulator
from .loopback import DROP, LoopbackServer, Reply, Request, Route
from .odata import NAMESPACE, ODataError, Query, parse_query

API = "/api/data/v9.2"
MAX_PAGE_SIZE = 5000
#: ``@odata.count`` counts at most this many rows of a standard table.
MAX_COUNT = 5000
RETRIEVE_USER_PRIVILEGES = f"{NAMESPACE}.RetrieveUserPrivileges()"
THROTTLED = "0x80072322"
_QUERY_OPTIONS = frozenset(
    {"$select", "$filter", "$orderby", "$top", "$expand", "$skiptoken", "$count"}
)
_SEGMENT = re.compile(r"(?P<set>[^\W\d]\w*)(?:\((?P<key>[^)]*)\))?")
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SKIPTOKEN = re.compile(r'<cookie pagenumber="(\d+)" offset="(\d+)" />')


@dataclass(frozen=True, slots=True)
class MailboxState:
    """How a user's mailbox and tracking option are set up (see `DataverseEmulator.set_mailbox`)."""

    server_side_sync: bool = True
    approved: bool = True
    filtering_method: int = 2

    def mailbox_columns(self) -> dict[str, Any]:
        """Return the mailbox columns of this state, as the mailbox form would leave them."""
        method = 2 if self.server_side_sync else 0  # Server-Side Synchronization, or None
        tested = 1 if self.server_side_sync and self.approved else 0  # Success, or Not Run
        return {
            "incomingemaildeliverymethod": method,
            "outgoingemaildeliverymethod": method,
            "actdeliverymethod": 1 if self.server_side_sync else 2,
            "emailrouteraccessapproval": 1 if self.approved else 2,  # Approved / Pending
            "incomingemailstatus": tested,
            "outgoingemailstatus": tested,
            "actstatus": tested,
        }


def error_reply(error: ODataError) -> Reply:
    """Return Dataverse's answer to a refused request."""
    body = {"error": {"code": error.code, "message": error.message}}
    return Reply(error.status, body, {"OData-Version": "4.0"}, JSON_CONTENT_TYPE)


class DataverseEmulator(LoopbackServer):
    """Dataverse Web API v9.2 on 127.0.0.1, in memory, seeded from a sandbox CRM file."""

    name = "Dataverse emulator"
    ROUTES = (
        Route("POST", f"{API}/$batch", "batch"),
        Route("GET", f"{API}/WhoAmI", "who_am_i"),
        Route("GET", f"{API}/WhoAmI()", "who_am_i"),
        Route("GET", f"{API}/", "service_document"),
        Route("GET", f"{API}/{{segment}}", "read"),
        Route("GET", f"{API}/{{segment}}/{{function}}", "bound_function"),
        Route("POST", f"{API}/{{segment}}", "create"),
        Route("PATCH", f"{API}/{{segment}}", "update"),
        Route("DELETE", f"{API}/{{segment}}", "delete"),
    )

    def __init__(
        self,
        *,
        entra: EntraEmulator | None = None,
        tenant_id: str = "common",
        port: int = 0,
        ca: trustme.CA | None = None,
        latency: float = 0.0,
    ) -> None:
        super().__init__(port=port, ca=ca)
        self.entra, self.tenant_id = entra, tenant_id
        self.latency = self._initial_latency = latency
        self.organization_id = str(uuid.uuid4())
        self.business_unit_id = str(uuid.uuid4())
        self._mailbox_state = MailboxState()
        self.privileges = Privileges()
        self._lock = threading.RLock()
        self._use(Store(TABLES))

    @classmethod
    def from_sandbox(cls, path: str | os.PathLike[str], **options: Any) -> Self:
        """Make an emulator holding the records of a sandbox CRM file (not yet started)."""
        return cls(**options).load_sandbox(path)

    # -- test controls ------------------------------------------------------------------------

    def load_sandbox(self, path: str | os.PathLike[str]) -> Self:
        """Replace every record with those of the sandbox file and make that the baseline."""
        rows = sandbox_rows(path)
        store = Store(TABLES)
        for logical, table_rows in rows.items():
            for row in table_rows:
                store.insert(TABLES[logical], row)
        store.save_baseline()
        with self._lock:
            self._use(store)
        return self

    def _use(self, store: Store) -> None:
        self.store, self._writer, self._reader = store, Writer(TABLES, store), Reader(store)

    def save_baseline(self) -> None:
        """Make the current records the state `reset` restores."""
        with self._lock:
            self.store.save_baseline()

    def reset(self) -> None:
        """Restore the baseline records, mailbox setup and privileges; clear faults, latency and
        counts."""
        with self._lock:
            self.store.reset()
            self._mailbox_state = MailboxState()
            self.privileges.clear()
        self.clear_faults()
        self.latency = self._initial_latency
        with self._count_lock:
            self.requests_served.clear()

    def add_systemuser(
        self,
        fullname: str,
        internalemailaddress: str,
        *,
        azureactivedirectoryobjectid: str | None = None,
        systemuserid: str | None = None,
        isdisabled: bool = False,
        accessmode: int = 0,
    ) -> str:
        """Add a user (a rep) with its default mailbox and usersettings; return its id.

        ``accessmode``: 0 Read-Write (a licensed person), 4 Non-interactive (an application
        user), ... (`dataverse_tables.ACCESS_MODES`).
        """
        if accessmode not in range(len(ACCESS_MODES)):
            raise ValueError(f"accessmode must be 0-{len(ACCESS_MODES) - 1}, not {accessmode!r}")
        body = {
            "fullname": fullname,
            "internalemailaddress": internalemailaddress,
            "azureactivedirectoryobjectid": azureactivedirectoryobjectid,
            "isdisabled": isdisabled,
            "accessmode": accessmode,
        }
        if systemuserid:
            body["systemuserid"] = systemuserid
        with self._lock, self.store.transaction():
            row = self._writer.create(TABLES["systemuser"], body)
            user_id = str(row["systemuserid"])
            self._set_up_mailbox(user_id, self._mailbox_state)
        return user_id

    def set_mailbox(
        self,
        server_side_sync: bool = True,
        approved: bool = True,
        filtering_method: int = 2,
        user_id: str | None = None,
    ) -> None:
        """Set up users' mailboxes and tracking option; ``reset()`` restores the default.

        ``server_side_sync``: incoming (and outgoing) email delivered by Server-Side
        Synchronization (2), else None (0). ``approved``: the mailbox's email address status is
        Approved (1), else Pending Approval (2). ``filtering_method``: the usersettings
        ``incomingemailfilteringmethod`` (0-4; 4 is "No email messages"). With ``user_id`` only
        that user changes; without, every user does and so do users added later.
        """
        if filtering_method not in range(len(FILTERING_METHODS)):
            raise ValueError(f"filtering_method must be 0-4, not {filtering_method!r}")
        state = MailboxState(server_side_sync, approved, filtering_method)
        with self._lock, self.store.transaction():
            if user_id is None:
                self._mailbox_state = state
                users = [str(row["systemuserid"]) for row in self.store.all("systemuser")]
            elif self.store.get("systemuser", user_id) is None:
                raise KeyError(f"the emulator has no systemuser {user_id}")
            else:
                users = [user_id.lower()]
            for user in users:
                self._set_up_mailbox(user, state)

    def _set_up_mailbox(self, user_id: str, state: MailboxState) -> None:
        """Give a user its default mailbox and usersettings in ``state`` (made when missing)."""
        user = self.store.get("systemuser", user_id)
        assert user is not None
        mailboxes, settings = TABLES["mailbox"], TABLES["usersettings"]
        mailbox_id = user.get("_defaultmailbox_value")
        if mailbox_id and self.store.get("mailbox", mailbox_id) is not None:
            self._writer.update(mailboxes, mailbox_id, state.mailbox_columns())
        else:
            address = user.get("internalemailaddress") or None
            mailbox = self._writer.create(
                mailboxes,
                {
                    "name": user.get("fullname") or address or user_id,
                    "emailaddress": address,
                    **state.mailbox_columns(),
                },
            )
            mailbox_id = str(mailbox["mailboxid"])
            regarding: Row = {}
            set_lookup(regarding, "_regardingobjectid_value", "systemuser", user_id)
            self.store.update(mailboxes, mailbox_id, regarding)
            default: Row = {}
            set_lookup(default, "_defaultmailbox_value", "mailbox", mailbox_id)
            self.store.update(TABLES["systemuser"], user_id, default)
        tracking = {"incomingemailfilteringmethod": state.filtering_method}
        if self.store.get("usersettings", user_id) is None:
            self._writer.create(settings, {"systemuserid": user_id, **tracking})
        else:
            self._writer.update(settings, user_id, tracking)

    def deny_privileges(self, *names: str, user_id: str | None = None) -> None:
        """Take privileges (``prvReadIncident``...) from one user, or from every user.

        ``RetrieveUserPrivileges`` no longer lists them, and reading (creating) records of a table
        whose Read (Create) privilege is taken answers Dataverse's 403 ``0x80040220``. Without
        ``user_id`` every user loses them, those added later too; ``reset()`` gives them back.
        """
        with self._lock:
            self.privileges.deny(names, user_id)

    def rows(self, entity_set: str) -> list[Row]:
        """Return copies of the records of an entity set (hidden keys included)."""
        with self._lock:
            return [dict(row) for row in self.store.all(TABLES.by_set[entity_set].logical)]

    def record(self, entity_set: str, record_id: str) -> Row | None:
        """Return a copy of one record, or None."""
        with self._lock:
            row = self.store.get(TABLES.by_set[entity_set].logical, record_id)
        return None if row is None else dict(row)

    def throttle(
        self,
        times: int = 1,
        *,
        retry_after: int = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests 429 with ``Retry-After`` (service protection)."""
        message = "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
        body = {"error": {"code": THROTTLED, "message": message}}
        headers = {"Retry-After": str(retry_after), "OData-Version": "4.0"}
        reply = Reply(429, body, headers, JSON_CONTENT_TYPE)
        self.inject(reply, times=times, method=method, path=self._api_path(path))

    def fail(
        self,
        status: int = 503,
        times: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (a 5xx, or any other)."""
        body = {"error": {"code": "0x80040216", "message": "An unexpected error occurred."}}
        reply = Reply(status, body, {"OData-Version": "4.0"}, JSON_CONTENT_TYPE)
        self.inject(reply, times=times, method=method, path=self._api_path(path))

    def drop(self, times: int = 1, *, method: str | None = None, path: str | None = None) -> None:
        """Close the next ``times`` connections without answering."""
        self.inject(DROP, times=times, method=method, path=self._api_path(path))

    @staticmethod
    def _api_path(path: str | None) -> str | None:
        """Read a fault's path relative to the API root unless it starts with ``/``."""
        return path if path is None or path.startswith("/") else f"{API}/{path}"

    @property
    def api_url(self) -> str:
        """Return the Web API root, ``https://127.0.0.1:PORT/api/data/v9.2/``."""
        return f"{self.url}{API}/"

    # -- dispatch -----------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Check the bearer token, then serve the request."""
        if self._claims(request) is None:
            return self._challenge()
        return self._serve(request)

    def _serve(self, request: Request) -> Reply:
        """Serve one request (also each part of a batch), turning refusals into errors."""
        with self._lock:
            try:
                return super().route(request)
            except ODataError as error:
                return error_reply(error)

    def not_found(self, request: Request) -> Reply:
        segment = request.path.removeprefix(API).strip("/").split("/")[-1]
        return error_reply(
            ODataError(f"Resource not found for the segment '{segment}'.", status=404)
        )

    def _claims(self, request: Request) -> dict[str, Any] | None:
        """Return the claims of the request's bearer token, None when it is not accepted."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if self.entra is None:
            try:
                claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
            except jwt.PyJWTError:
                claims = {}
            return claims
        for audience in (self.url, f"{self.url}/"):
            try:
                return self.entra.verify_token(token, audience)
            except jwt.PyJWTError:
                continue
        return None

    def _challenge(self) -> Reply:
        authority = (
            self.entra.url if self.entra is not None else "https://login.microsoftonline.com"
        )
        challenge = (
            f"Bearer authorization_uri={authority}/{self.tenant_id}/oauth2/authorize,"
            f" resource_id={self.url}/"
        )
        return Reply(401, None, {"WWW-Authenticate": challenge})

    # -- endpoints ----------------------------------------------------------------------------

    def service_document(self, request: Request) -> Reply:
        sets = [
            {"name": table.entity_set, "kind": "EntitySet", "url": table.entity_set}
            for table in TABLES
        ]
        return self._json(200, {"@odata.context": f"{self.api_url}$metadata", "value": sets})

    def read(self, request: Request, segment: str) -> Reply:
        table, key = self._target(segment)
        self._check_privilege(request, "Read", table)
        if key is not None:
            return self._record_reply(200, table, self._existing(table, key), request)
        options, aliases = _query_options(request)
        query = parse_query(table.logical, options, TABLES, aliases)
        prefer = Preferences.parse(request.headers.get("prefer", ""))
        rows = self._reader.select(table, query)
        body: dict[str, Any] = {"@odata.context": context_url(self.api_url, table, query)}
        if options.get("$count") == "true":
            # of every match, not only this page: $top does not change it
            body["@odata.count"] = min(len(rows), MAX_COUNT)
        offset = _skiptoken_offset(options.get("$skiptoken"))
        size = min(prefer.max_page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        if prefer.max_page_size is None and query.top is not None:
            size = min(query.top, MAX_PAGE_SIZE)
            rows = rows[: query.top]
        page = rows[offset : offset + size]
        body["value"] = [self._reader.render(table, row, query, prefer) for row in page]
        if offset + size < len(rows):
            body["@odata.nextLink"] = self._next_link(request, offset + size, offset // size + 2)
        return self._json(200, body, prefer)

    def create(self, request: Request, segment: str) -> Reply:
        table, key = self._target(segment)
        if key is not None:
            raise ODataError("POST is not supported on a single record; use PATCH.", status=405)
        _parse_query(table, request)  # refuse a bad $select before writing
        self._check_privilege(request, "Create", table)
        with self.store.transaction():
            row = self._writer.create(table, _json_body(request))
        return self._written(201, table, row, request)

    def update(self, request: Request, segment: str) -> Reply:
        table, key = self._target(segment)
        if key is None:
            raise ODataError("PATCH needs a record: <set>(<id>).", status=405)
        body = _json_body(request)
        existing = self.store.get(table.logical, key)
        if existing is None and request.headers.get("if-match") == "*":
            raise record_not_found(table.logical, key)
        if existing is not None and request.headers.get("if-none-match") == "*":
            raise ODataError(
                "A record with matching key values already exists.", status=412, code="0x80040237"
            )
        with self.store.transaction():
            if existing is None:  # PATCH is an upsert
                row = self._writer.create(table, {**body, table.key: key})
            else:
                row = self._writer.update(table, key, body)
        return self._written(200, table, row, request)

    def delete(self, request: Request, segment: str) -> Reply:
        table, key = self._target(segment)
        if key is None:
            raise ODataError("DELETE needs a record: <set>(<id>).", status=405)
        self._existing(table, key)
        with self.store.transaction():
            self.store.delete(table, key)
        return Reply(204, None, {"OData-Version": "4.0"})

    def who_am_i(self, request: Request) -> Reply:
        user_id = self._caller(request)
        return self._json(
            200,
            {
                "@odata.context": f"{self.api_url}$metadata#{NAMESPACE}.WhoAmIResponse",
                "BusinessUnitId": self.business_unit_id,
                "UserId": user_id,
                "OrganizationId": self.organization_id,
            },
        )

    def bound_function(self, request: Request, segment: str, function: str) -> Reply:
        """Answer ``systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()``."""
        table, key = self._target(segment)
        if table.logical != "systemuser" or key is None or function != RETRIEVE_USER_PRIVILEGES:
            raise ODataError(f"Resource not found for the segment '{function}'.", status=404)
        self._check_privilege(request, "Read", table)  # it reads the user: prvReadUser [I]
        self._existing(table, key)
        context = f"{self.api_url}$metadata#{NAMESPACE}.RetrieveUserPrivilegesResponse"
        privileges = self.privileges.held(key, self.business_unit_id)
        return self._json(200, {"@odata.context": context, "RolePrivileges": privileges})

    def batch(self, request: Request) -> Reply:
        items = parse_batch(request.body, request.headers.get("content-type", ""))
        authorization = request.headers.get("authorization", "")
        go_on = Preferences.parse(request.headers.get("prefer", "")).continue_on_error
        responses: list[Reply | list[tuple[str | None, Reply]]] = []
        failed = False
        for item in items:
            if isinstance(item, BatchRequest):
                response: Reply | list[tuple[str | None, Reply]] = self._serve(
                    self._inner(item, authorization)
                )
            else:
                response = self._changeset(item, authorization)
            responses.append(response)
            if isinstance(response, Reply) and response.status >= 400:
                failed = True
                if not go_on:  # Dataverse stops at the first failure: the rest never run
                    break
        payload, content_type = render_batch(responses)
        headers = {"OData-Version": "4.0"}
        if failed and go_on:
            headers["Preference-Applied"] = "odata.continue-on-error"
        return Reply(200, payload, headers, content_type)

    # -- helpers ------------------------------------------------------------------------------

    def _changeset(
        self, changeset: ChangeSet, authorization: str
    ) -> Reply | list[tuple[str | None, Reply]]:
        """Run a changeset's requests all or nothing; a failure answers that failure alone."""
        replies: list[tuple[str | None, Reply]] = []
        locations: dict[str, str] = {}
        failed: list[Reply] = []
        try:
            with self.store.transaction():
                for part in changeset.requests:
                    reply = self._serve(self._inner(part, authorization, locations))
                    if reply.status >= 400:
                        failed.append(reply)
                        raise _RollBack
                    if part.content_id and "OData-EntityId" in reply.headers:
                        locations[part.content_id] = reply.headers["OData-EntityId"]
                    replies.append((part.content_id, reply))
        except _RollBack:
            return failed[0]
        return replies

    def _inner(
        self, part: BatchRequest, authorization: str, locations: Mapping[str, str] | None = None
    ) -> Request:
        """Turn a batch part into a request; ``$n`` at its start is changeset request n's URL."""
        target, locations = part.target, locations or {}
        if target.startswith("$") and target[1:].split("/")[0] in locations:
            reference, _, rest = target[1:].partition("/")
            target = f"{locations[reference]}/{rest}" if rest else locations[reference]
        url = urlsplit(target)
        path = url.path if url.path.startswith("/") else f"{API}/{url.path}"
        headers = {"authorization": authorization, **part.headers}
        query = parse_qs(url.query, keep_blank_values=True)
        return Request(part.method, path, query, headers, part.body)

    def _target(self, segment: str) -> tuple[Table, str | None]:
        """Return the table and key of a path segment such as ``contacts(<guid>)``."""
        found = _SEGMENT.fullmatch(segment)
        table = TABLES.by_set.get(found["set"]) if found else None
        if found is None or table is None:
            raise ODataError(f"Resource not found for the segment '{segment}'.", status=404)
        key = found["key"]
        if key is not None and _GUID.fullmatch(key) is None:
            raise ODataError("Bad Request - Error in query syntax.")
        return table, None if key is None else key.lower()

    def _check_privilege(self, request: Request, right: str, table: Table) -> None:
        """Refuse, as Dataverse does, a caller lacking the table's ``right`` privilege."""
        if not self.privileges.any_denied:
            return  # nobody lacks anything: no need to know who is asking
        name = needed(right, table.logical)
        user_id = self._caller(request)
        if self.privileges.lacks(user_id, name):
            user = self.store.get("systemuser", user_id) or {}
            mode = user.get("accessmode") or 0
            raise missing_privilege(
                name,
                table.logical,
                user_id,
                self.privileges,
                self.business_unit_id,
                f"{mode} {ACCESS_MODES[mode]}",
            )

    def _caller(self, request: Request) -> str:
        """Return the systemuser id of whoever sent ``request`` (added on first sight)."""
        claims = self._claims(request) or {}
        oid = str(claims.get("oid") or "")
        return self._user_for(oid, claims) if _GUID.fullmatch(oid) else self._emulator_user()

    def _existing(self, table: Table, key: str) -> Row:
        row = self.store.get(table.logical, key)
        if row is None:
            raise record_not_found(table.logical, key)
        return row

    def _written(self, status: int, table: Table, row: Row, request: Request) -> Reply:
        """Answer a write: the record with ``return=representation``, else 204 and its URL."""
        if Preferences.parse(request.headers.get("prefer", "")).representation:
            applied = {"Preference-Applied": "return=representation"}
            return self._record_reply(status, table, row, request, applied)
        location = f"{self.api_url}{table.entity_set}({row[table.key]})"
        return Reply(204, None, {"OData-EntityId": location, "OData-Version": "4.0"})

    def _record_reply(
        self,
        status: int,
        table: Table,
        row: Row,
        request: Request,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Answer with one record, shaped by the request's ``$select``/``$expand``."""
        query = _parse_query(table, request)
        prefer = Preferences.parse(request.headers.get("prefer", ""))
        context = f"{context_url(self.api_url, table, query)}/$entity"
        body = {"@odata.context": context, **self._reader.render(table, row, query, prefer)}
        return self._json(status, body, prefer, headers)

    def _next_link(self, request: Request, offset: int, page: int) -> str:
        pairs = [
            (name, values[-1]) for name, values in request.query.items() if name != "$skiptoken"
        ]
        pairs.append(("$skiptoken", f'<cookie pagenumber="{page}" offset="{offset}" />'))
        query = "&".join(
            f"{quote(name, safe='$@')}={quote(value, safe='')}" for name, value in pairs
        )
        return f"{self.url}{request.path}?{query}"

    def _json(
        self,
        status: int,
        body: Any,
        prefer: Preferences | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        applied = []
        if prefer is not None and prefer.annotations_text:
            applied.append(f"odata.include-annotations={prefer.annotations_text}")
        if prefer is not None and prefer.max_page_size is not None:
            applied.append(f"odata.maxpagesize={min(prefer.max_page_size, MAX_PAGE_SIZE)}")
        all_headers = {"OData-Version": "4.0", **(headers or {})}
        if applied:
            all_headers["Preference-Applied"] = ",".join(
                [*applied, *filter(None, [all_headers.get("Preference-Applied")])]
            )
        return Reply(status, body, all_headers, JSON_CONTENT_TYPE)

    def _user_for(self, oid: str, claims: Mapping[str, Any]) -> str:
        """Return the systemuser of an Entra user, adding one on first sight."""
        found = self.store.lookup("systemuser", "azureactivedirectoryobjectid", oid)
        if found:
            return found[0]
        email = str(claims.get("preferred_username") or claims.get("upn") or "")
        for row in self.store.all("systemuser"):  # a rep added by email, not yet signed in
            if (
                email
                and (row.get("internalemailaddress") or "").lower() == email.lower()
                and not row.get("azureactivedirectoryobjectid")
            ):
                self.store.update(
                    TABLES["systemuser"],
                    row["systemuserid"],
                    {"azureactivedirectoryobjectid": oid.lower()},
                )
                return str(row["systemuserid"])
        return self.add_systemuser(
            str(claims.get("name") or email or oid), email, azureactivedirectoryobjectid=oid
        )

    def _emulator_user(self) -> str:
        """Return the user of requests whose token carries no object id."""
        return self._user_for("00000000-0000-4000-8000-0000000000e1", {"name": "Emulator User"})


class _RollBack(Exception):
    """Raised inside a changeset's transaction to undo it."""


def _query_options(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """Return the system query options and the parameter aliases of a request."""
    options, aliases = {}, {}
    for name, values in request.query.items():
        if name.startswith("@"):
            aliases[name] = values[-1]
        elif name.startswith("$"):
            if name not in _QUERY_OPTIONS:
                raise ODataError(f"The query parameter '{name}' is not supported.")
            if len(values) > 1:
                raise ODataError(
                    f"Query option '{name}' was specified more than once, but it must be"
                    " specified at most once."
                )
            options[name] = values[0]
    return options, aliases


def _parse_query(table: Table, request: Request) -> Query:
    options, aliases = _query_options(request)
    return parse_query(table.logical, options, TABLES, aliases)


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise ODataError(f"Invalid JSON in the request body: {error}.") from None


def _skiptoken_offset(token: str | None) -> int:
    if token is None:
        return 0
    found = _SKIPTOKEN.fullmatch(token)
    if found is None:
        raise ODataError("The $skiptoken is not valid.")
    return int(found.group(2))


def main(argv: Sequence[str] | None = None) -> None:
    """Run the emulator in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators.dataverse", description=main.__doc__
    )
    parser.add_argument("--sandbox", required=True, help="sandbox CRM file to serve")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    args = parser.parse_args(argv)
    emulator = DataverseEmulator.from_sandbox(args.sandbox, port=args.port, latency=args.latency)
    with emulator:
        print(f"Dataverse emulator: {emulator.api_url}", flush=True)
        print(f"CA file:            {emulator.ca_file}", flush=True)
        print("Auth:               any non-empty bearer token", flush=True)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
