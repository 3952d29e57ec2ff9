"""The rep's mailbox, as the workers read it: the full message or event behind an Outlook item.

The pane only knows what Office.js shows (people, ids, no attachments, no bcc in read mode). A
save needs the whole item, so a worker reads it from the mailbox with the rep's delegated token:
Microsoft Graph through O365 in production (`addin.mailbox.graph`), the dev harness's sample
items in the demo (`addin.mailbox.harness`).

Contract every mailbox keeps
----------------------------
* Errors are the adapters' own (`crm_adapters.errors`), so workers handle a mailbox fault like a
  CRM fault: ``NotFound`` (no such item), ``RateLimited(retry_after)`` (429), ``Unavailable``
  (5xx, dropped connection, timeout), ``NotSignedIn`` (no usable token: the rep must open the
  pane again).
* ``message()`` never downloads an attachment the ``policy`` refuses: it lists the attachments'
  names, types and sizes first, then fetches the content of the allowed ones only. A refused one
  is returned with ``content=None`` and ``skipped`` naming why.
* ``requests`` counts the requests sent to the mailbox service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from flask import Flask

from crm_adapters.models import Party

from ..identity import Identity

#: Decides over one attachment before it is downloaded: (name, content type, size in bytes) →
#: None to take it, or the reason it is skipped, in words a rep reads ("over the 10 MB limit").
AttachmentPolicy = Callable[[str, str, int], str | None]


def take_all(name: str, content_type: str, size: int) -> str | None:
    """The policy that takes every attachment."""
    return None


@dataclass(frozen=True, slots=True)
class MailAttachment:
    name: str
    content_type: str
    size: int
    #: "file" (a file), "item" (an attached email or event) or "reference" (a cloud link).
    kind: Literal["file", "item", "reference"] = "file"
    is_inline: bool = False
    content: bytes | None = field(default=None, repr=False)
    #: Why it was not downloaded (the policy's reason, or that only files can be saved).
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class MailMessage:
    """An email as the mailbox holds it."""

    item_id: str
    internet_message_id: str
    conversation_id: str
    subject: str
    sender: Party | None
    to: tuple[Party, ...] = ()
    cc: tuple[Party, ...] = ()
    bcc: tuple[Party, ...] = ()
    sent_at: dt.datetime | None = None
    received_at: dt.datetime | None = None
    is_draft: bool = False
    body_html: str = field(default="", repr=False)
    attachments: tuple[MailAttachment, ...] = ()


@dataclass(frozen=True, slots=True)
class MailEvent:
    """A calendar event (meeting) as the mailbox holds it."""

    item_id: str
    ical_uid: str
    subject: str
    organizer: Party | None
    start: dt.datetime
    end: dt.datetime
    required: tuple[Party, ...] = ()
    optional: tuple[Party, ...] = ()
    location: str = ""
    body_html: str = field(default="", repr=False)
    is_cancelled: bool = False


class Mailbox(Protocol):
    """One rep's mailbox."""

    requests: int

    def message(self, item_id: str, policy: AttachmentPolicy = take_all) -> MailMessage:
        """Return the message with its body, recipients and (allowed) attachments."""
        ...

    def event(self, item_id: str) -> MailEvent:
        """Return the event with its organizer, attendees and body."""
        ...

    def find_sent(self, internet_message_id: str) -> MailMessage | None:
        """Return the sent message with this internet message id (no attachments), or None
        while it has not been sent. One request."""
        ...

    def conversation_messages(
        self, conversation_ids: Sequence[str], since: dt.datetime
    ) -> list[MailMessage]:
        """Return the messages of these conversations received or sent after ``since``, newest
        first, without bodies or attachments. One request per 15 conversations."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def open_mailbox(app: Flask, identity: Identity) -> Mailbox:
    """Open the rep's mailbox as configured (``MAILBOX``): Graph, or the demo's samples."""
    if app.config["MAILBOX"] == "harness":
        from .harness import HarnessMailbox

        return HarnessMailbox.from_app(app)
    from .graph import graph_mailbox_for

    tokens = graph_tokens(app, identity)
    found: Mailbox = graph_mailbox_for(app.config, tokens)
    return found


def graph_tokens(app: Flask, identity: Identity) -> Callable[[bool], str]:
    """The rep's Graph tokens: from their stored Entra tokens, or on behalf of the pane's token."""
    from ..connections.entra import EntraClient, EntraTokens
    from ..store import token_cache_store
    from .graph import graph_resource

    tokens = EntraTokens(EntraClient.from_config(app.config), token_cache_store(app), identity)
    resource = graph_resource(app.config["GRAPH_URL"])

    def token(force_refresh: bool) -> str:
        return tokens.get(resource, force_refresh=force_refresh)

    return token


def prepare(app: Flask, identity: Identity) -> None:
    """Make sure a worker will be able to read the rep's mailbox later, without the pane.

    With Graph, the pane's token is exchanged now (on-behalf-of) so the rep's refresh token is
    in the store; a rep whose organisation has not consented to mail access hears it now, from
    the pane, rather than later from a failed save.
    """
    if app.config["MAILBOX"] != "graph":
        return
    if not app.config["ENTRA_CLIENT_SECRET"]:
        from ..errors import ApiError

        raise ApiError(
            503,
            "mailbox_not_configured",
            "Sidepane cannot read mailboxes yet: ask your administrator to set "
            "SIDEPANE_ENTRA_CLIENT_SECRET (the add-in app's client secret).",
        )
    graph_tokens(app, identity)(False)
