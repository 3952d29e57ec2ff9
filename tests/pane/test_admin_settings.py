"""An admin's change of the organisation's settings shows in the reps' pane at once (rules 9, 21).

The demo organisation's admin (``demo:admin``) changes a setting through the JSON API; the next
pane request of a rep of the same organisation (``demo:alex``) obeys it, with nothing restarted.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask

from .conftest import message

ADMIN = {"Authorization": "Bearer demo:admin"}


@pytest.fixture
def admin_changes(demo_app: Flask):
    client = demo_app.test_client()

    def change(**settings: Any) -> None:
        answer = client.patch("/api/admin/settings", json={"settings": settings}, headers=ADMIN)
        assert answer.status_code == 200, answer.get_data(as_text=True)

    return change


def text(response: Any) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return unescape(response.get_data(as_text=True))


def account_panel(html: str) -> str:
    return html.split('id="panel-account"', 1)[1].split('id="panel-related"', 1)[0]


def headings(panel: str) -> list[str]:
    return re.findall(r"<h4>([^<]+?) <span", panel)


def test_turning_inline_creation_off_sends_add_to_crm_to_the_crms_form(pane_post, admin_changes):
    item = message(("anna.new@nowhere.example", "Anna New"))
    inline = text(pane_post("/view", item))
    assert 'data-post="/pane/contacts/new"' in inline

    admin_changes(inline_contact_creation=False)
    html = text(pane_post("/view", item))
    link = re.search(r'<a class="button" href="([^"]+)" target="_blank"', html)
    assert link and "/sandbox/contoso/contact/new?" in link.group(1)
    assert "email=anna.new%40nowhere.example" in link.group(1)
    assert "/pane/contacts/new" not in html

    admin_changes(inline_contact_creation=True)
    assert 'data-post="/pane/contacts/new"' in text(pane_post("/view", item))


def test_the_account_tab_lists_only_the_record_types_the_admin_shows(
    pane_post, admin_changes, sandbox
):
    item = message((sandbox[1].single_address, ""))
    assert headings(account_panel(text(pane_post("/view", item)))) == [
        "Opportunities",
        "Cases",
        "Activities",
    ]
    admin_changes(shown_record_types=["case"])
    panel = account_panel(text(pane_post("/view", item)))
    assert headings(panel) == ["Cases"]
    assert sandbox[1].account_name in panel  # the account itself is still shown
    admin_changes(shown_record_types=[])
    assert headings(account_panel(text(pane_post("/view", item)))) == []


def test_the_save_card_searches_only_the_record_types_the_admin_made_searchable(
    pane_post, admin_changes, sandbox
):
    report = sandbox[1]
    found = text(pane_post("/save/search", None, fields={"text": report.account_name}))
    assert f"account:{report.account_id}" in found

    admin_changes(search_record_types=["case", "opportunity"])
    found = text(pane_post("/save/search", None, fields={"text": report.account_name}))
    kinds = set(re.findall(r'name="regarding" value="([^":]+):', found))
    assert kinds <= {"case", "opportunity"} and f"account:{report.account_id}" not in found

    admin_changes(search_record_types=[])  # nothing searchable: the card offers no search box
    item = message((report.single_address, ""), item_id="AAMkAGI2-search-1")
    card = text(pane_post("/view", item)).split('id="save-card"', 1)[1].split("</section>", 1)[0]
    assert "save-search" not in card


def test_the_related_items_tab_shows_as_many_as_the_admin_chose(pane_post, admin_changes, sandbox):
    item = message((sandbox[1].single_address, ""))

    def hidden() -> int:
        return (
            text(pane_post("/view", item))
            .split('id="panel-related"', 1)[1]
            .count("hidden data-more")
        )

    assert hidden() == 14  # 3 of 10 emails and 3 of 10 meetings shown
    admin_changes(related_items=8)
    assert hidden() == 4
    admin_changes(related_items=10)
    assert hidden() == 0


def test_another_organisations_change_does_not_reach_this_pane(demo_app, pane_post, sandbox):
    from addin import store
    from addin.identity import Identity
    from addin.services import tenant_settings

    other_admin = Identity("another-tenant", "x", "", "X", frozenset(), frozenset())
    with demo_app.app_context():
        session = store.session()
        tenant_settings.update(
            session, other_admin, {"inline_contact_creation": False}, demo_app.config
        )
        session.commit()
    html = text(pane_post("/view", message(("anna.new@nowhere.example", "Anna New"))))
    assert 'data-post="/pane/contacts/new"' in html
