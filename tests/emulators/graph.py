"""Loopback Microsoft Graph v1.0: reps' messages, attachments and events, as Outlook serves them.

Endpoints (all ``GET``, under ``/v1.0``; ``/me/...`` is the token's user, ``/users/{oid or
upn}/...`` names a mailbox, and only the token's own is readable)
-----------------------------------------------------------------------------------------------
/me/messages/{id}                         a message (``$select`` of message properties; ``id``
                                          and ``@odata.etag`` always come)
/me/messages/{id}/attachments             its attachments, each with ``@odata.type``
                                          (``#microsoft.graph.fileAttachment``, ``...item...``,
                                          ``...reference...``); file ones carry ``contentBytes``
                                          (base64) unless ``$select`` leaves it out, e.g.
                                          ``$select=id,name,contentType,size,isInline``
/me/messages/{id}/attachments/{aid}       one attachment in full (``contentBytes`` for a file;
                                          an item attachment has none, as without ``$expand``)
/me/messages                              messages of every folder; ``$filter``, ``$select``,
/me/mailFolders/{folder}/messages         ``$top`` (default 10, at most 1000), ``$skip``,
                                          ``$orderby`` (``receivedDateTime desc`` by default), and
                                          ``@odata.nextLink`` (``$skip``) while more remain.
                                          ``folder``: ``inbox``, ``sentitems``, ``drafts``,
                                          ``deleteditems`` (any case) or a folder id
/me/mailFolders/{folder}/messages/{id}    a message in that folder
/me/calendar                              the default calendar
/me/events/{id}, /me/calendar/events/{id}, /me/calendars/{calendarId}/events/{id}    an event

``$filter`` on messages: ``eq ne gt ge lt le``, ``and or not``, parentheses; string literals in
single quotes (a quote doubled: ``'it''s'``), unquoted ISO date-times (``2024-05-01T00:00:00Z``),
``true false null``; properties ``internetMessageId conversationId subject parentFolderId
importance receivedDateTime sentDateTime createdDateTime lastModifiedDateTime isDraft isRead
hasAttachments from/emailAddress/address sender/emailAddress/address``. String comparisons ignore
case. With ``$orderby`` as well, Graph's rule holds: every ordered property appears in the
filter, and before any other property (else 400 ``InefficientFilter``, "The restriction or sort
order is too complex for this operation.").

Errors are Graph's ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}``: unknown id 404 ``ErrorItemNotFound``; a bad filter 400 ``BadRequest``
(syntax) or ``ErrorInvalidUrlQueryFilter`` (unknown property, mismatched types); an unknown
``$select`` property 400 ``RequestBroker--ParseUri``; another user's mailbox 403
``ErrorAccessDenied``; an unknown user 404 ``ErrorInvalidUser``; a missing, expired or foreign
token 401 ``InvalidAuthenticationToken`` with a ``WWW-Authenticate: Bearer`` challenge.
Replies carry ``request-id``/``client-request-id``, and ``Preference-Applied`` when the request
asked ``Prefer: IdType="ImmutableId"`` (ids here never change anyway, except by `send_draft`).

Facts assumed rather than checked against Graph are marked [I]: that ``send_draft`` gives the
sent copy a new id but the draft's internetMessageId; that a sent message's receivedDateTime is
its sentDateTime; the codes of 5xx bodies; the wording of parse errors.

Auth
----
With ``entra`` every request needs ``Authorization: Bearer <jwt>`` that
``entra.verify_token(token, audience=<this emulator's url>)`` accepts (what an on-behalf-of
token for ``https://127.0.0.1:PORT/.default`` carries). The mailbox is the token's ``oid``; its
``preferred_username``/``upn`` becomes that mailbox's UPN for ``/users/{upn}``. Without
``entra`` the claims are read unchecked (running by hand).

Test-facing API
---------------
``add_message(oid, *, folder=None ("inbox", or "drafts" for a draft), subject, sender=(name,
address), to=[address or (name, address)], cc, bcc, reply_to, body_html,
internet_message_id=None (a new ``<...@...>``), conversation_id=None (a new one), sent_at,
received_at (aware or UTC; default now), is_draft=False, is_read=True, attachments=[dict(name,
content_type, content: bytes, is_inline=False, kind="file"|"item"|"reference", content_id=None,
size=None (default len(content)))], item_id=None (a new Graph-like id)) -> id``;
``add_event(oid, *, subject, organizer=(name, address), required, optional, start, end,
location, body_html, ical_uid=None, is_cancelled=False, event_id=None) -> id``;
``send_draft(oid, id) -> new id`` (the draft leaves Drafts; Sent Items gets a copy with a NEW id,
``isDraft`` false, ``sentDateTime`` now, the same internetMessageId [I]);
``message(oid, id)`` / ``event(oid, id)`` (the stored Graph JSON); ``add_user(oid, upn)``;
``deny(oid)`` (that user's requests get 403 ``ErrorAccessDenied``, as without Mail.Read);
``max_page_size`` (caps ``$top``, to make paging happen with a few messages); ``received``
(the requests routed, newest last); ``reset()`` (mailboxes, users, faults, latency, counts).
Faults through the loopback base (``inject``, ``DROP``, ``latency``) and: ``throttle(times,
retry_after)`` (429 ``TooManyRequests`` with ``Retry-After``), ``fail(times, status=503)``,
``drop(times)``. ``requests_served`` counts ``"GET /v1.0/me/messages/<id as sent>"``.

Ids look like Graph's REST ids: ``AAMkAG...AAA=`` (URL-safe base64 with ``-`` and ``_`` and a
trailing ``=``). Callers should URL-quote ids in paths; the emulator unquotes each segment.

Run by hand: ``python -m tests.emulators.graph [--port N]`` starts it with an Entra emulator, a
sample message and event, and prints a token for them.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import datetime as dt
import re
import secrets
import signal
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode

import jwt
import trustme

from .entra import EntraEmulator
from .loopback import DROP, LoopbackServer, Reply, Request, Route

API = "/v1.0"
#: Microsoft Graph's app id: what a v1 token's ``aud`` names, and the challenge's client_id.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
WELL_KNOWN_FOLDERS = ("inbox", "sentitems", "drafts", "deleteditems")
FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"
ITEM_ATTACHMENT = "#microsoft.graph.itemAttachment"
REFERENCE_ATTACHMENT = "#microsoft.graph.referenceAttachment"
_ATTACHMENT_TYPES = {
    "file": FILE_ATTACHMENT,
    "item": ITEM_ATTACHMENT,
    "reference": REFERENCE_ATTACHMENT,
}
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000
_NO_RESPONSE_TIME = "0001-01-01T00:00:00Z"

Json = dict[str, Any]
Person = str | tuple[str, str]


def _words(*lines: str) -> tuple[str, ...]:
    return tuple(" ".join(lines).split())


#: Properties a message answers to ``$select`` (those last two only when selected).
MESSAGE_PROPERTIES = _words(
    "id createdDateTime lastModifiedDateTime changeKey categories receivedDateTime sentDateTime",
    "hasAttachments internetMessageId subject bodyPreview importance parentFolderId",
    "conversationId conversationIndex isDeliveryReceiptRequested isReadReceiptRequested isRead",
    "isDraft webLink inferenceClassification body sender from toRecipients ccRecipients",
    "bccRecipients replyTo flag uniqueBody internetMessageHeaders",
)
_NOT_BY_DEFAULT = frozenset({"uniqueBody", "internetMessageHeaders"})
EVENT_PROPERTIES = _words(
    "id createdDateTime lastModifiedDateTime changeKey categories transactionId",
    "originalStartTimeZone originalEndTimeZone iCalUId uid reminderMinutesBeforeStart",
    "isReminderOn hasAttachments subject bodyPreview importance sensitivity isAllDay isCancelled",
    "isOrganizer responseRequested seriesMasterId showAs type webLink onlineMeetingUrl",
    "isOnlineMeeting onlineMeetingProvider allowNewTimeProposals isDraft hideAttendees",
    "responseStatus body start end location locations recurrence attendees organizer",
    "onlineMeeting",
)
ATTACHMENT_PROPERTIES = ("id", "lastModifiedDateTime", "name", "contentType", "size", "isInline")

#: ``$filter``-able message properties (lower case) → (the JSON path, the Edm type).
_FILTERABLE: Mapping[str, tuple[tuple[str, ...], str]] = {
    "internetmessageid": (("internetMessageId",), "Edm.String"),
    "conversationid": (("conversationId",), "Edm.String"),
    "subject": (("subject",), "Edm.String"),
    "parentfolderid": (("parentFolderId",), "Edm.String"),
    "importance": (("importance",), "Edm.String"),
    "receiveddatetime": (("receivedDateTime",), "Edm.DateTimeOffset"),
    "sentdatetime": (("sentDateTime",), "Edm.DateTimeOffset"),
    "createddatetime": (("createdDateTime",), "Edm.DateTimeOffset"),
    "lastmodifieddatetime": (("lastModifiedDateTime",), "Edm.DateTimeOffset"),
    "isdraft": (("isDraft",), "Edm.Boolean"),
    "isread": (("isRead",), "Edm.Boolean"),
    "hasattachments": (("hasAttachments",), "Edm.Boolean"),
    "from/emailaddress/address": (("from", "emailAddress", "address"), "Edm.String"),
    "sender/emailaddress/address": (("sender", "emailAddress", "address"), "Edm.String"),
}
_ORDERABLE = frozenset(
    {"receiveddatetime", "sentdatetime", "createddatetime", "lastmodifieddatetime", "subject"}
)


class GraphError(Exception):
    """A refusal in Graph's shape: HTTP status, error code, message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def _not_found() -> GraphError:
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


