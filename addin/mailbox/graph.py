"""The rep's mailbox in Microsoft 365, read through Microsoft Graph with O365.

Features
--------
* `GraphMailbox` keeps the `addin.mailbox.Mailbox` contract over O365 (``O365.Account`` with
  an ``MSGraphProtocol`` whose ``_protocol_url`` is the configured Graph URL): O365 builds the
  URLs and reads messages and events into its objects; where it has no call for a read (the
  attachments' metadata without their contents, a filtered list, one event by id) the same
  account's ``Connection.get`` is used, so every request takes the same road.
* That road is ours, not O365's: `_GraphConnection` replaces O365's request loop (its urllib3
  retries are off, ``request_retries=0``) with the one the Dynamics transport uses:

  ====================================  =================================================
  429 with ``Retry-After``              wait that long and try again, up to ``attempts``;
                                        then (or when asked to wait longer than
                                        ``max_retry_after``) `RateLimited`
  5xx, dropped connection, timeout      exponential backoff with jitter, then `Unavailable`
  401                                   ask ``token(True)`` for a fresh token once and
                                        repeat, then `NotSignedIn`
  403                                   `ConsentRequired` (a `NotSignedIn`): Graph refuses
                                        the mailbox, i.e. Mail.Read / Calendars.Read are
                                        not granted to Sidepane
  404                                   `NotFound` (``MailboxNotEnabledForRESTAPI``:
                                        `Rejected`, the mailbox is not in Exchange Online)
  other 4xx                             `Rejected`
  ====================================  =================================================

  Only GET is sent (reads only); ``verify`` goes with every request, because
  ``REQUESTS_CA_BUNDLE`` overrides ``session.verify`` (and O365's ``verify_ssl`` sets only
  that); every request asks ``Prefer: IdType="ImmutableId"`` (ids that survive moves between
  folders) and an HTML body. A next page must be on the same Graph (the token is for it).
* ``message()``: the message (``$select``-ed), then, only when it has attachments (Graph's
  ``hasAttachments``, which leaves inline images out, or a ``cid:`` image in the body), the
  attachments' metadata without contents, then the content of each file the policy takes: at
  most two requests plus one per downloaded file. Attached Outlook items and cloud links are
  never downloaded. Ids go into URLs quoted.
* ``find_sent()``: one request to Sent Items filtered on the internet message id;
  ``conversation_messages()``: one request (and its next pages) per 15 conversations, filtered
  on ``receivedDateTime ge`` first (Graph refuses a ``$orderby`` property that is not the first
  one filtered on) and the ``or``-ed conversation ids; drafts left out; newest first.
* Times are timezone-aware UTC. ``requests`` counts requests sent, retries included.
* Never logs tokens, query strings or bodies: method, path, status and time only (O365's own
  request logging, which would print the session's headers, is bypassed).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from O365 import Account
from O365.calendar import AttendeeType, Event
from O365.connection import Connection, MSGraphProtocol
from O365.utils.query import CompositeFilter, SelectFilter
from O365.utils.token import MemoryTokenBackend

from crm_adapters import bearer_http
from crm_adapters.bearer_http import Service, error_fields
from crm_adapters.errors import (
    Conflict,
    ConsentRequired,
    CrmError,
    NotFound,
    NotSignedIn,
    RateLimited,
    Rejected,
    Unavailable,
)
from crm_adapters.models import Party
from crm_adapters.retry import RetryPolicy

from . import AttachmentPolicy, MailAttachment, MailEvent, MailMessage, take_all

log = logging.getLogger(__name__)

GRAPH_URL_DEFAULT = "https://graph.microsoft.com/"
GRAPH_RESOURCE_DEFAULT = "https://graph.microsoft.com"
API_VERSION = "v1.0"
#: Every request's ``Prefer``: ids that stay the same when an item moves, bodies in HTML.
PREFER = 'IdType="ImmutableId", outlook.body-content-type="html"'
#: Conversations asked for in one list request.
CONVERSATIONS_PER_REQUEST = 15
#: ``$top`` of a list request (Graph serves at most 1000 messages a page).
PAGE_SIZE = 250
#: Why an attachment that is not a file is not downloaded.
ITEM_SKIPPED = "attached Outlook items are not saved"
REFERENCE_SKIPPED = "links to cloud files are not saved"
NO_CONTENT_SKIPPED = "the mailbox did not hand over the file's content"

FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"
ITEM_ATTACHMENT = "#microsoft.graph.itemAttachment"
REFERENCE_ATTACHMENT = "#microsoft.graph.referenceAttachment"

#: What a message read asks for (``isDraft`` must come: O365 takes a missing one for True).
MESSAGE_FIELDS = (
    "id",
    "internetMessageId",
    "conversationId",
    "subject",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "sentDateTime",
    "receivedDateTime",
    "isDraft",
    "hasAttachments",
    "body",
)
#: What a conversation list asks for: no body.
LIST_FIELDS = tuple(name for name in MESSAGE_FIELDS if name != "body")
ATTACHMENT_FIELDS = "id,name,contentType,size,isInline"
EVENT_FIELDS = ",".join(
    (
        "id",
        "iCalUId",
        "subject",
        "organizer",
        "attendees",
        "start",
        "end",
        "isAllDay",
        "location",
        "body",
        "isCancelled",
    )
)

Json = dict[str, Any]
TokenSource = Callable[[bool], str]

_MESSAGES: Mapping[type[CrmError], str] = {
    NotSignedIn: "Microsoft 365 did not accept the sign-in; open Sidepane in Outlook to sign in "
    "again.",
    ConsentRequired: "Microsoft 365 does not let Sidepane read your mailbox: the Mail.Read and "
    "Calendars.Read permissions have not been granted. Ask a tenant administrator to give "
    "consent on Sidepane's admin page.",
    NotFound: "That item is not in your mailbox (any more); it may have been moved or deleted.",
    Conflict: "Microsoft 365 refused the request because the item changed meanwhile.",
    RateLimited: "Microsoft 365 asked us to slow down; try again in {seconds:g} seconds.",
    Unavailable: "Microsoft 365 did not answer (HTTP {status}); try again in a moment.",
}
#: Graph error code → our error, where the code says more than the status.
CODE_ERRORS: Mapping[str, type[CrmError]] = {
    "mailboxnotenabledforrestapi": Rejected,  # on-premises, inactive or soft-deleted mailbox
    "mailboxnotsupportedforrestapi": Rejected,
}


def graph_resource(graph_url: str) -> str:
    """Return the token resource of a Graph URL: its origin (``https://graph.microsoft.com``)."""
    parts = urlsplit(graph_url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"GRAPH_URL must be an absolute URL, not {graph_url!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


def graph_mailbox_for(config: Mapping[str, Any], tokens: TokenSource) -> GraphMailbox:
    """Open the rep's mailbox on the configured Graph (``GRAPH_URL``, ``CA_FILE``)."""
    return GraphMailbox(
        config.get("GRAPH_URL") or GRAPH_URL_DEFAULT,
        tokens,
        verify=config.get("CA_FILE") or True,
    )


def odata_string(value: str) -> str:
    """Return ``value`` as an OData string literal: in single quotes, a quote doubled."""
    return "'" + value.replace("'", "''") + "'"


def error_for(status: int, payload: object = None, retry_after: float = 1.0) -> CrmError:
    """Return our error for a Graph answer: its status and ``{"error": {code, message}}``."""
    code, message = error_fields(payload)
    kind = CODE_ERRORS.get(code.lower())
    if kind is None:
        kind = {401: NotSignedIn, 403: ConsentRequired, 404: NotFound, 409: Conflict}.get(status)
    if kind is None:
        kind = RateLimited if status == 429 else Unavailable if status >= 500 else Rejected
    if kind is RateLimited:
        return RateLimited(_MESSAGES[RateLimited].format(seconds=retry_after), retry_after)
    if kind is Unavailable:
        return Unavailable(_MESSAGES[Unavailable].format(status=status))
    if kind is Rejected:
        return Rejected(
            f"Microsoft 365 refused the request: {message}"
            if message
            else f"Microsoft 365 refused the request (HTTP {status})."
        )
    return kind(_MESSAGES[kind])


#: How the shared request loop names Graph (`crm_adapters.bearer_http`).
GRAPH = Service(
    log_name="Graph",
    label="Microsoft 365",
    check="GRAPH_URL",
    error_for=error_for,
    no_token="Could not get a Microsoft 365 token; open Sidepane in Outlook to sign in again.",
)


# --- O365, on our transport ----------------------------------------------------------------------


class _GraphProtocol(MSGraphProtocol):  # type: ignore[misc]
    """O365's Graph protocol with ``_protocol_url`` the configured Graph, times in UTC."""

    def __init__(self, protocol_url: str) -> None:
        self._protocol_url = protocol_url
        super().__init__(api_version=API_VERSION, timezone="UTC")


class _GraphConnection(Connection):  # type: ignore[misc]
    """O365's connection whose requests go through `GraphMailbox._send` (our retries and errors)."""

    def __init__(self, credentials: tuple[str, str], *, mailbox: GraphMailbox, **kwargs: Any):
        super().__init__(credentials, **kwargs)
        self._owner = mailbox

    def oauth_request(self, url: str, method: str, **kwargs: Any) -> requests.Response:
        """Send an O365 request (any of get/post/...): only GETs are ever made here."""
        headers = dict(kwargs.pop("headers", None) or {})
        for name, value in self.default_headers.items():
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return self._owner._send(method.upper(), url, headers, kwargs.pop("params", None))


class _GraphAccount(Account):  # type: ignore[misc]
    connection_constructor = _GraphConnection


class GraphMailbox:
    """One rep's mailbox through Microsoft Graph (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        *,
        verify: str | bool = True,
        timeout: float = 30,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.requests = 0
        self._base = base_url.rstrip("/") + "/"
        self._service = f"{self._base}{API_VERSION}/"
        self._token = token
        self._verify = verify
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._session = requests.Session()
        self._account = _GraphAccount(
            ("sidepane", "sidepane"),  # never used: the tokens come from ``token``
            protocol=_GraphProtocol(self._base),
            mailbox=self,
            token_backend=MemoryTokenBackend(),
            request_retries=0,
            requests_delay=0,
            timeout=timeout,
            default_headers={"Prefer": PREFER},
        )
        self._mail = self._account.mailbox()
        self._schedule = self._account.schedule()

    def close(self) -> None:
        """Release connections."""
        self._session.close()

    # --- the contract ------------------------------------------------------------------------

    def message(self, item_id: str, policy: AttachmentPolicy = take_all) -> MailMessage:
        """Return the message with its body, recipients and the attachments ``policy`` takes."""
        with _readable():
            found = self._mail.get_message(
                object_id=_segment(item_id),
                query=CompositeFilter(select=SelectFilter(*MESSAGE_FIELDS)),
            )
            message = _mail_message(found)
            # O365's has_attachments also looks for cid: images: Graph's leaves inline ones out.
            if not found.has_attachments:
                return message
            attachments = self._attachments(message.item_id, policy)
        return replace(message, attachments=tuple(attachments))

    def event(self, item_id: str) -> MailEvent:
        """Return the event (any of the rep's calendars) with its organizer and attendees."""
        with _readable():
            url = self._schedule.build_url(f"/events/{_segment(item_id)}")
            data = self._account.con.get(url, params={"$select": EVENT_FIELDS}).json()
            event = Event(parent=self._schedule, **{Event._cloud_data_key: data})
            return _mail_event(event)

    def find_sent(self, internet_message_id: str) -> MailMessage | None:
        """Return the message in Sent Items with this internet message id, or None. One
        request; no attachments."""
        with _readable():
            url = self._mail.build_url("/mailFolders/sentitems/messages")
            params = {
                "$filter": f"internetMessageId eq {odata_string(internet_message_id)}",
                "$select": ",".join(MESSAGE_FIELDS),
                "$top": "1",
            }
            rows = self._account.con.get(url, params=params).json().get("value") or []
            if not rows:
                return None
            return _mail_message(self._message_object(rows[0]))

    def conversation_messages(
        self, conversation_ids: Sequence[str], since: dt.datetime
    ) -> list[MailMessage]:
        """Return the sent and received messages of these conversations since ``since`` (aware),
        newest first, without bodies or attachments: one request (and next pages) per 15."""
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        wanted = list(dict.fromkeys(c for c in conversation_ids if c))
        after = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        found: dict[str, MailMessage] = {}
        with _readable():
            url = self._mail.build_url("/messages")
            for start in range(0, len(wanted), CONVERSATIONS_PER_REQUEST):
                chunk = wanted[start : start + CONVERSATIONS_PER_REQUEST]
                anyone = " or ".join(f"conversationId eq {odata_string(c)}" for c in chunk)
                params = {
                    "$filter": f"receivedDateTime ge {after} and ({anyone})",
                    "$orderby": "receivedDateTime desc",
                    "$select": ",".join(LIST_FIELDS),
                    "$top": str(PAGE_SIZE),
                }
                for row in self._pages(url, params):
                    message = _mail_message(self._message_object(row))
                    if not message.is_draft:
                        found.setdefault(message.item_id, message)
        newest_first = sorted(found.values(), key=_when, reverse=True)
        return newest_first

    # --- reads -------------------------------------------------------------------------------

    def _attachments(self, message_id: str, policy: AttachmentPolicy) -> list[MailAttachment]:
        base = self._mail.build_url(f"/messages/{_segment(message_id)}/attachments")
        listed = list(self._pages(base, {"$select": ATTACHMENT_FIELDS}))
        attachments = []
        for meta in listed:
            attachment = _attachment(meta)
            if attachment.kind == "file" and attachment.skipped is None:
                reason = policy(attachment.name, attachment.content_type, attachment.size)
                if reason is not None:
                    attachment = replace(attachment, skipped=reason)
                else:
                    url = f"{base}/{_segment(str(meta.get('id') or ''))}"
                    attachment = _with_content(attachment, self._account.con.get(url).json())
            attachments.append(attachment)
        return attachments

    def _pages(self, url: str, params: Mapping[str, str] | None) -> Iterator[Json]:
        """Yield a list's rows, following ``@odata.nextLink``."""
        link: str | None = url
        while link:
            payload = self._account.con.get(link, params=params).json()
            yield from payload.get("value") or []
            following = payload.get("@odata.nextLink")
            link, params = (following if isinstance(following, str) else None), None

    def _message_object(self, row: Json) -> Any:
        return self._mail.message_constructor(
            parent=self._mail, **{self._mail._cloud_data_key: row}
        )

    # --- one request, with retries -------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None,
    ) -> requests.Response:
        """Send one GET, retrying by the policy; return a 2xx response or raise our error."""
        if method != "GET":
            raise Rejected(f"Sidepane only reads the mailbox; it does not send {method} requests.")
        if not url.startswith(self._service):  # the token is for this Graph only
            raise Unavailable("Microsoft Graph sent us elsewhere; check GRAPH_URL.")
        return bearer_http.send(
            self._session,
            GRAPH,
            method,
            url,
            token=self._token,
            retry=self._retry,
            timeout=self._timeout,
            verify=self._verify,
            count=self._count,
            headers=headers,
            params=params,
        )

    def _count(self) -> None:
        self.requests += 1


# --- O365 objects → ours --------------------------------------------------------------------------


@contextmanager
def _readable() -> Iterator[None]:
    """Turn an answer we cannot read (not JSON, missing fields) into `Unavailable`."""
    try:
        yield
    except CrmError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("Graph answered in a form we cannot read: %s", type(error).__name__)
        raise Unavailable("Microsoft 365 answered in a form we cannot read; try again.") from error


def _segment(item_id: str) -> str:
    """Quote an id for a URL path (Graph's ids may hold ``=``, ``-``, ``_``, even ``/``)."""
    return quote(item_id, safe="")


def _party(recipient: Any) -> Party | None:
    address = getattr(recipient, "address", None) or ""
    if not address:
        return None
    return Party(address=address, name=getattr(recipient, "name", None) or "")


def _parties(recipients: Any) -> tuple[Party, ...]:
    return tuple(p for p in (_party(r) for r in recipients or ()) if p is not None)


def _utc(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _html(body: Any, body_type: Any) -> str:
    text = body if isinstance(body, str) else ""
    if str(body_type or "html").lower() == "text":
        return f"<pre>{html.escape(text)}</pre>" if text else ""
    return text


def _mail_message(found: Any) -> MailMessage:
    if found is None:
        raise NotFound(_MESSAGES[NotFound])
    return MailMessage(
        item_id=found.object_id,
        internet_message_id=found.internet_message_id or "",
        conversation_id=found.conversation_id or "",
        subject=found.subject or "",
        sender=_party(found.sender),
        to=_parties(found.to),
        cc=_parties(found.cc),
        bcc=_parties(found.bcc),
        sent_at=_utc(found.sent),
        received_at=_utc(found.received),
        is_draft=bool(found.is_draft),
        body_html=_html(found.body, found.body_type),
    )


def _mail_event(event: Any) -> MailEvent:
    start, end = _utc(event.start), _utc(event.end)
    if start is None or end is None:
        raise ValueError("an event without start or end")
    required: list[Party] = []
    optional: list[Party] = []
    for attendee in event.attendees:
        party = _party(attendee)
        if party is None or attendee.attendee_type is AttendeeType.Resource:
            continue  # rooms and equipment are not people
        (optional if attendee.attendee_type is AttendeeType.Optional else required).append(party)
    location = event.location
    if isinstance(location, dict):
        location = location.get("displayName")
    return MailEvent(
        item_id=event.object_id,
        ical_uid=event.ical_uid or "",
        subject=event.subject or "",
        organizer=_party(event.organizer),
        start=start,
        end=end,
        required=tuple(required),
        optional=tuple(optional),
        location=location if isinstance(location, str) else "",
        body_html=_html(event.body, event.body_type),
        is_cancelled=bool(event.is_cancelled),
    )


def _attachment(meta: Json) -> MailAttachment:
    odata_type = str(meta.get("@odata.type") or FILE_ATTACHMENT)
    size = meta.get("size")
    attachment = MailAttachment(
        name=str(meta.get("name") or ""),
        content_type=str(meta.get("contentType") or "application/octet-stream"),
        size=size if isinstance(size, int) else 0,
        is_inline=bool(meta.get("isInline")),
    )
    if odata_type == ITEM_ATTACHMENT:
        return replace(attachment, kind="item", skipped=ITEM_SKIPPED)
    if odata_type == REFERENCE_ATTACHMENT:
        return replace(attachment, kind="reference", skipped=REFERENCE_SKIPPED)
    if odata_type != FILE_ATTACHMENT:  # a kind Graph may add one day: not a file we know
        return replace(attachment, kind="item", skipped=ITEM_SKIPPED)
    return attachment


def _with_content(attachment: MailAttachment, full: Json) -> MailAttachment:
    encoded = full.get("contentBytes")
    if full.get("@odata.type", FILE_ATTACHMENT) != FILE_ATTACHMENT or not isinstance(encoded, str):
        return replace(attachment, skipped=NO_CONTENT_SKIPPED)
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return replace(attachment, skipped=NO_CONTENT_SKIPPED)
    return replace(attachment, content=content)


def _when(message: MailMessage) -> dt.datetime:
    return message.received_at or message.sent_at or dt.datetime.min.replace(tzinfo=dt.UTC)
