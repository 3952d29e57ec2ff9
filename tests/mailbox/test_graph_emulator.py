"""The Graph emulator's wire format, filters, paging, auth and faults, over plain requests and O365.

Every request passes ``verify=<ca_file>`` itself: the machines set ``REQUESTS_CA_BUNDLE``, which
overrides a session's ``verify``.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest
import requests
from O365 import Account
from O365.connection import MSGraphProtocol
from O365.utils.token import MemoryTokenBackend

from tests.emulators.entra import EntraEmulator
from tests.emulators.graph import GraphEmulator, GraphError, MessageFilter
from tests.emulators.loopback import Reply

from .conftest import OTHER_OID, REP_OID, REP_UPN, Tokens

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class Api:
    """GETs to the emulator as the rep (or with the token given)."""

    def __init__(self, graph: GraphEmulator, tokens: Tokens) -> None:
        self.graph, self.tokens = graph, tokens

    def get(
        self,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> requests.Response:
        url = path if path.startswith("https://") else f"{self.graph.url}/v1.0/{path}"
        bearer = self.tokens(False) if token is None else token
        return requests.get(
            url,
            params=params or None,
            headers={"Authorization": f"Bearer {bearer}", **(headers or {})},
            verify=self.graph.ca_file,
            timeout=5,
        )

    def ok(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def api(graph: GraphEmulator, tokens: Tokens) -> Api:
    return Api(graph, tokens)


def q(item_id: str) -> str:
    return quote(item_id, safe="")


def error_of(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "innerError"}
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])
    return error


# --- messages and attachments --------------------------------------------------------------------


def test_a_message_comes_in_graph_shape(graph: GraphEmulator, api: Api) -> None:
    item = graph.add_message(
        REP_OID,
        subject="Quote",
        sender=("Dana Buyer", "dana@fabrikam.example"),
        to=[("Alex Rep", "alex@contoso.example"), "kim@contoso.example"],
        cc=["lee@fabrikam.example"],
        bcc=["audit@contoso.example"],
        body_html="<p>Hello <b>Alex</b></p>",
        internet_message_id="<quote-1@fabrikam.example>",
        sent_at=T0,
        received_at=T0 + dt.timedelta(minutes=1),
    )
    assert item.startswith("AAMkAG") and item.endswith("=")
    message = api.ok(f"me/messages/{q(item)}")
    assert message["@odata.context"].endswith("/messages/$entity")
    assert message["@odata.etag"].startswith('W/"')
    assert message["id"] == item
    assert message["from"] == {
        "emailAddress": {"name": "Dana Buyer", "address": "dana@fabrikam.example"}
    }
    assert message["sender"] == message["from"]
    assert message["toRecipients"] == [
        {"emailAddress": {"name": "Alex Rep", "address": "alex@contoso.example"}},
        {"emailAddress": {"name": "kim@contoso.example", "address": "kim@contoso.example"}},
    ]
    assert [r["emailAddress"]["address"] for r in message["bccRecipients"]] == [
        "audit@contoso.example"
    ]
    assert message["body"] == {"contentType": "html", "content": "<p>Hello <b>Alex</b></p>"}
    assert message["bodyPreview"] == "Hello Alex"
    assert message["sentDateTime"] == "2026-03-02T09:00:00Z"
    assert message["receivedDateTime"] == "2026-03-02T09:01:00Z"
    assert message["internetMessageId"] == "<quote-1@fabrikam.example>"
    assert message["isDraft"] is False and message["hasAttachments"] is False
    assert message["parentFolderId"] == graph.folder_id(REP_OID, "inbox")
    assert "uniqueBody" not in message and "internetMessageHeaders" not in message


def test_select_keeps_id_and_etag_and_refuses_unknown_properties(
    graph: GraphEmulator, api: Api
) -> None:
    item = graph.add_message(REP_OID, subject="Hi")
    message = api.ok(f"me/messages/{q(item)}", **{"$select": "subject,isDraft,uniqueBody"})
    assert set(message) == {
        "@odata.context",
        "@odata.etag",
        "id",
        "subject",
        "isDraft",
        "uniqueBody",
    }
    refused = api.get(f"me/messages/{q(item)}", **{"$select": "subject,colour"})
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "RequestBroker--ParseUri"


def test_an_id_is_found_quoted_or_not(graph: GraphEmulator, api: Api) -> None:
    item = graph.add_message(REP_OID, subject="Hi")
    assert api.ok(f"me/messages/{item}")["id"] == item  # "=" is fine in a path
    odd = "AAMkAG/needs+quoting=="
    graph.add_message(REP_OID, subject="Odd", item_id=odd)
    assert api.ok(f"me/messages/{q(odd)}")["subject"] == "Odd"
    assert api.get(f"me/messages/{odd}").status_code == 400  # the "/" splits the path


def test_attachments_list_select_and_single(graph: GraphEmulator, api: Api) -> None:
    item = graph.add_message(
        REP_OID,
        body_html='<p><img src="cid:logo@x"></p>',
        attachments=[
            dict(name="quote.pdf", content_type="application/pdf", content=b"%PDF-1.7 q"),
            dict(
                name="logo.png",
                content_type="image/png",
                content=b"\x89PNG",
                is_inline=True,
                content_id="logo@x",
            ),
            dict(name="Re: order.msg", kind="item", content=b"x" * 40),
            dict(name="plan.docx", kind="reference", content_type="application/vnd.ms-word"),
        ],
    )
    assert api.ok(f"me/messages/{q(item)}")["hasAttachments"] is True
    full = api.ok(f"me/messages/{q(item)}/attachments")["value"]
    assert [a["@odata.type"] for a in full] == [
        "#microsoft.graph.fileAttachment",
        "#microsoft.graph.fileAttachment",
        "#microsoft.graph.itemAttachment",
        "#microsoft.graph.referenceAttachment",
    ]
    assert base64.b64decode(full[0]["contentBytes"]) == b"%PDF-1.7 q"
    assert full[0]["size"] == 10 and full[0]["isInline"] is False
    assert full[1]["isInline"] is True and full[1]["contentId"] == "logo@x"
    assert "contentBytes" not in full[2] and full[2]["size"] == 40
    listed = api.ok(
        f"me/messages/{q(item)}/attachments", **{"$select": "id,name,contentType,size,isInline"}
    )["value"]
    assert all("contentBytes" not in a for a in listed)
    assert set(listed[0]) == {
        "@odata.type",
        "@odata.mediaContentType",
        "id",
        "name",
        "contentType",
        "size",
        "isInline",
    }
    one = api.ok(f"me/messages/{q(item)}/attachments/{q(listed[0]['id'])}")
    assert base64.b64decode(one["contentBytes"]) == b"%PDF-1.7 q"
    item_attachment = api.ok(f"me/messages/{q(item)}/attachments/{q(listed[2]['id'])}")
    assert "contentBytes" not in item_attachment
    refused = api.get(f"me/messages/{q(item)}/attachments", **{"$select": "contentBytes"})
    assert refused.status_code == 400


def test_only_inline_attachments_do_not_count_as_attachments(
    graph: GraphEmulator, api: Api
) -> None:
    item = graph.add_message(
        REP_OID,
        body_html='<img src="cid:a@b">',
        attachments=[dict(name="a.png", content=b"png", is_inline=True, content_id="a@b")],
    )
    assert api.ok(f"me/messages/{q(item)}")["hasAttachments"] is False
    assert len(api.ok(f"me/messages/{q(item)}/attachments")["value"]) == 1


def test_unknown_ids_are_error_item_not_found(graph: GraphEmulator, api: Api) -> None:
    item = graph.add_message(REP_OID)
    for path in (
        "me/messages/AAMkAGnope=",
        "me/messages/AAMkAGnope=/attachments",
        f"me/messages/{q(item)}/attachments/AAMkAGnope=",
        "me/events/AAMkAGnope=",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "ErrorItemNotFound"
    assert response.headers["Content-Type"].startswith("application/json")


# --- auth and users ------------------------------------------------------------------------------


def test_a_missing_token_is_invalid_authentication_token(graph: GraphEmulator) -> None:
    response = requests.get(f"{graph.url}/v1.0/me/messages", verify=graph.ca_file, timeout=5)
    assert response.status_code == 401
    assert error_of(response)["code"] == "InvalidAuthenticationToken"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"expires_in": -60}, "expired"),
        ({"audience": "https://graph.microsoft.com"}, "Invalid audience"),
    ],
)
def test_expired_or_foreign_tokens_are_refused(
    entra: EntraEmulator, graph: GraphEmulator, api: Api, options: dict[str, Any], message: str
) -> None:
    token = entra.issue_token(
        tenant_id="t",
        oid=REP_OID,
        **{"audience": graph.url, **options},
    )
    response = api.get("me/messages", token=token)
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "InvalidAuthenticationToken" and message in error["message"]


def test_users_path_reaches_only_the_tokens_own_mailbox(graph: GraphEmulator, api: Api) -> None:
    mine = graph.add_message(REP_OID, subject="mine")
    graph.add_message(OTHER_OID, subject="theirs")
    graph.add_user(OTHER_OID, "kim@contoso.example")
    assert api.ok(f"users/{REP_OID}/messages/{q(mine)}")["subject"] == "mine"
    assert api.ok(f"users/{REP_UPN}/messages/{q(mine)}")["subject"] == "mine"  # learnt from token
    for other in (OTHER_OID, "kim@contoso.example"):
        response = api.get(f"users/{other}/messages")
        assert response.status_code == 403
        assert error_of(response)["code"] == "ErrorAccessDenied"
    unknown = api.get("users/nobody@contoso.example/messages")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "ErrorInvalidUser"


def test_a_denied_user_is_access_denied(graph: GraphEmulator, api: Api) -> None:
    item = graph.add_message(REP_OID)
    graph.deny(REP_OID)
    assert api.get(f"me/messages/{q(item)}").status_code == 403
    graph.deny(REP_OID, False)
    assert api.get(f"me/messages/{q(item)}").status_code == 200


# --- $filter, $orderby, paging -------------------------------------------------------------------


def test_filter_on_internet_message_id_with_a_doubled_quote(graph: GraphEmulator, api: Api) -> None:
    wanted = graph.add_message(
        REP_OID, folder="sentitems", internet_message_id="<o'brien@x.example>"
    )
    graph.add_message(REP_OID, folder="sentitems", internet_message_id="<obrien@x.example>")
    graph.add_message(REP_OID, folder="inbox", internet_message_id="<o'brien@x.example>")
    found = api.ok(
        "me/mailFolders/sentitems/messages",
        **{"$filter": "internetMessageId eq '<o''brien@x.example>'"},
    )["value"]
    assert [m["id"] for m in found] == [wanted]
    everywhere = api.ok("me/messages", **{"$filter": "internetMessageId eq '<O''BRIEN@x.example>'"})
    assert len(everywhere["value"]) == 2  # every folder; string comparison ignores case


def test_filter_with_or_parentheses_and_date(graph: GraphEmulator, api: Api) -> None:
    def add(conversation: str, minutes: int, folder: str = "inbox") -> str:
        when = T0 + dt.timedelta(minutes=minutes)
        return graph.add_message(
            REP_OID, folder=folder, conversation_id=conversation, sent_at=when, received_at=when
        )

    a_new, a_old, b_new, c_new = (
        add("conv-a", 30),
        add("conv-a", -30),
        add("conv-b", 40),
        add("conv-c", 50),
    )
    sent = add("conv-b", 45, folder="sentitems")
    query = (
        "receivedDateTime ge 2026-03-02T09:00:00Z and "
        "(conversationId eq 'conv-a' or conversationId eq 'conv-b')"
    )
    found = api.ok("me/messages", **{"$filter": query, "$orderby": "receivedDateTime desc"})
    assert [m["id"] for m in found["value"]] == [sent, b_new, a_new]
    assert a_old not in {m["id"] for m in found["value"]} and c_new != sent
    by_sent = api.ok(
        "me/messages",
        **{"$filter": "sentDateTime ge 2026-03-02T09:35:00Z and not (conversationId eq 'conv-c')"},
    )
    assert {m["id"] for m in by_sent["value"]} == {b_new, sent}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("internetMessageId eq 'unterminated", "BadRequest"),
        ("internetMessageId eq", "BadRequest"),
        ("(conversationId eq 'a'", "BadRequest"),
        ("conversationId eq 'a' or", "BadRequest"),
        ("conversationId = 'a'", "BadRequest"),
        ("colour eq 'blue'", "ErrorInvalidUrlQueryFilter"),
        ("receivedDateTime ge '2026-01-01'", "ErrorInvalidUrlQueryFilter"),
        ("isDraft eq 'no'", "ErrorInvalidUrlQueryFilter"),
    ],
)
def test_bad_filters_are_400(api: Api, text: str, code: str) -> None:
    response = api.get("me/messages", **{"$filter": text})
    assert response.status_code == 400
    assert error_of(response)["code"] == code


def test_orderby_must_lead_the_filter(api: Api) -> None:
    ordered = {"$orderby": "receivedDateTime desc"}
    refused = api.get("me/messages", **{"$filter": "conversationId eq 'a'", **ordered})
    assert refused.status_code == 400
    assert error_of(refused) | {"innerError": None} == {
        "code": "InefficientFilter",
        "message": "The restriction or sort order is too complex for this operation.",
        "innerError": None,
    }
    late = "conversationId eq 'a' and receivedDateTime ge 2026-01-01T00:00:00Z"
    assert api.get("me/messages", **{"$filter": late, **ordered}).status_code == 400
    first = "receivedDateTime ge 2026-01-01T00:00:00Z and conversationId eq 'a'"
    assert api.get("me/messages", **{"$filter": first, **ordered}).status_code == 200


def test_well_known_folders(graph: GraphEmulator, api: Api) -> None:
    inbox = graph.add_message(REP_OID, subject="in")
    sent = graph.add_message(REP_OID, folder="sentitems", subject="out")
    draft = graph.add_message(REP_OID, is_draft=True, subject="draft")
    for folder, expected in (("inbox", inbox), ("SentItems", sent), ("drafts", draft)):
        rows = api.ok(f"me/mailFolders/{folder}/messages")["value"]
        assert [m["id"] for m in rows] == [expected], folder
    folder_id = graph.folder_id(REP_OID, "sentitems")
    assert api.ok(f"me/mailFolders/{q(folder_id)}/messages/{q(sent)}")["subject"] == "out"
    assert api.get(f"me/mailFolders/inbox/messages/{q(sent)}").status_code == 404
    assert api.get("me/mailFolders/junkyard/messages").status_code == 400


def test_paging_follows_next_links_to_every_message(graph: GraphEmulator, api: Api) -> None:
    ids = [
        graph.add_message(REP_OID, subject=f"m{i}", received_at=T0 + dt.timedelta(minutes=i))
        for i in range(7)
    ]
    page = api.ok("me/messages", **{"$top": "3", "$select": "subject"})
    seen, pages = [m["id"] for m in page["value"]], 1
    while "@odata.nextLink" in page:
        assert page["@odata.nextLink"].startswith(f"{graph.url}/v1.0/me/messages?")
        page = api.ok(page["@odata.nextLink"])
        seen += [m["id"] for m in page["value"]]
        pages += 1
    assert pages == 3
    assert seen == list(reversed(ids))  # receivedDateTime desc by default
    graph.max_page_size = 2
    assert len(api.ok("me/messages", **{"$top": "100"})["value"]) == 2
    assert api.get("me/messages", **{"$top": "0"}).status_code == 400
    ascending = api.ok("me/messages", **{"$orderby": "receivedDateTime", "$top": "100"})
    assert [m["id"] for m in ascending["value"]] == ids[:2]


def test_send_draft_gives_a_new_id_and_keeps_the_internet_message_id(
    graph: GraphEmulator, api: Api
) -> None:
    draft = graph.add_message(REP_OID, is_draft=True, subject="Offer", internet_message_id="<d@x>")
    assert api.ok(f"me/messages/{q(draft)}")["isDraft"] is True
    sent = graph.send_draft(REP_OID, draft)
    assert sent != draft
    assert api.get(f"me/messages/{q(draft)}").status_code == 404
    message = api.ok(f"me/messages/{q(sent)}")
    assert message["isDraft"] is False and message["internetMessageId"] == "<d@x>"
    assert message["parentFolderId"] == graph.folder_id(REP_OID, "sentitems")
    with pytest.raises(KeyError):
        graph.send_draft(REP_OID, sent)


def test_filter_parser_directly() -> None:
    row = {"conversationId": "A", "receivedDateTime": "2026-03-02T09:00:00Z", "isDraft": False}
    parsed = MessageFilter.parse(
        "receivedDateTime gt 2026-03-02T08:59:59.5+00:00"
        " and (conversationId eq 'a' or isDraft eq true)"
    )
    assert parsed.test(row) and parsed.properties == (
        "receiveddatetime",
        "conversationid",
        "isdraft",
    )
    assert not MessageFilter.parse("isDraft ne false").test(row)
    with pytest.raises(GraphError):
        MessageFilter.parse("conversationId eq 'a' garbage")


# --- calendar ------------------------------------------------------------------------------------


def test_events_by_calendar_and_directly(graph: GraphEmulator, api: Api) -> None:
    event_id = graph.add_event(
        REP_OID,
        subject="Renewal",
        organizer=("Alex Rep", REP_UPN),
        required=[("Dana Buyer", "dana@fabrikam.example")],
        optional=["lee@fabrikam.example"],
        start=T0,
        end=T0 + dt.timedelta(minutes=30),
        location="Room 4",
        body_html="<p>Agenda</p>",
        ical_uid="uid-1",
    )
    calendar = api.ok("me/calendar")
    assert calendar["isDefaultCalendar"] is True
    event = api.ok(f"me/calendars/{q(calendar['id'])}/events/{q(event_id)}")
    assert event == api.ok(f"me/events/{q(event_id)}") | {"@odata.context": event["@odata.context"]}
    assert event["start"] == {"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "UTC"}
    assert event["end"]["dateTime"] == "2026-03-02T09:30:00.0000000"
    assert event["organizer"] == {"emailAddress": {"name": "Alex Rep", "address": REP_UPN}}
    assert [(a["type"], a["emailAddress"]["address"]) for a in event["attendees"]] == [
        ("required", "dana@fabrikam.example"),
        ("optional", "lee@fabrikam.example"),
    ]
    assert event["iCalUId"] == "uid-1" and event["location"]["displayName"] == "Room 4"
    assert api.get(f"me/calendars/AAMkAGother=/events/{q(event_id)}").status_code == 404
    selected = api.ok(f"me/events/{q(event_id)}", **{"$select": "subject,start"})
    assert set(selected) == {"@odata.context", "@odata.etag", "id", "subject", "start"}


def test_o365_reads_the_emulator_its_own_way(
    graph: GraphEmulator, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O365's stock calls (notes section 4) work against the emulator, verified in its log."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", graph.ca_file)  # O365 sets session.verify only
    item = graph.add_message(
        REP_OID,
        subject="Stock",
        to=["kim@contoso.example"],
        attachments=[dict(name="a.txt", content_type="text/plain", content=b"abc")],
    )
    start = T0 + dt.timedelta(days=1)
    event_id = graph.add_event(REP_OID, subject="Call", start=start, end=start)

    class LocalGraph(MSGraphProtocol):
        _protocol_url = f"{graph.url}/"

    account = Account(
        ("client", "secret"),
        protocol=LocalGraph(timezone="UTC"),
        token_backend=MemoryTokenBackend(),
        request_retries=0,
        requests_delay=0,
    )
    account.con.session = account.con.get_session()
    account.con.update_session_auth_header(access_token=tokens(False))
    try:
        message = account.mailbox().get_message(object_id=item, download_attachments=True)
        assert message.subject == "Stock" and message.to[0].address == "kim@contoso.example"
        assert message.attachments[0].name == "a.txt"
        assert base64.b64decode(message.attachments[0].content) == b"abc"
        event = account.schedule().get_default_calendar().get_event(event_id)
        assert event.subject == "Call" and event.start == start
    finally:
        account.con.session.close()
    assert [f"{r.method} {r.path.split('/')[3]}" for r in graph.received] == [
        "GET messages",
        "GET messages",
        "GET calendar",
        "GET calendars",
    ]


# --- faults and headers --------------------------------------------------------------------------


def test_throttle_answers_429_with_retry_after_then_recovers(
    graph: GraphEmulator, api: Api
) -> None:
    graph.throttle(times=1, retry_after=7)
    throttled = api.get("me/messages")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    error = error_of(throttled)
    assert error["code"] == "TooManyRequests" and error["innerError"]["status"] == "429"
    assert api.get("me/messages").status_code == 200
    assert graph.requests_served["GET /v1.0/me/messages"] == 2


def test_fail_and_drop(graph: GraphEmulator, api: Api) -> None:
    graph.fail(times=1)
    graph.fail(times=1, status=500, path="me/calendar")
    failed = api.get("me/messages")
    assert failed.status_code == 503 and error_of(failed)["code"] == "serviceNotAvailable"
    assert api.get("me/calendar").status_code == 500
    graph.drop(times=1)
    with pytest.raises(requests.ConnectionError):
        api.get("me/messages")
    assert api.get("me/messages").status_code == 200


def test_graph_headers_and_unknown_segments(graph: GraphEmulator, api: Api) -> None:
    plain = api.get("me/messages")
    assert plain.headers["request-id"] and "Preference-Applied" not in plain.headers
    asked = api.get(
        "me/messages",
        headers={"Prefer": 'IdType="ImmutableId"', "client-request-id": "abc"},
    )
    assert asked.headers["Preference-Applied"] == 'IdType="ImmutableId"'
    assert asked.headers["client-request-id"] == "abc"
    unknown = api.get("me/contactFolders")
    assert unknown.status_code == 400 and error_of(unknown)["code"] == "BadRequest"


def test_reset_forgets_mailboxes_faults_and_counts(graph: GraphEmulator, api: Api) -> None:
    item = graph.add_message(REP_OID)
    graph.inject(Reply(500), times=5)
    graph.max_page_size = 1
    graph.reset()
    response = api.get(f"me/messages/{q(item)}")
    assert response.status_code == 404
    assert sum(graph.requests_served.values()) == 1 and len(graph.received) == 1
    assert graph.max_page_size == 1000