# -- ids and times --------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def graph_id(prefix: str = "AAMkAG") -> str:
    """Return a new id shaped like Graph's REST ids: URL-safe base64, ``-`` and ``_``, ``=``."""
    body = _b64(secrets.token_bytes(48))  # 64 characters, no padding
    return f"{prefix}{body[:22]}-{body[22:44]}_{body[44:]}AAA="


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _utc(value: dt.datetime | None, default: dt.datetime) -> dt.datetime:
    if value is None:
        return default
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _iso(value: dt.datetime) -> str:
    """Graph's message time: ``2024-05-01T09:00:00Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_time(value: dt.datetime) -> Json:
    """Graph's dateTimeTimeZone, in UTC as Graph answers without ``Prefer: outlook.timezone``."""
    return {
        "dateTime": value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
        "timeZone": "UTC",
    }


def _parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _email(person: Person) -> Json:
    name, address = ("", person) if isinstance(person, str) else person
    return {"emailAddress": {"name": name or address, "address": address}}


def _preview(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", text).strip()[:255]


# -- the store ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Attachment:
    id: str
    kind: str  # file, item, reference
    name: str
    content_type: str
    content: bytes
    size: int
    is_inline: bool
    content_id: str | None
    modified: str

    def resource(self) -> Json:
        """Return it as ``GET .../attachments/{id}`` answers, in full."""
        data: Json = {
            "@odata.type": _ATTACHMENT_TYPES[self.kind],
            "id": self.id,
            "lastModifiedDateTime": self.modified,
            "name": self.name,
            "contentType": self.content_type if self.kind != "item" else None,
            "size": self.size,
            "isInline": self.is_inline,
        }
        if self.kind == "file":
            data = {"@odata.mediaContentType": self.content_type} | data
            data |= {
                "contentId": self.content_id,
                "contentLocation": None,
                "contentBytes": base64.b64encode(self.content).decode("ascii"),
            }
        return data


@dataclass(slots=True)
class _Mailbox:
    oid: str
    upn: str = ""
    folders: dict[str, str] = field(default_factory=dict)  # well-known name -> folder id
    messages: dict[str, Json] = field(default_factory=dict)
    attachments: dict[str, list[_Attachment]] = field(default_factory=dict)
    events: dict[str, Json] = field(default_factory=dict)
    calendar_id: str = ""

    def __post_init__(self) -> None:
        self.folders = {name: graph_id("AAMkAGFolder") for name in WELL_KNOWN_FOLDERS}
        self.calendar_id = graph_id("AAMkAGCalendar")

    def folder_id(self, folder: str) -> str:
        """Return the id of a well-known folder name (any case) or a folder id, else raise."""
        if folder.lower() in self.folders:
            return self.folders[folder.lower()]
        if folder in self.folders.values():
            return folder
        if folder.startswith("AAMk"):
            raise _not_found()
        raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")


# -- $filter --------------------------------------------------------------------------------------

_TOKENS = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,7})?)?(?:Z|[+-]\d\d:\d\d))
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_]\w*(?:/[A-Za-z_]\w*)*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
_OPERATORS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string, datetime, number, name, punct, end
    text: str
    end: int


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """A parsed ``$filter``: the test, and the properties it names in order of appearance."""

    text: str
    test: Callable[[Json], bool]
    properties: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> MessageFilter:
        parser = _FilterParser(text)
        return cls(text, parser.parse(), tuple(dict.fromkeys(parser.properties)))


