"""`GraphMailbox` against the Graph emulator, through the real O365 + requests stack."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest

from addin.mailbox import Mailbox, MailMessage
from addin.mailbox.graph import (
    GRAPH_RESOURCE_DEFAULT,
    ITEM_SKIPPED,
    GraphMailbox,
    graph_mailbox_for,
    graph_resource,
)
from crm_adapters.errors import (
    ConsentRequired,
    NotFound,
    NotSignedIn,
    RateLimited,
    Rejected,
    Unavailable,
)
from crm_adapters.models import Party
from crm_adapters.retry import RetryPolicy
from tests.emulators.entra import EntraEmulator
from tests.emulators.graph import GraphEmulator
from tests.emulators.loopback import Reply
from tests.sleeps import Sleeps

from .conftest import REP_OID, Tokens

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MB = 1024 * 1024


def limit_10_mb(name: str, content_type: str, size: int) -> str | None:
    return "size" if size > 10 * MB else None


@pytest.fixture
def make(
    graph: GraphEmulator, tokens: Tokens, sleeps: Sleeps
) -> Iterator[Callable[..., GraphMailbox]]:
    made: list[GraphMailbox] = []

    def build(token: Callable[[bool], str] | None = None, **policy: float) -> GraphMailbox:
        retry = RetryPolicy(**{"attempts": 3, "base_delay": 0.01, "sleep": sleeps, **policy})
        mailbox = GraphMailbox(
            graph.url, token or tokens, verify=graph.ca_file, timeout=5, retry=retry
        )
        made.append(mailbox)
        return mailbox

    yield build
    for mailbox in made:
        mailbox.close()


def served(graph: GraphEmulator, fragment: str = "") -> int:
    return sum(n for key, n in graph.requests_served.items() if fragment in key)


def q(item_id: str) -> str:
    return quote(item_id, safe="")


# --- message() -----------------------------------------------------------------------------------


def test_a_message_with_recipients_bcc_body_and_attachments(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    item = graph.add_message(
        REP_OID,
        subject="Quote for 20 licences",
        sender=("Dana Buyer", "dana@fabrikam.example"),
        to=[("Alex Rep", "alex@contoso.example")],
        cc=[("Lee", "lee@fabrikam.example")],
        bcc=["audit@contoso.example"],
        body_html='<p>Attached.</p><img src="cid:logo@f">',
        internet_message_id="<q-20@fabrikam.example>",
        conversation_id="AAQkAGconv-1=",
        sent_at=T0,
        received_at=T0 + dt.timedelta(seconds=5),
        attachments=[
            dict(name="quote.pdf", content_type="application/pdf", content=b"%PDF-1.7\x00\xff"),
            dict(
                name="logo.png",
                content_type="image/png",
                content=b"\x89PNG",
                is_inline=True,
                content_id="logo@f",
            ),
        ],
    )
    mailbox: Mailbox = make()
    message = mailbox.message(item)
    assert message.item_id == item and item.endswith("=")
    assert message.internet_message_id == "<q-20@fabrikam.example>"
    assert message.conversation_id == "AAQkAGconv-1="
    assert message.subject == "Quote for 20 licences"
    assert message.sender == Party("dana@fabrikam.example", "Dana Buyer")
    assert message.to == (Party("alex@contoso.example", "Alex Rep"),)
    assert message.cc == (Party("lee@fabrikam.example", "Lee"),)
    assert [p.address for p in message.bcc] == ["audit@contoso.example"]
    assert message.body_html == '<p>Attached.</p><img src="cid:logo@f">'
    assert message.sent_at == T0 and message.sent_at.tzinfo is dt.UTC
    assert message.received_at == T0 + dt.timedelta(seconds=5)
    assert message.is_draft is False
    assert [
        (a.name, a.content_type, a.kind, a.is_inline, a.content) for a in message.attachments
    ] == [
        ("quote.pdf", "application/pdf", "file", False, b"%PDF-1.7\x00\xff"),
        ("logo.png", "image/png", "file", True, b"\x89PNG"),
    ]
    assert all(a.size > 0 and a.skipped is None for a in message.attachments)
    # the message, the metadata list, one download per file; the id went quoted
    assert mailbox.requests == 4 and served(graph) == 4
    assert graph.requests_served[f"GET /v1.0/me/messages/{q(item)}"] == 1
    assert graph.requests_served[f"GET /v1.0/me/messages/{q(item)}/attachments"] == 1
    listing = next(r for r in graph.received if r.path.endswith("/attachments"))
    assert listing.query["$select"] == ["id,name,contentType,size,isInline"]
    assert 'IdType="ImmutableId"' in graph.received[0].headers["prefer"]


def test_a_message_without_attachments_is_one_request(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    item = graph.add_message(REP_OID, subject="Plain", body_html="<p>no files</p>")
    mailbox = make()
    message = mailbox.message(item)
    assert message.attachments == () and message.body_html == "<p>no files</p>"
    assert mailbox.requests == 1 and served(graph, "/attachments") == 0


def test_the_policy_refuses_an_over_limit_file_without_downloading_it(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    item = graph.add_message(
        REP_OID,
        attachments=[
            dict(name="huge.zip", content_type="application/zip", content=b"zip", size=50 * MB),
            dict(name="small.txt", content_type="text/plain", content=b"hello"),
        ],
    )
    asked: list[tuple[str, str, int]] = []

    def policy(name: str, content_type: str, size: int) -> str | None:
        asked.append((name, content_type, size))
        return limit_10_mb(name, content_type, size)

    mailbox = make()
    huge, small = mailbox.message(item, policy).attachments
    assert asked == [("huge.zip", "application/zip", 50 * MB), ("small.txt", "text/plain", 5)]
    assert huge.content is None and huge.skipped == "size" and huge.size == 50 * MB
    assert small.content == b"hello" and small.skipped is None
    downloads = [r.path for r in graph.received if "/attachments/" in r.path]
    assert len(downloads) == 1 and mailbox.requests == 3


def test_attached_items_and_links_are_never_downloaded(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    item = graph.add_message(
        REP_OID,
        attachments=[
            dict(name="Re: your order", kind="item", content=b"x" * 300),
            dict(name="Plan.docx", kind="reference"),
        ],
    )
    asked: list[str] = []
    mailbox = make()
    attached, link = mailbox.message(item, lambda n, t, s: asked.append(n)).attachments
    assert (attached.kind, attached.content, attached.skipped) == ("item", None, ITEM_SKIPPED)
    assert (link.kind, link.content) == ("reference", None) and link.skipped
    assert asked == []  # nothing to decide: only files are ever saved
    assert mailbox.requests == 2 and served(graph, "/attachments/") == 0


def test_an_id_that_needs_quoting(make: Callable[..., GraphMailbox], graph: GraphEmulator) -> None:
    odd = "AAMkAG/EWS+style?id#1=="  # "/", "?", "#" would break an unquoted path
    graph.add_message(
        REP_OID,
        item_id=odd,
        subject="Odd",
        attachments=[dict(name="a.txt", content_type="text/plain", content=b"a")],
    )
    mailbox = make()
    message = mailbox.message(odd)
    assert message.item_id == odd and message.attachments[0].content == b"a"
    assert graph.requests_served[f"GET /v1.0/me/messages/{q(odd)}"] == 1


def test_a_missing_message_or_event_is_not_found(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    mailbox = make()
    with pytest.raises(NotFound):
        mailbox.message("AAMkAGgone=")
    with pytest.raises(NotFound):
        mailbox.event("AAMkAGgone=")
    assert mailbox.requests == 2  # a 404 is not retried


# --- event() -------------------------------------------------------------------------------------


def test_an_event_with_organizer_attendees_and_times(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    start = dt.datetime(2026, 3, 4, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    event_id = graph.add_event(
        REP_OID,
        subject="Renewal call",
        organizer=("Alex Rep", "alex@contoso.example"),
        required=[("Dana Buyer", "dana@fabrikam.example"), "lee@fabrikam.example"],
        optional=[("Kim", "kim@fabrikam.example")],
        start=start,
        end=start + dt.timedelta(minutes=45),
        location="Teams",
        body_html="<p>Agenda: pricing</p>",
        ical_uid="040000008200E00074C5B7101A82E0080000000012345",
    )
    mailbox = make()
    event = mailbox.event(event_id)
    assert event.item_id == event_id
    assert event.ical_uid == "040000008200E00074C5B7101A82E0080000000012345"
    assert event.subject == "Renewal call"
    assert event.organizer == Party("alex@contoso.example", "Alex Rep")
    assert [p.address for p in event.required] == ["dana@fabrikam.example", "lee@fabrikam.example"]
    assert event.optional == (Party("kim@fabrikam.example", "Kim"),)
    assert event.start == dt.datetime(2026, 3, 4, 13, 30, tzinfo=dt.UTC)
    assert event.start.tzinfo is dt.UTC and event.end - event.start == dt.timedelta(minutes=45)
    assert event.location == "Teams" and event.body_html == "<p>Agenda: pricing</p>"
    assert event.is_cancelled is False
    assert mailbox.requests == 1
    assert graph.requests_served[f"GET /v1.0/me/events/{q(event_id)}"] == 1


# --- find_sent() ---------------------------------------------------------------------------------


def test_find_sent_before_and_after_the_draft_is_sent(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    draft = graph.add_message(
        REP_OID,
        is_draft=True,
        subject="Offer",
        to=["dana@fabrikam.example"],
        body_html="<p>Offer</p>",
        internet_message_id="<offer-1@contoso.example>",
    )
    graph.add_message(REP_OID, internet_message_id="<offer-1@contoso.example>")  # an inbox copy
    mailbox = make()
    assert mailbox.message(draft).is_draft is True
    assert mailbox.find_sent("<offer-1@contoso.example>") is None
    assert mailbox.requests == 2
    sent_id = graph.send_draft(REP_OID, draft)
    sent = mailbox.find_sent("<offer-1@contoso.example>")
    assert sent is not None and mailbox.requests == 3
    assert sent.item_id == sent_id != draft
    assert sent.is_draft is False and sent.internet_message_id == "<offer-1@contoso.example>"
    assert sent.body_html == "<p>Offer</p>" and sent.attachments == ()
    assert sent.sent_at is not None and sent.sent_at.tzinfo is dt.UTC
    asked = [r for r in graph.received if "/mailFolders/" in r.path]
    assert {r.path for r in asked} == {"/v1.0/me/mailFolders/sentitems/messages"}
    assert asked[-1].query["$filter"] == ["internetMessageId eq '<offer-1@contoso.example>'"]
    with pytest.raises(NotFound):
        mailbox.message(draft)  # the draft is gone; the sent copy has its own id


def test_find_sent_with_a_quote_in_the_internet_message_id(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    tricky = "<o'brien' or internetMessageId ne 'x@fabrikam.example>"
    wanted = graph.add_message(REP_OID, folder="sentitems", internet_message_id=tricky)
    graph.add_message(REP_OID, folder="sentitems", internet_message_id="<other@x.example>")
    mailbox = make()
    found = mailbox.find_sent(tricky)
    assert found is not None and found.item_id == wanted
    assert mailbox.find_sent("<o'brien@x.example>") is None
    assert mailbox.requests == 2


# --- conversation_messages() ---------------------------------------------------------------------


def test_conversation_messages_across_many_conversations_and_pages(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    conversations = [f"AAQkAGconv-{i:02}=" for i in range(20)]
    since = T0
    expected: list[str] = []
    for i, conversation in enumerate(conversations):
        when = T0 + dt.timedelta(minutes=i)
        expected.append(graph.add_message(REP_OID, conversation_id=conversation, received_at=when))
        if i % 5 == 0:  # a reply the rep sent, in Sent Items
            expected.append(
                graph.add_message(
                    REP_OID,
                    folder="sentitems",
                    conversation_id=conversation,
                    sent_at=when + dt.timedelta(seconds=30),
                )
            )
        graph.add_message(  # before `since`: left out
            REP_OID, conversation_id=conversation, received_at=T0 - dt.timedelta(days=1)
        )
    graph.add_message(REP_OID, conversation_id="AAQkAGunrelated=", received_at=T0)
    graph.add_message(REP_OID, is_draft=True, conversation_id=conversations[3])
    graph.max_page_size = 4

    mailbox = make()
    found = mailbox.conversation_messages([*conversations, conversations[0]], since)
    assert sorted(m.item_id for m in found) == sorted(expected)
    times = [m.received_at for m in found]
    assert times == sorted(times, reverse=True)  # newest first
    assert all(m.body_html == "" and m.attachments == () for m in found)
    lists = [r for r in graph.received if r.path == "/v1.0/me/messages"]
    firsts = [r for r in lists if "$skip" not in r.query]
    assert len(firsts) == 2  # 20 conversations: 15 + 5
    for request in firsts:
        text = request.query["$filter"][0]
        assert text.startswith("receivedDateTime ge 2026-03-02T09:00:00Z and (")
        assert text.count("conversationId eq") in (15, 5)
    # 15 conversations hold 18 messages (5 pages of 4), the other 5 hold 6 (2 pages)
    assert len(lists) == 7 == mailbox.requests


def test_conversation_messages_of_nothing_asks_nothing(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    mailbox = make()
    assert mailbox.conversation_messages([], T0) == []
    with pytest.raises(ValueError):
        mailbox.conversation_messages(["AAQkAGx="], dt.datetime(2026, 3, 2))
    assert mailbox.requests == 0 and served(graph) == 0


def test_a_next_page_on_another_host_is_not_followed(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    elsewhere = "https://collector.example/v1.0/me/messages?$skip=10"
    graph.inject(Reply(200, {"value": [], "@odata.nextLink": elsewhere}), path="/v1.0/me/messages")
    mailbox = make()
    with pytest.raises(Unavailable):
        mailbox.conversation_messages(["AAQkAGx="], T0)
    assert mailbox.requests == 1


# --- faults --------------------------------------------------------------------------------------


def test_a_429_waits_retry_after_then_succeeds(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, sleeps: Sleeps
) -> None:
    item = graph.add_message(REP_OID, subject="Busy")
    graph.throttle(times=2, retry_after=1)
    mailbox = make()
    assert mailbox.message(item).subject == "Busy"
    assert sleeps == [1, 1]
    assert mailbox.requests == 3 and served(graph) == 3


def test_a_real_retry_after_is_really_waited(graph: GraphEmulator, tokens: Tokens) -> None:
    item = graph.add_message(REP_OID, subject="Busy")
    graph.throttle(times=1, retry_after=1)
    mailbox = GraphMailbox(graph.url, tokens, verify=graph.ca_file, retry=RetryPolicy(attempts=2))
    started = time.monotonic()
    try:
        assert mailbox.message(item).subject == "Busy"
    finally:
        mailbox.close()
    assert time.monotonic() - started >= 1.0


def test_throttling_that_outlasts_the_retries_is_rate_limited(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, sleeps: Sleeps
) -> None:
    graph.throttle(times=10, retry_after=2)
    mailbox = make(attempts=3)
    with pytest.raises(RateLimited) as raised:
        mailbox.find_sent("<x@y>")
    assert raised.value.retry_after == 2 and raised.value.retryable
    assert sleeps == [2, 2] and mailbox.requests == 3


def test_a_longer_wait_than_we_honour_is_rate_limited_at_once(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, sleeps: Sleeps
) -> None:
    graph.throttle(times=1, retry_after=300)
    mailbox = make(max_retry_after=30)
    with pytest.raises(RateLimited) as raised:
        mailbox.event("AAMkAGx=")
    assert raised.value.retry_after == 300 and sleeps == [] and mailbox.requests == 1


def test_a_503_is_retried_with_backoff(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, sleeps: Sleeps
) -> None:
    item = graph.add_message(REP_OID, subject="Flaky")
    graph.fail(times=2, status=503)
    mailbox = make()
    assert mailbox.message(item).subject == "Flaky"
    assert len(sleeps) == 2 and all(0 < s <= 0.02 for s in sleeps)
    assert mailbox.requests == 3


def test_a_dropped_connection_is_retried(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, sleeps: Sleeps
) -> None:
    item = graph.add_message(
        REP_OID, attachments=[dict(name="a.txt", content_type="text/plain", content=b"a")]
    )
    graph.drop(times=1, path=f"me/messages/{q(item)}/attachments")
    mailbox = make()
    assert mailbox.message(item).attachments[0].content == b"a"
    assert len(sleeps) == 1 and mailbox.requests == 4


@pytest.mark.parametrize("fault", ["fail", "drop"])
def test_exhausted_retries_are_unavailable(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, fault: str
) -> None:
    getattr(graph, fault)(times=5)
    mailbox = make(attempts=3)
    with pytest.raises(Unavailable) as raised:
        mailbox.message("AAMkAGx=")
    assert raised.value.retryable and mailbox.requests == 3


def test_a_server_with_the_wrong_certificate_is_unavailable(
    graph: GraphEmulator, tokens: Tokens
) -> None:
    mailbox = GraphMailbox(graph.url, tokens, retry=RetryPolicy(attempts=3))  # system CAs only
    with pytest.raises(Unavailable) as raised:
        mailbox.message("AAMkAGx=")
    mailbox.close()
    assert "certificate" in str(raised.value) and mailbox.requests == 1


def test_verify_wins_over_requests_ca_bundle(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    item = graph.add_message(REP_OID, subject="Trusted")
    assert make().message(item).subject == "Trusted"


# --- tokens --------------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_once(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, tokens: Tokens
) -> None:
    item = graph.add_message(REP_OID, subject="Later")
    tokens.current = tokens.fresh(expires_in=-60)
    mailbox = make()
    assert mailbox.message(item).subject == "Later"
    assert tokens.calls == [False, True]
    assert mailbox.requests == 2 and served(graph) == 2
    mailbox.message(item)  # the fresh token serves from now on
    assert tokens.calls == [False, True, False] and mailbox.requests == 3


def test_a_revoked_sign_in_is_not_signed_in(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, entra: EntraEmulator
) -> None:
    calls: list[bool] = []

    def revoked(force_refresh: bool) -> str:
        calls.append(force_refresh)
        if force_refresh:  # what EntraTokens raises for a revoked refresh token
            raise NotSignedIn("Microsoft needs you to sign in again.", claims='{"x": 1}')
        return entra.issue_token(tenant_id="t", oid=REP_OID, audience=graph.url, expires_in=-60)

    mailbox = make(token=revoked)
    with pytest.raises(NotSignedIn) as raised:
        mailbox.find_sent("<x@y>")
    assert raised.value.claims == '{"x": 1}'
    assert calls == [False, True] and mailbox.requests == 1


def test_a_token_that_stays_bad_is_not_signed_in_after_one_refresh(
    make: Callable[..., GraphMailbox], graph: GraphEmulator, entra: EntraEmulator
) -> None:
    calls: list[bool] = []

    def foreign(force_refresh: bool) -> str:
        calls.append(force_refresh)
        return entra.issue_token(tenant_id="t", oid=REP_OID, audience="https://elsewhere.example")

    mailbox = make(token=foreign)
    with pytest.raises(NotSignedIn) as raised:
        mailbox.event("AAMkAGx=")
    assert not isinstance(raised.value, ConsentRequired)
    assert calls == [False, True] and served(graph) == 2


def test_a_token_source_that_breaks_is_not_signed_in(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    def broken(force_refresh: bool) -> str:
        raise RuntimeError("msal exploded")

    with pytest.raises(NotSignedIn):
        make(token=broken).message("AAMkAGx=")
    assert served(graph) == 0


def test_no_mail_permission_is_consent_required(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    item = graph.add_message(REP_OID)
    graph.deny(REP_OID)
    mailbox = make()
    with pytest.raises(ConsentRequired) as raised:
        mailbox.message(item)
    assert isinstance(raised.value, NotSignedIn) and "Mail.Read" in str(raised.value)
    assert mailbox.requests == 1


def test_a_bad_request_is_rejected_with_graphs_reason(
    make: Callable[..., GraphMailbox], graph: GraphEmulator
) -> None:
    graph.inject(
        Reply(400, {"error": {"code": "BadRequest", "message": "Invalid filter clause"}}),
        path="/v1.0/me/mailFolders",
    )
    with pytest.raises(Rejected) as raised:
        make().find_sent("<x@y>")
    assert "Invalid filter clause" in str(raised.value)


def test_tokens_and_bodies_are_never_logged(
    make: Callable[..., GraphMailbox],
    graph: GraphEmulator,
    tokens: Tokens,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_body = "<p>the secret price is 42</p>"
    item = graph.add_message(
        REP_OID,
        body_html=secret_body,
        attachments=[dict(name="a.txt", content_type="text/plain", content=b"SECRET-FILE")],
    )
    tokens.current = tokens.fresh(expires_in=-60)
    graph.throttle(times=1, retry_after=0)
    caplog.set_level(logging.DEBUG)
    make().message(item)
    assert caplog.records  # something was logged
    assert tokens.current not in caplog.text and "secret price" not in caplog.text
    assert "SECRET-FILE" not in caplog.text and "U0VDUkVUL" not in caplog.text


# --- configuration -------------------------------------------------------------------------------


def test_graph_resource_is_the_origin() -> None:
    assert graph_resource("https://graph.microsoft.com/") == GRAPH_RESOURCE_DEFAULT
    assert graph_resource("https://graph.microsoft.com/v1.0/") == GRAPH_RESOURCE_DEFAULT
    assert graph_resource("https://127.0.0.1:8443/") == "https://127.0.0.1:8443"
    with pytest.raises(ValueError):
        graph_resource("graph.microsoft.com")


def test_graph_mailbox_for_reads_the_config(graph: GraphEmulator, entra: EntraEmulator) -> None:
    item = graph.add_message(REP_OID, subject="Configured")
    resource = graph_resource(f"{graph.url}/")

    def token(force_refresh: bool) -> str:
        return entra.issue_token(tenant_id="t", oid=REP_OID, audience=resource)

    mailbox = graph_mailbox_for({"GRAPH_URL": f"{graph.url}/", "CA_FILE": graph.ca_file}, token)
    try:
        message: MailMessage = mailbox.message(item)
    finally:
        mailbox.close()
    assert message.subject == "Configured"
