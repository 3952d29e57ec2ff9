"""The pane's fragments: what a rep sees for an item, and what each action changes."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from html import unescape

import pytest

from addin.harness.samples import build_samples
from crm_adapters.sandbox import SandboxAdapter

from .conftest import admin_sets, message


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def pane_item(office: dict) -> dict:
    """What pane.js sends for a harness sample (the same mapping as pane.js's readItem)."""

    def person(p):
        return {"address": p["emailAddress"], "name": p.get("displayName", "")} if p else None

    item = {
        "type": office["itemType"],
        "mode": office["mode"],
        "subject": office.get("subject", ""),
        "mailbox": "alex@contoso.example",
        "shared": (
            {"owner": office["shared"]["owner"], "permissions": 3} if office.get("shared") else None
        ),
    }
    if office["itemType"] == "appointment":
        item["organizer"] = person(office.get("organizer"))
        item["attendees"] = [
            person(p)
            for p in office.get("requiredAttendees", []) + office.get("optionalAttendees", [])
        ]
    else:
        item["from"] = person(office.get("from"))
        for key in ("to", "cc", "bcc"):
            if key in office:
                item[key] = [person(p) for p in office[key]]
    if office["mode"] == "read":
        item["internet_message_id"] = office.get("internetMessageId", "")
    return item


@pytest.fixture
def samples(sandbox):
    report = sandbox[1]
    built = build_samples(
        report,
        rep_address="alex@contoso.example",
        rep_name="Alex Morgan",
        now=dt.datetime.now(dt.UTC),
    )
    return {s.key: s for s in built}


def known_addresses(path, count: int) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT email1 FROM contacts WHERE email1 IS NOT NULL AND email1 != '' LIMIT ?",
            (count,),
        ).fetchall()
    return [row[0] for row in rows]


# --- opening an item ----------------------------------------------------------------------------


def test_a_known_sender_is_shown_with_details_and_crm(pane_post, sandbox):
    report = sandbox[1]
    page = pane_post("/view", message((report.single_address, "")))
    assert page.status_code == 200
    html = text(page)
    assert 'data-view="item"' in html and "In your CRM" in html
    assert "Sandbox CRM · Contoso" in html  # which CRM (and environment) the contact is in
    assert report.single_address in html