class _FilterParser:
    """Recursive descent: or > and > not > comparison | ( ... )."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._lex(text)
        self.position = 0
        self.properties: list[str] = []

    def _syntax_error(self, position: int) -> GraphError:
        return GraphError(
            400,
            "BadRequest",
            f"Invalid filter clause: Syntax error at position {position} in '{self.text}'.",
        )

    def _lex(self, text: str) -> list[_Token]:
        tokens, i = [], 0
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i == len(text):
                tokens.append(_Token("end", "", i))
                return tokens
            found = _TOKENS.match(text, i)
            if found is None or found.lastgroup is None:
                if text[i] == "'":
                    raise GraphError(
                        400,
                        "BadRequest",
                        f"Invalid filter clause: There is an unterminated string literal at"
                        f" position {len(text)} in '{text}'.",
                    )
                raise self._syntax_error(i)
            tokens.append(_Token(found.lastgroup, found.group(found.lastgroup), found.end()))
            i = found.end()

    @property
    def token(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.token
        if token.kind != "end":
            self.position += 1
        return token

    def at_word(self, word: str) -> bool:
        return self.token.kind == "name" and self.token.text.lower() == word

    def parse(self) -> Callable[[Json], bool]:
        test = self.disjunction()
        if self.token.kind != "end":
            raise self._syntax_error(self.token.end)
        return test

    def disjunction(self) -> Callable[[Json], bool]:
        tests = [self.conjunction()]
        while self.at_word("or"):
            self.advance()
            tests.append(self.conjunction())
        return tests[0] if len(tests) == 1 else (lambda row: any(t(row) for t in tests))

    def conjunction(self) -> Callable[[Json], bool]:
        tests = [self.negation()]
        while self.at_word("and"):
            self.advance()
            tests.append(self.negation())
        return tests[0] if len(tests) == 1 else (lambda row: all(t(row) for t in tests))

    def negation(self) -> Callable[[Json], bool]:
        if self.at_word("not"):
            self.advance()
            inner = self.negation()
            return lambda row: not inner(row)
        if self.token.kind == "punct" and self.token.text == "(":
            self.advance()
            inner = self.disjunction()
            if not (self.token.kind == "punct" and self.token.text == ")"):
                raise self._syntax_error(self.token.end)
            self.advance()
            return inner
        return self.comparison()

    def comparison(self) -> Callable[[Json], bool]:
        name = self.advance()
        if name.kind != "name":
            raise self._syntax_error(name.end)
        known = _FILTERABLE.get(name.text.lower())
        if known is None:
            raise GraphError(
                400,
                "ErrorInvalidUrlQueryFilter",
                f"Could not find a property named '{name.text}' on type 'microsoft.graph.message'.",
            )
        self.properties.append(name.text.lower())
        operator = self.advance()
        if operator.kind != "name" or operator.text not in _OPERATORS:
            raise self._syntax_error(operator.end)
        literal = self.advance()
        path, edm = known
        value, literal_edm = self._literal(literal)
        if literal_edm is not None and literal_edm != edm:
            raise GraphError(
                400,
                "ErrorInvalidUrlQueryFilter",
                "A binary operator with incompatible types was detected. Found operand types"
                f" '{edm}' and '{literal_edm}' for operator kind '{_OPERATORS[operator.text]}'.",
            )
        return _comparison(path, edm, operator.text, value)

    def _literal(self, token: _Token) -> tuple[Any, str | None]:
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'"), "Edm.String"
        if token.kind == "datetime":
            try:
                return _parse_time(token.text), "Edm.DateTimeOffset"
            except ValueError:
                raise self._syntax_error(token.end) from None
        if token.kind == "number":
            return float(token.text), "Edm.Double"
        if token.kind == "name" and token.text in ("true", "false"):
            return token.text == "true", "Edm.Boolean"
        if token.kind == "name" and token.text == "null":
            return None, None
        raise self._syntax_error(token.end)


def _comparison(
    path: tuple[str, ...], edm: str, operator: str, wanted: Any
) -> Callable[[Json], bool]:
    def test(row: Json) -> bool:
        value: Any = row
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None and edm == "Edm.DateTimeOffset":
            value = _parse_time(value)
        if value is not None and edm == "Edm.String":
            value = str(value).casefold()
        target = wanted.casefold() if isinstance(wanted, str) else wanted
        if operator == "eq":
            return bool(value == target)
        if operator == "ne":
            return bool(value != target)
        if value is None or target is None:
            return False
        return {
            "gt": value > target,
            "ge": value >= target,
            "lt": value < target,
            "le": value <= target,
        }[operator]

    return test


def _order_keys(text: str) -> list[tuple[str, bool]]:
    """Read ``$orderby``: [(property lower case, descending)]."""
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise GraphError(400, "BadRequest", f"Invalid $orderby clause: '{text}'.")
        name = words[0].lower()
        if name not in _ORDERABLE:
            raise GraphError(
                400,
                "RequestBroker--ParseUri",
                f"Could not find a property named '{words[0]}' on type 'microsoft.graph.message'.",
            )
        keys.append((name, len(words) == 2 and words[1] == "desc"))
    return keys


def _check_sort_against_filter(keys: list[tuple[str, bool]], found: MessageFilter | None) -> None:
    """Graph's rule: ordered properties appear in the filter, first and in the same order."""
    if found is None:
        return
    ordered = [name for name, _ in keys]
    if list(found.properties[: len(ordered)]) != ordered:
        raise GraphError(
            400,
            "InefficientFilter",
            "The restriction or sort order is too complex for this operation.",
        )


def _selection(request: Request, allowed: Sequence[str], entity: str) -> list[str] | None:
    """Return the ``$select``-ed properties (by their Graph spelling), None for all."""
    values = request.query.get("$select")
    if not values:
        return None
    by_lower = {name.lower(): name for name in allowed}
    chosen = []
    for raw in values[-1].split(","):
        name = raw.strip()
        if not name:
            continue
        if "/" in name:  # a type cast (microsoft.graph.eventMessage/...): not emulated, left out
            continue
        if name.lower() not in by_lower:
            raise GraphError(
                400,
                "RequestBroker--ParseUri",
                f"Could not find a property named '{name}' on type 'microsoft.graph.{entity}'.",
            )
        chosen.append(by_lower[name.lower()])
    return chosen


def _project(resource: Json, selected: list[str] | None, hidden: Iterable[str] = ()) -> Json:
    hidden = frozenset(hidden)
    if selected is None:
        return {key: value for key, value in resource.items() if key not in hidden}
    keep = {"@odata.type", "@odata.etag", "@odata.mediaContentType", "id", *selected}
    return {key: value for key, value in resource.items() if key in keep}


def _int_option(request: Request, name: str, default: int) -> int:
    values = request.query.get(name)
    if not values:
        return default
    try:
        number = int(values[-1])
    except ValueError:
        number = -1
    if number < 0:
        raise GraphError(
            400, "BadRequest", f"Invalid value '{values[-1]}' for query option {name}."
        )
    return number


# -- the emulator ---------------------------------------------------------------------------------


def _both(suffix: str, handler: str) -> tuple[Route, Route]:
    return (
        Route("GET", f"{API}/me{suffix}", handler),
        Route("GET", f"{API}/users/{{user}}{suffix}", handler),
    )