def test_opening_an_item_with_31_addresses_costs_two_crm_round_trips(
    pane_post, sandbox, monkeypatch
):
    """Rule: at most two sequential adapter calls per opened item, whatever the recipients."""
    calls: list[str] = []
    for name in ("match_contacts", "contact_context", "get_accounts", "related_activities"):
        original = getattr(SandboxAdapter, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(SandboxAdapter, name, counted)
    path, report = sandbox
    recipients = [*known_addresses(path, 25), *(f"nobody{i}@unknown.example" for i in range(5))]
    page = pane_post("/view", message((report.single_address, "Giulia"), *recipients))
    html = text(page)
    assert calls == ["match_contacts", "contact_context"]
    assert 'data-crm-round-trips="2"' in html
    assert html.count('class="card contact"') >= 25
    assert html.count('class="person"') == 5


def test_the_second_email_field_counts_as_a_match(pane_post, sandbox):
    report = sandbox[1]
    html = text(pane_post("/view", message((report.second_field_address, ""))))
    assert "In your CRM" in html and "Not in your CRM" not in html


def test_two_contacts_with_one_address_ask_to_choose_and_the_choice_sticks(pane_post, sandbox):
    report = sandbox[1]
    item = message((report.shared_address, ""))
    html = text(pane_post("/view", item))
    assert "Choose the right contact" in html
    first, second = report.shared_contact_ids[:2]
    chosen = pane_post(
        "/choose", item, fields={"address": report.shared_address, "contact_id": second}
    )
    assert chosen.status_code == 200
    after = text(pane_post("/view", item))
    assert "Choose the right contact" not in after and "Connect another record" in after
    assert re.search(rf'name="contact_id" value="{first}"', after)  # the other one, to switch to
    # Another rep still has to choose: choices are per rep.
    assert "Choose the right contact" in text(pane_post("/view", item, rep="kim"))


def test_choosing_a_contact_that_does_not_hold_the_address_is_refused(pane_post, sandbox):
    report = sandbox[1]
    item = message((report.shared_address, ""))
    refused = pane_post(
        "/choose", item, fields={"address": report.shared_address, "contact_id": "not-one-of-them"}
    )
    assert refused.status_code == 422
    assert 'data-error="contact_not_matching"' in text(refused)


def test_own_internal_and_shared_mailbox_addresses_are_not_offered(pane_post, sandbox, samples):
    item = pane_item(samples["shared-mailbox"].item)
    html = text(pane_post("/view", item))
    assert "This item is in the shared mailbox support@contoso.example." in html
    unsaved = html.split("Not in your CRM", 1)[1] if "Not in your CRM" in html else ""
    assert "support@contoso.example" not in unsaved
    assert "alex@contoso.example" not in unsaved


def test_account_and_related_items_come_with_the_item(pane_post, sandbox):
    report = sandbox[1]
    html = text(pane_post("/view", message((report.single_address, ""))))
    assert report.account_name in html
    account_panel = html.split('id="panel-account"', 1)[1].split('id="panel-related"', 1)[0]
    assert "Opportunities" in account_panel and "Cases" in account_panel
    related = html.split('id="panel-related"', 1)[1]
    assert related.count("<li") == 20  # 10 emails + 10 meetings: "Show more" costs no request
    assert related.count("hidden data-more") == 14  # 3 of each shown by default


def test_the_related_items_setting_changes_how_many_are_shown(demo_app, pane_post, sandbox):
    admin_sets(demo_app, related_items=5)
    html = text(pane_post("/view", message((sandbox[1].single_address, ""))))
    assert html.split('id="panel-related"', 1)[1].count("hidden data-more") == 10


def test_an_item_is_validated(pane_post):
    bad = pane_post("/view", {"type": "message", "mode": "read", "to": [{"address": 5}]})
    assert bad.status_code == 400
    assert "Outlook sent an item Sidepane cannot read" in text(bad)
    assert pane_post("/view", {"type": "fax", "mode": "read"}).status_code == 400


def test_no_item_shows_the_empty_state(pane_post):
    html = text(pane_post("/view", None))
    assert "Nothing selected" in html and 'data-view="no-item"' in html


def test_every_fragment_needs_a_token(demo_app):
    client = demo_app.test_client()
    refused = client.post("/pane/view", json={"item": None})
    assert refused.status_code == 401
    assert 'data-error="missing_token"' in text(refused)
    assert client.get("/pane").status_code == 200  # the page itself is public: it has no data


# --- environments -------------------------------------------------------------------------------


def test_a_rep_with_two_productions_chooses_then_stays_connected(pane_post, sandbox):
    item = message((sandbox[1].single_address, ""))
    picker = text(pane_post("/view", item, rep="sam"))
    assert 'data-view="picker"' in picker
    for name in ("Contoso", "Fabrikam", "Fabrikam Dev"):
        assert name in picker
    assert "http://127.0.0.1:8000/sandbox/fabrikam-dev" in picker
    connected = text(
        pane_post(
            "/connect", item, rep="sam", fields={"crm": "sandbox", "environment_id": "fabrikam"}
        )
    )
    assert "Connected to Fabrikam." in connected
    assert 'class="bar-name">Fabrikam<' in text(pane_post("/view", item, rep="sam"))


def test_the_api_asks_to_choose_before_it_answers(demo_app):
    client = demo_app.test_client()
    answer = client.post(
        "/api/items/resolve",
        json={"item": {"from": {"address": "a@b.example"}}},
        headers={"Authorization": "Bearer demo:lee"},
    )
    assert answer.status_code == 409
    assert answer.get_json()["error"] == "choose_environment"


def test_sign_out_keeps_what_needs_no_crm(pane_post, samples):
    item = pane_item(samples["unknown-signature"].item)
    signed_out = text(pane_post("/sign-out", item))
    assert "Sign in to Sandbox CRM" in signed_out
    assert "Eleanor Whitfield" in signed_out or "eleanor" in signed_out.lower()
    signature = text(pane_post("/signature", item, body=samples["unknown-signature"].item["body"]))
    assert "Pennine Crest Logistics" in signature and "Head of Facilities Management" in signature
    back = text(pane_post("/sign-in", item))
    assert 'data-view="item"' in back and "Connected to Contoso." in back


def test_switch_lists_the_environments(pane_post, sandbox):
    html = text(pane_post("/environments", None))
    assert 'data-view="picker"' in html and "Switch environment" in html
    assert "Contoso Training" in html


# --- adding a contact ---------------------------------------------------------------------------


def test_add_to_crm_prefills_from_the_senders_signature(pane_post, samples):
    sample = samples["unknown-signature"]
    item = pane_item(sample.item)
    sender = item["from"]
    form = text(
        pane_post(
            "/contacts/new",
            item,
            fields={"address": sender["address"], "name": sender["name"]},
            body=sample.item["body"],
        )
    )
    assert 'data-view="new-contact"' in form
    assert re.search(r'id="field-company"[^>]*value="Pennine Crest Logistics Ltd\.?"', form)
    assert re.search(r'id="field-job_title"[^>]*data-source="signature"', form)
    assert re.search(r'id="field-email"[^>]*data-source="email"', form)
    assert "Open in CRM" in form and "/sandbox/contoso/contact/new?" in form


def test_a_recipient_is_not_given_the_senders_signature(pane_post, samples):
    sample = samples["unknown-signature"]
    item = pane_item(sample.item)
    item["to"] = [{"address": "someone.else@unknown.example", "name": "Someone Else"}]
    form = text(
        pane_post(
            "/contacts/new",
            item,
            fields={"address": "someone.else@unknown.example", "name": "Someone Else"},
            body=sample.item["body"],
        )
    )
    assert 'data-source="signature"' not in form
    assert re.search(r'id="field-last_name"[^>]*value="Else"', form)


def test_a_bare_forward_does_not_give_the_forwarder_the_authors_signature(pane_post):
    # The sender wrote nothing above the forwarded message: its signature is Judy Paul's.
    body = "\n".join(
        [
            "-----Original Message-----",
            "From: Paul, Judy [mailto:judy.paul@ice.example]",
            "Sent: Monday, February 26, 2001 8:46 AM",
            "To: beth.cherry@enform.example",
            "Subject: RE: General Mailbox",
            "",
            "Thank you very much for your keen observation.",
            "",
            "Judy Paul",
            "Customer Service Representative",
            "Phone: (713) 555-0142",
        ]
    )
    item = message(("beth.cherry@enform.example", "Cherry, Beth"))
    form = text(
        pane_post(
            "/contacts/new",
            item,
            fields={"address": "beth.cherry@enform.example", "name": "Cherry, Beth"},
            body=body,
        )
    )
    assert 'data-source="signature"' not in form
    assert "Customer Service Representative" not in form
    assert re.search(r'id="field-first_name"[^>]*value="Beth"', form)


def test_saving_the_form_creates_the_contact_and_it_is_matched_afterwards(pane_post):
    item = message(("new.person@nowhere.example", "New Person"))
    assert "Not in your CRM" in text(pane_post("/view", item))
    fields = {"first_name": "New", "last_name": "Person", "email": "new.person@nowhere.example"}
    saved = text(pane_post("/contacts", item, fields=fields))
    assert "New Person was added to the CRM." in saved
    assert "Not in your CRM" not in saved and "In your CRM" in saved


def test_the_crm_refusing_a_contact_keeps_the_form_and_says_why(pane_post):
    item = message(("x@nowhere.example", ""))
    refused = pane_post(
        "/contacts", item, fields={"first_name": "Only", "email": "x@nowhere.example"}
    )
    assert refused.status_code == 422
    html = text(refused)
    assert "last_name" in html and 'value="Only"' in html


def test_with_inline_creation_off_add_to_crm_opens_the_crms_form(demo_app, pane_post):
    admin_sets(demo_app, inline_contact_creation=False)
    html = text(pane_post("/view", message(("anna.new@nowhere.example", "Anna New"))))
    link = re.search(r'<a class="button" href="([^"]+)" target="_blank"', html)
    assert link and "/sandbox/contoso/contact/new?" in link.group(1)
    assert "email=anna.new%40nowhere.example" in link.group(1) and "last_name=New" in link.group(1)
    assert "/pane/contacts/new" not in html


# --- private notes ------------------------------------------------------------------------------


def test_notes_are_private_to_their_author(pane_post, sandbox):
    report = sandbox[1]
    item = message((report.single_address, ""))
    contact_id = (
        SandboxAdapter(sandbox[0])
        .match_contacts([report.single_address])[report.single_address][0]
        .id
    )
    saved = text(
        pane_post("/notes", item, fields={"contact_id": contact_id, "body": "Prefers calls <b>"})
    )
    assert "Prefers calls <b>" in saved and "Note saved." in saved
    assert "Prefers calls" in text(pane_post("/view", item))
    assert "Prefers calls" not in text(pane_post("/view", item, rep="kim"))
    note_id = re.search(r"/pane/notes/(\d+)/delete", saved).group(1)
    assert (
        pane_post(
            f"/notes/{note_id}/delete", item, rep="kim", fields={"contact_id": contact_id}
        ).status_code
        == 404
    )
    deleted = text(pane_post(f"/notes/{note_id}/delete", item, fields={"contact_id": contact_id}))
    assert "Prefers calls" not in deleted


def test_an_empty_note_is_refused_with_a_message(pane_post):
    refused = pane_post("/notes", None, fields={"contact_id": "c1", "body": "  "})
    assert refused.status_code == 400
    assert 'data-error="missing_field"' in text(refused)


# --- failures -----------------------------------------------------------------------------------


def test_a_crm_that_does_not_answer_gets_a_message_not_a_500(pane_post, sandbox):
    sandbox[0].unlink()
    broken = pane_post("/view", message((sandbox[1].single_address, "")))
    assert broken.status_code in (502, 503)
    assert "Try again" in text(broken)


def test_the_page_loads_office_js_from_the_stand_in_in_demo_and_the_cdn_otherwise(demo_app, app):
    demo_page = demo_app.test_client().get("/pane")
    assert "/static/harness/office.js" in text(demo_page)
    production = app.test_client().get("/pane")
    html = text(production)
    assert "https://appsforoffice.microsoft.com/lib/1/hosted/office.js" in html
    policy = production.headers["Content-Security-Policy"]
    assert "script-src 'self' https://appsforoffice.microsoft.com;" in policy
    assert "frame-ancestors" in policy