class GraphEmulator(LoopbackServer):
    """Microsoft Graph on 127.0.0.1: mail and calendar reads for the token's user."""

    name = "Graph emulator"
    ROUTES = (
        *_both("/messages", "list_messages"),
        *_both("/messages/{message_id}", "get_message"),
        *_both("/messages/{message_id}/attachments", "list_attachments"),
        *_both("/messages/{message_id}/attachments/{attachment_id}", "get_attachment"),
        *_both("/mailFolders/{folder}/messages", "list_messages"),
        *_both("/mailFolders/{folder}/messages/{message_id}", "get_message"),
        *_both("/calendar", "get_calendar"),
        *_both("/events/{event_id}", "get_event"),
        *_both("/calendar/events/{event_id}", "get_event"),
        *_both("/calendars/{calendar_id}/events/{event_id}", "get_event"),
    )

    def __init__(
        self, *, entra: EntraEmulator | None = None, port: int = 0, ca: trustme.CA | None = None
    ) -> None:
        super().__init__(port=port, ca=ca)
        self.entra = entra
        self._state_lock = threading.Lock()
        self._mailboxes: dict[str, _Mailbox] = {}
        self._denied: set[str] = set()
        #: Largest page served, whatever ``$top`` asks (Graph's own ceiling is 1000).
        self.max_page_size = MAX_PAGE_SIZE
        #: The requests routed to a handler (faults and unknown paths left out), oldest first.
        self.received: list[Request] = []

    # -- test controls ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every mailbox, user and denial; clear faults, latency, counts and ``received``."""
        with self._state_lock:
            self._mailboxes.clear()
            self._denied.clear()
            self.received.clear()
        self.max_page_size = MAX_PAGE_SIZE
        self.clear_faults()
        self.latency = 0.0
        with self._count_lock:
            self.requests_served.clear()

    def add_user(self, oid: str, upn: str) -> None:
        """Give the mailbox of ``oid`` a UPN (for ``/users/{upn}``); tokens teach it as well."""
        with self._state_lock:
            self._box(oid).upn = upn

    def deny(self, oid: str, denied: bool = True) -> None:
        """Answer the user's requests 403 ``ErrorAccessDenied`` (no Mail.Read consent)."""
        with self._state_lock:
            (self._denied.add if denied else self._denied.discard)(oid)

    def add_message(
        self,
        oid: str,
        *,
        folder: str | None = None,
        subject: str = "",
        sender: Person = ("", ""),
        to: Iterable[Person] = (),
        cc: Iterable[Person] = (),
        bcc: Iterable[Person] = (),
        reply_to: Iterable[Person] = (),
        body_html: str = "",
        internet_message_id: str | None = None,
        conversation_id: str | None = None,
        sent_at: dt.datetime | None = None,
        received_at: dt.datetime | None = None,
        is_draft: bool = False,
        is_read: bool = True,
        attachments: Iterable[Mapping[str, Any]] = (),
        item_id: str | None = None,
    ) -> str:
        """Put a message in the user's ``folder``; return its id (see the module docstring)."""
        now = _now()
        sent = _utc(sent_at, _utc(received_at, now))
        received = _utc(received_at, sent)
        message_id = item_id or graph_id()
        files = [self._attachment(spec, now) for spec in attachments]
        sender_json = _email(sender) if (sender if isinstance(sender, str) else sender[1]) else None
        change_key = _b64(secrets.token_bytes(12))
        message: Json = {
            "@odata.etag": f'W/"{change_key}"',
            "id": message_id,
            "createdDateTime": _iso(min(sent, now)),
            "lastModifiedDateTime": _iso(now),
            "changeKey": change_key,
            "categories": [],
            "receivedDateTime": _iso(received),
            "sentDateTime": _iso(sent),
            # Graph: hasAttachments leaves inline attachments out.
            "hasAttachments": any(not a.is_inline for a in files),
            "internetMessageId": internet_message_id
            or f"<{uuid.uuid4().hex[:20].upper()}@sidepane.example>",
            "subject": subject,
            "bodyPreview": _preview(body_html),
            "importance": "normal",
            "parentFolderId": "",
            "conversationId": conversation_id or graph_id("AAQkAG"),
            "conversationIndex": _b64(secrets.token_bytes(22)),
            "isDeliveryReceiptRequested": False,
            "isReadReceiptRequested": False,
            "isRead": is_read,
            "isDraft": is_draft,
            "webLink": f"https://outlook.office365.com/owa/?ItemID={quote(message_id, safe='')}"
            "&exvsurl=1&viewmodel=ReadMessageItem",
            "inferenceClassification": "focused",
            "body": {"contentType": "html", "content": body_html},
            "sender": sender_json,
            "from": sender_json,
            "toRecipients": [_email(p) for p in to],
            "ccRecipients": [_email(p) for p in cc],
            "bccRecipients": [_email(p) for p in bcc],
            "replyTo": [_email(p) for p in reply_to],
            "flag": {"flagStatus": "notFlagged"},
            "uniqueBody": {"contentType": "html", "content": body_html},
            "internetMessageHeaders": [],
        }
        if not is_draft:
            message["internetMessageHeaders"] = [
                {"name": "Message-ID", "value": message["internetMessageId"]},
                {"name": "Subject", "value": subject},
            ]
        with self._state_lock:
            box = self._box(oid)
            message["parentFolderId"] = box.folder_id(folder or ("drafts" if is_draft else "inbox"))
            box.messages[message_id] = message
            box.attachments[message_id] = files
        return message_id

    def add_event(
        self,
        oid: str,
        *,
        subject: str = "",
        organizer: Person = ("", ""),
        required: Iterable[Person] = (),
        optional: Iterable[Person] = (),
        start: dt.datetime,
        end: dt.datetime,
        location: str = "",
        body_html: str = "",
        ical_uid: str | None = None,
        is_cancelled: bool = False,
        event_id: str | None = None,
    ) -> str:
        """Put an event in the user's default calendar; return its id."""
        now = _now()
        identifier = event_id or graph_id()
        change_key = _b64(secrets.token_bytes(12))
        organizer_json = _email(organizer)
        attendees = [
            _email(person)
            | {"type": kind, "status": {"response": "none", "time": _NO_RESPONSE_TIME}}
            for kind, people in (("required", required), ("optional", optional))
            for person in people
        ]
        place = {
            "displayName": location,
            "locationType": "default",
            "uniqueIdType": "unknown" if not location else "private",
        }
        event: Json = {
            "@odata.etag": f'W/"{change_key}"',
            "id": identifier,
            "createdDateTime": _iso(now),
            "lastModifiedDateTime": _iso(now),
            "changeKey": change_key,
            "categories": [],
            "transactionId": None,
            "originalStartTimeZone": "UTC",
            "originalEndTimeZone": "UTC",
            "iCalUId": ical_uid
            or "040000008200E00074C5B7101A82E008" + secrets.token_hex(28).upper(),
            "uid": ical_uid or "",
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "hasAttachments": False,
            "subject": subject,
            "bodyPreview": _preview(body_html),
            "importance": "normal",
            "sensitivity": "normal",
            "isAllDay": False,
            "isCancelled": is_cancelled,
            "isOrganizer": True,
            "responseRequested": True,
            "seriesMasterId": None,
            "showAs": "busy",
            "type": "singleInstance",
            "webLink": f"https://outlook.office365.com/owa/?itemid={quote(identifier, safe='')}"
            "&exvsurl=1&path=/calendar/item",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": False,
            "onlineMeetingProvider": "unknown",
            "allowNewTimeProposals": True,
            "isDraft": False,
            "hideAttendees": False,
            "responseStatus": {"response": "organizer", "time": _NO_RESPONSE_TIME},
            "body": {"contentType": "html", "content": body_html},
            "start": _event_time(_utc(start, now)),
            "end": _event_time(_utc(end, now)),
            "location": place,
            "locations": [place] if location else [],
            "recurrence": None,
            "attendees": attendees,
            "organizer": organizer_json,
            "onlineMeeting": None,
        }
        if not event["uid"]:
            event["uid"] = event["iCalUId"]
        with self._state_lock:
            self._box(oid).events[identifier] = event
        return identifier

    def send_draft(self, oid: str, item_id: str) -> str:
        """Send a draft: it leaves Drafts, and Sent Items holds it under a new id; return that."""
        now = _now()
        with self._state_lock:
            box = self._box(oid)
            draft = box.messages.get(item_id)
            if draft is None or not draft["isDraft"]:
                raise KeyError(f"no draft {item_id!r} in the mailbox of {oid}")
            del box.messages[item_id]
            files = box.attachments.pop(item_id, [])
            new_id = graph_id()
            sent = copy.deepcopy(draft) | {
                "id": new_id,
                "isDraft": False,
                "sentDateTime": _iso(now),
                "receivedDateTime": _iso(now),  # [I] a sent item's received time is its send time
                "lastModifiedDateTime": _iso(now),
                "parentFolderId": box.folders["sentitems"],
                "isRead": True,
                "internetMessageHeaders": [
                    {"name": "Message-ID", "value": draft["internetMessageId"]},
                    {"name": "Subject", "value": draft["subject"]},
                ],
            }
            box.messages[new_id] = sent
            box.attachments[new_id] = files
        return new_id

    def message(self, oid: str, item_id: str) -> Json:
        """Return the stored message as Graph holds it (every property), or raise KeyError."""
        with self._state_lock:
            return copy.deepcopy(self._box(oid).messages[item_id])

    def event(self, oid: str, item_id: str) -> Json:
        """Return the stored event, or raise KeyError."""
        with self._state_lock:
            return copy.deepcopy(self._box(oid).events[item_id])

    def folder_id(self, oid: str, folder: str) -> str:
        """Return the id of the user's well-known folder (``inbox``, ``sentitems``...)."""
        with self._state_lock:
            return self._box(oid).folder_id(folder)

    def throttle(self, times: int = 1, *, retry_after: int = 1, path: str | None = None) -> None:
        """Answer the next ``times`` requests 429 ``TooManyRequests`` with ``Retry-After``."""
        reply = self._fault_reply(
            429,
            "TooManyRequests",
            "Please retry again later.",
            {"Retry-After": str(retry_after)},
            {"code": "429", "message": "Please retry after", "status": "429"},
        )
        self.inject(reply, times=times, path=self._api_path(path))

    def fail(self, times: int = 1, *, status: int = 503, path: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (a 5xx, or any other)."""
        code, message = {
            500: ("generalException", "An unexpected error occurred."),  # [I]
            502: ("UnknownError", "Bad Gateway"),  # [I]
            503: ("serviceNotAvailable", "The service is temporarily unavailable."),  # [I]
            504: ("UnknownError", "Gateway Timeout"),  # [I]
        }.get(status, ("UnknownError", f"HTTP {status}"))
        self.inject(
            self._fault_reply(status, code, message), times=times, path=self._api_path(path)
        )

    def drop(self, times: int = 1, *, path: str | None = None) -> None:
        """Close the next ``times`` connections without answering."""
        self.inject(DROP, times=times, path=self._api_path(path))

    @staticmethod
    def _api_path(path: str | None) -> str | None:
        """Read a fault's path relative to ``/v1.0`` unless it starts with ``/``."""
        return path if path is None or path.startswith("/") else f"{API}/{path}"

    @staticmethod
    def _fault_reply(
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        inner: Mapping[str, str] | None = None,
    ) -> Reply:
        request_id = str(uuid.uuid4())
        inner_error = {
            "date": _now().strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": request_id,
            **(inner or {}),
        }
        body = {"error": {"code": code, "message": message, "innerError": inner_error}}
        all_headers = {"request-id": request_id, "client-request-id": request_id, **(headers or {})}
        return Reply(status, body, all_headers, JSON_CONTENT_TYPE)

    # -- dispatch -------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """Route the request; turn a `GraphError` into Graph's error reply; add Graph's headers."""
        client_request_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        try:
            reply = super().route(request)
        except GraphError as error:
            reply = self._error_reply(error, client_request_id)
        headers = {
            "request-id": str(uuid.uuid4()),
            "client-request-id": client_request_id,
            "OData-Version": "4.0",
            **reply.headers,
        }
        if "immutableid" in request.headers.get("prefer", "").replace(" ", "").lower():
            headers["Preference-Applied"] = 'IdType="ImmutableId"'
        return Reply(reply.status, reply.body, headers, reply.content_type)

    def not_found(self, request: Request) -> Reply:
        segment = request.path.rstrip("/").rsplit("/", 1)[-1]
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")

    @staticmethod
    def _error_reply(error: GraphError, client_request_id: str) -> Reply:
        inner = {
            "date": _now().strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": str(uuid.uuid4()),
            "client-request-id": client_request_id,
        }
        body = {"error": {"code": error.code, "message": error.message, "innerError": inner}}
        return Reply(error.status, body, error.headers, JSON_CONTENT_TYPE)

    def _box(self, oid: str) -> _Mailbox:
        """Return the user's mailbox, made on first use (hold ``_state_lock``)."""
        box = self._mailboxes.get(oid)
        if box is None:
            box = self._mailboxes[oid] = _Mailbox(oid)
        return box

    def _admit(self, request: Request, user: str | None) -> _Mailbox:
        """Check the bearer token and whose mailbox is asked for; return it, or raise."""
        with self._state_lock:
            self.received.append(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise self._unauthorized("Access token is empty.")
        try:
            if self.entra is not None:
                claims = self.entra.verify_token(token, audience=self.url)
            else:
                claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.ExpiredSignatureError:
            raise self._unauthorized("Lifetime validation failed, the token is expired.") from None
        except jwt.InvalidAudienceError:
            raise self._unauthorized("Access token validation failure. Invalid audience.") from None
        except jwt.InvalidTokenError:
            raise self._unauthorized("Access token validation failure.") from None
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise self._unauthorized("Access token validation failure.")
        upn = claims.get("preferred_username") or claims.get("upn") or ""
        with self._state_lock:
            box = self._box(oid)
            if upn and not box.upn:
                box.upn = str(upn)
            denied = oid in self._denied
            target = self._resolve(unquote(user)) if user is not None else box
        if target is None:
            raise GraphError(
                404, "ErrorInvalidUser", f"The requested user '{unquote(user or '')}' is invalid."
            )
        if denied or target is not box:
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        return box

    def _resolve(self, user: str) -> _Mailbox | None:
        """Return the mailbox an ``oid`` or UPN names (hold ``_state_lock``)."""
        if user in self._mailboxes:
            return self._mailboxes[user]
        lowered = user.lower()
        return next(
            (b for b in self._mailboxes.values() if b.upn and b.upn.lower() == lowered), None
        )

    def _unauthorized(self, message: str) -> GraphError:
        authority = (
            self.entra.url if self.entra is not None else "https://login.microsoftonline.com"
        )
        challenge = (
            f'Bearer realm="", authorization_uri="{authority}/common/oauth2/authorize",'
            f' client_id="{GRAPH_APP_ID}"'
        )
        return GraphError(
            401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": challenge}
        )

    def _context(self, box: _Mailbox, tail: str) -> str:
        return f"{self.url}{API}/$metadata#users('{box.oid}')/{tail}"

    # -- endpoints -------------------------------------------------------------------------------

    def get_message(
        self, request: Request, message_id: str, folder: str | None = None, user: str | None = None
    ) -> Reply:
        """Answer one message, with ``$select``."""
        box = self._admit(request, user)
        selected = _selection(request, MESSAGE_PROPERTIES, "message")
        with self._state_lock:
            message = box.messages.get(unquote(message_id))
            if (
                message is not None
                and folder is not None
                and message["parentFolderId"] != box.folder_id(unquote(folder))
            ):
                message = None
            message = copy.deepcopy(message)
        if message is None:
            raise _not_found()
        body = {"@odata.context": self._context(box, "messages/$entity")}
        return Reply(
            200, body | _project(message, selected, _NOT_BY_DEFAULT), {}, JSON_CONTENT_TYPE
        )

    def list_messages(
        self, request: Request, folder: str | None = None, user: str | None = None
    ) -> Reply:
        """Answer a page of messages: ``$filter`` ``$orderby`` ``$select`` ``$top`` ``$skip``."""
        box = self._admit(request, user)
        selected = _selection(request, MESSAGE_PROPERTIES, "message")
        filter_text = (request.query.get("$filter") or [""])[-1]
        found = MessageFilter.parse(filter_text) if filter_text.strip() else None
        order_text = (request.query.get("$orderby") or [""])[-1]
        keys = _order_keys(order_text) if order_text.strip() else [("receiveddatetime", True)]
        if order_text.strip():
            _check_sort_against_filter(keys, found)
        top = _int_option(request, "$top", DEFAULT_PAGE_SIZE)
        if not 1 <= top <= MAX_PAGE_SIZE:
            raise GraphError(400, "BadRequest", f"Invalid value '{top}' for query option $top.")
        skip = _int_option(request, "$skip", 0)
        with self._state_lock:
            folder_id = box.folder_id(unquote(folder)) if folder is not None else None
            rows = [
                copy.deepcopy(m)
                for m in box.messages.values()
                if folder_id is None or m["parentFolderId"] == folder_id
            ]
        if found is not None:
            rows = [row for row in rows if found.test(row)]
        for name, descending in reversed(keys):
            path, edm = _FILTERABLE[name]
            rows.sort(
                key=lambda row, key=path[0], edm=edm: (
                    _parse_time(row[key])
                    if edm == "Edm.DateTimeOffset"
                    else str(row[key]).casefold()
                ),
                reverse=descending,
            )
        size = min(top, max(1, self.max_page_size))
        page = rows[skip : skip + size]
        body: Json = {
            "@odata.context": self._context(box, "messages"),
            "value": [_project(row, selected, _NOT_BY_DEFAULT) for row in page],
        }
        if skip + len(page) < len(rows):
            options = {name: values[-1] for name, values in request.query.items()}
            options["$skip"] = str(skip + len(page))
            body["@odata.nextLink"] = (
                f"{self.url}{request.path}?{urlencode(options, quote_via=quote)}"
            )
        return Reply(200, body, {}, JSON_CONTENT_TYPE)

    def list_attachments(self, request: Request, message_id: str, user: str | None = None) -> Reply:
        """Answer a message's attachments (``contentBytes`` only when not ``$select``-ed out)."""
        box = self._admit(request, user)
        selected = _selection(request, ATTACHMENT_PROPERTIES, "attachment")
        with self._state_lock:
            files = box.attachments.get(unquote(message_id))
            resources = [a.resource() for a in files] if files is not None else None
        if resources is None:
            raise _not_found()
        body = {
            "@odata.context": self._context(box, f"messages('{unquote(message_id)}')/attachments"),
            "value": [_project(resource, selected) for resource in resources],
        }
        return Reply(200, body, {}, JSON_CONTENT_TYPE)

    def get_attachment(
        self, request: Request, message_id: str, attachment_id: str, user: str | None = None
    ) -> Reply:
        """Answer one attachment in full."""
        box = self._admit(request, user)
        selected = _selection(request, ATTACHMENT_PROPERTIES, "attachment")
        wanted = unquote(attachment_id)
        with self._state_lock:
            files = box.attachments.get(unquote(message_id)) or []
            resource = next((a.resource() for a in files if a.id == wanted), None)
        if resource is None:
            raise _not_found()
        context = {
            "@odata.context": self._context(
                box, f"messages('{unquote(message_id)}')/attachments/$entity"
            )
        }
        return Reply(200, context | _project(resource, selected), {}, JSON_CONTENT_TYPE)

    def get_calendar(self, request: Request, user: str | None = None) -> Reply:
        """Answer the user's default calendar."""
        box = self._admit(request, user)
        body = {
            "@odata.context": self._context(box, "calendars/$entity"),
            "id": box.calendar_id,
            "name": "Calendar",
            "color": "auto",
            "hexColor": "",
            "isDefaultCalendar": True,
            "changeKey": _b64(box.calendar_id.encode()[:12]),
            "canShare": True,
            "canViewPrivateItems": True,
            "canEdit": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "isTallyingResponses": True,
            "isRemovable": False,
            "owner": {"name": box.upn, "address": box.upn},
        }
        return Reply(200, body, {}, JSON_CONTENT_TYPE)

    def get_event(
        self,
        request: Request,
        event_id: str,
        calendar_id: str | None = None,
        user: str | None = None,
    ) -> Reply:
        """Answer one event of the user's calendar."""
        box = self._admit(request, user)
        selected = _selection(request, EVENT_PROPERTIES, "event")
        with self._state_lock:
            event = copy.deepcopy(box.events.get(unquote(event_id)))
        if event is None or (calendar_id is not None and unquote(calendar_id) != box.calendar_id):
            raise _not_found()
        body = {"@odata.context": self._context(box, "events/$entity")}
        return Reply(200, body | _project(event, selected), {}, JSON_CONTENT_TYPE)

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _attachment(spec: Mapping[str, Any], now: dt.datetime) -> _Attachment:
        kind = spec.get("kind", "file")
        if kind not in _ATTACHMENT_TYPES:
            raise ValueError(f"attachment kind must be file, item or reference, not {kind!r}")
        content = bytes(spec.get("content", b""))
        is_inline = bool(spec.get("is_inline", False))
        content_id = spec.get("content_id")
        if is_inline and content_id is None:
            content_id = f"{spec['name']}@{secrets.token_hex(4)}"
        default_type = "message/rfc822" if kind == "item" else "application/octet-stream"
        return _Attachment(
            id=f"{graph_id()[:-1]}BEgAQA{_b64(secrets.token_bytes(12))}=",
            kind=kind,
            name=spec["name"],
            content_type=spec.get("content_type", default_type),
            content=content,
            size=int(spec["size"]) if spec.get("size") is not None else len(content),
            is_inline=is_inline,
            content_id=content_id,
            modified=_iso(now),
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Run Graph (and an Entra emulator for its tokens) until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators.graph", description=main.__doc__
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    oid = "22222222-2222-4222-8222-222222222222"
    with EntraEmulator() as entra, GraphEmulator(entra=entra, port=args.port) as graph:
        message_id = graph.add_message(
            oid,
            subject="Quote for 20 licences",
            sender=("Dana Buyer", "dana@fabrikam.example"),
            to=[("Alex Rep", "alex@contoso.example")],
            body_html="<p>Please find the quote attached.</p>",
            attachments=[
                dict(name="quote.pdf", content_type="application/pdf", content=b"%PDF-1.7")
            ],
        )
        start = _now() + dt.timedelta(days=1)
        event_id = graph.add_event(
            oid,
            subject="Renewal call",
            organizer=("Alex Rep", "alex@contoso.example"),
            required=[("Dana Buyer", "dana@fabrikam.example")],
            start=start,
            end=start + dt.timedelta(minutes=30),
            location="Teams",
        )
        token = entra.issue_token(
            tenant_id="11111111-1111-4111-8111-111111111111",
            oid=oid,
            audience=graph.url,
            scopes=("Mail.Read", "Calendars.Read"),
            email="alex@contoso.example",
        )
        print(f"Graph emulator: {graph.url}{API}/me/messages", flush=True)
        print(f"CA file:        {graph.ca_file}", flush=True)
        print(f"Entra emulator: {entra.url}", flush=True)
        print(f"Message id:     {message_id}", flush=True)
        print(f"Event id:       {event_id}", flush=True)
        print(f"Token:          {token}", flush=True)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
