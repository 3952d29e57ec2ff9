"""The pane for people who do not use a mouse or do not see it: axe in every state, the keyboard.

axe finds about a third of what a person would; the keyboard walk through Add to CRM checks what
it cannot: that every step is reachable with Tab, Shift+Tab, Enter, Space and the arrow keys,
that the focus lands where the rep expects after each action, and that it is always visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.accessibility import axe_scan
from tests.browser.pane import HARNESS_CONTEXT, PANE_ONLY, focused, open_harness

pytestmark = pytest.mark.browser

ELEANOR = "e.whitfield@penninecrest-logistics.co.uk"


@pytest.fixture
def context_options():
    return dict(HARNESS_CONTEXT)


@pytest.fixture
def demo(live_server, demo_app_config):
    return live_server(demo_app_config)


def open_all_details(pane: FrameLocator) -> None:
    """Open every <details> (notes, Your organisation...) so that axe sees inside them too."""
    pane.locator("#pane").evaluate("p => p.querySelectorAll('details').forEach(d => d.open = true)")


def contacts(page: Page, pane: FrameLocator) -> None:
    # The busiest item: matched contacts, an address to choose, unsaved people, colleagues.
    expect(pane.locator("article.card.choose")).to_have_count(1)
    open_all_details(pane)


def account(page: Page, pane: FrameLocator) -> None:
    pane.get_by_role("tab", name="Account").click()
    expect(pane.locator("#panel-account article.card.account").first).to_be_visible()


def related(page: Page, pane: FrameLocator) -> None:
    pane.get_by_role("tab", name="Related items").click()
    pane.get_by_role("button", name="Show more Recent emails").click()
    expect(pane.locator("#panel-related ul.related-list > li:visible")).to_have_count(13)


def new_contact(page: Page, pane: FrameLocator) -> None:
    pane.get_by_role("button", name=f"Add to CRM {ELEANOR}").click()
    expect(pane.locator("[data-view=new-contact] #field-last_name")).to_have_value("Whitfield")


def picker(page: Page, pane: FrameLocator) -> None:
    expect(pane.locator("[data-view=picker] input[type=radio]")).to_have_count(3)


def signed_out(page: Page, pane: FrameLocator) -> None:
    pane.get_by_role("button", name="Sign out").click()
    expect(pane.get_by_role("button", name="Sign in")).to_be_visible()
    signature = pane.locator("section.card dd", has_text="Head of Facilities Management")
    expect(signature).to_be_visible()


def nothing_selected(page: Page, pane: FrameLocator) -> None:
    expect(pane.get_by_role("heading", name="Nothing selected")).to_be_visible()


def dark(page: Page, pane: FrameLocator) -> None:
    expect(pane.locator("html")).to_have_attribute("data-theme", "dark")
    open_all_details(pane)


#: state: (sample, harness settings, how to get there from the first render)
STATES: dict[str, tuple[str, dict[str, Any], Callable[[Page, FrameLocator], None]]] = {
    "contacts": ("many-recipients", {}, contacts),
    "account": ("known-sender", {}, account),
    "related": ("known-sender", {}, related),
    "new-contact": ("unknown-signature", {}, new_contact),
    "picker": ("known-sender", {"rep": "sam"}, picker),
    "signed-out": ("unknown-signature", {}, signed_out),
    "nothing-selected": ("", {}, nothing_selected),
    "dark": ("many-recipients", {"theme": "dark"}, dark),
}


@pytest.mark.parametrize("state", list(STATES))
def test_the_pane_has_no_serious_accessibility_violations(demo, page, state):
    item, settings, reach = STATES[state]
    pane = open_harness(page, demo, item, **settings)
    reach(page, pane)
    assert axe_scan(page, context=PANE_ONLY) == []
    if state == "dark":  # every tab in the dark theme (colour contrast differs)
        for name in ("Account", "Related items"):
            pane.get_by_role("tab", name=name).click()
            expect(pane.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")
            assert axe_scan(page, context=PANE_ONLY) == [], name


# --- the keyboard -----------------------------------------------------------------------------

#: What Tab may stop on in the pane; the walk starts at the first of them.
FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), textarea, "
    "select, summary, [tabindex]:not([tabindex='-1'])"
)
MAX_STEPS = 40


def assert_focus_visible(pane: FrameLocator) -> dict[str, Any]:
    now = focused(pane)
    assert now["tag"] != "body", "the focus was lost"
    assert now["outline"] != "none" and now["outlineWidth"] > 0, f"no visible focus: {now}"
    return now


def tab_until(page: Page, pane: FrameLocator, wanted: Callable[[dict[str, Any]], bool]) -> None:
    """Press Tab until the focused element is ``wanted``; each stop must show its focus."""
    seen = []
    for _ in range(MAX_STEPS):
        page.keyboard.press("Tab")
        now = assert_focus_visible(pane)
        seen.append(now["text"][:40] or now["id"] or now["tag"])
        if wanted(now):
            return
    raise AssertionError(f"not reached with Tab in {MAX_STEPS} steps; went through {seen}")


def test_add_to_crm_with_the_keyboard_only(demo, page):
    pane = open_harness(page, demo, "unknown-signature")
    expect(pane.locator("ul.people li.person")).to_have_count(2)
    # The pane's first focusable element: where Outlook's F6 / Tab into the pane lands.
    first = pane.locator(FOCUSABLE).first
    first.focus()
    expect(first).to_be_focused()

    # Tab reaches the selected tab (one stop for the tab list), arrows move, Shift+Tab goes back.
    tab_until(page, pane, lambda f: f["id"] == "tab-contacts")
    page.keyboard.press("ArrowRight")
    expect(pane.get_by_role("tab", name="Account")).to_be_focused()
    assert_focus_visible(pane)
    page.keyboard.press("ArrowLeft")
    expect(pane.get_by_role("tab", name="Contacts")).to_be_focused()
    expect(pane.locator("#panel-contacts")).to_be_visible()
    page.keyboard.press("Shift+Tab")  # back out of the tab list (to the connection bar)...
    assert_focus_visible(pane)
    expect(pane.get_by_role("tab", name="Contacts")).not_to_be_focused()
    page.keyboard.press("Tab")  # ...and in again, on the selected tab
    expect(pane.get_by_role("tab", name="Contacts")).to_be_focused()

    tab_until(page, pane, lambda f: f["text"].startswith("Add to CRM") and ELEANOR in f["text"])
    page.keyboard.press("Enter")

    form = pane.locator("[data-view=new-contact]")
    heading = form.get_by_role("heading", name="New contact")
    expect(heading).to_be_focused()  # the rep's action moved the focus to what changed
    assert_focus_visible(pane)
    # Through the fields: fill any required one that is empty, up to Save.
    for _ in range(MAX_STEPS):
        page.keyboard.press("Tab")
        now = assert_focus_visible(pane)
        if now["tag"] == "button" and now["text"] == "Save":
            break
        field = pane.locator("*:focus")
        required = now["tag"] == "input" and field.get_attribute("required") is not None
        if required and not field.input_value():
            page.keyboard.type("Whitfield")
    else:
        raise AssertionError("Save not reached with Tab")
    # Shift+Tab back to the last field and forward again, then Space presses Save.
    page.keyboard.press("Shift+Tab")
    assert assert_focus_visible(pane)["tag"] == "input"
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Save")).to_be_focused()
    page.keyboard.press("Space")

    notice = pane.locator(".notice")
    expect(notice).to_have_text("Eleanor Whitfield was added to the CRM.")
    expect(notice).to_be_focused()
    assert_focus_visible(pane)
    # Screen readers hear it: the live region repeats it.
    expect(pane.locator("#status")).to_have_text("Eleanor Whitfield was added to the CRM.")
    expect(pane.locator("article.card.contact").get_by_role("heading")).to_have_text(
        ["Eleanor Whitfield (opens in a new tab)"]
    )
    # The keyboard carries on from the notice into the pane.
    page.keyboard.press("Tab")
    assert_focus_visible(pane)


NOTE = "Call back on Monday about crane 2."


def test_private_notes_with_the_keyboard_only(demo, page):
    pane = open_harness(page, demo, "known-sender")
    card = pane.locator("article.card.contact")
    pane.locator(FOCUSABLE).first.focus()
    tab_until(page, pane, lambda f: f["tag"] == "summary" and "Private notes" in f["text"])
    page.keyboard.press("Enter")
    expect(card.locator("details.notes-box")).to_have_attribute("open", "")
    tab_until(page, pane, lambda f: f["tag"] == "textarea")
    page.keyboard.type(NOTE)
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Save note")).to_be_focused()
    page.keyboard.press("Enter")
    # The textarea is replaced: the focus goes to the notice, not to the top of the page.
    saved = card.locator(".notice")
    expect(saved).to_have_text("Note saved.")
    expect(saved).to_be_focused()
    expect(card.locator(".note-body")).to_have_text([NOTE])
    tab_until(page, pane, lambda f: f["text"].startswith("Delete"))
    page.keyboard.press("Enter")
    expect(card.locator(".notice")).to_have_text("Note deleted.")
    expect(card.locator(".notice")).to_be_focused()
    expect(card.locator(".note-body")).to_have_count(0)


@pytest.mark.parametrize("where", ["new-contact-form", "environment-picker"])
def test_cancel_keeps_the_keyboard_focus_in_the_pane(demo, page, where):
    pane = open_harness(page, demo, "unknown-signature")
    if where == "new-contact-form":
        pane.get_by_role("button", name=f"Add to CRM {ELEANOR}").focus()
        page.keyboard.press("Enter")
        expect(pane.locator("[data-view=new-contact]")).to_be_visible()
    else:
        pane.get_by_role("button", name="Switch").focus()
        page.keyboard.press("Enter")
        expect(pane.locator("[data-view=picker]")).to_be_visible()
    pane.get_by_role("button", name="Cancel").focus()
    page.keyboard.press("Enter")
    expect(pane.locator("[data-view=item]")).to_be_visible()
    expect(pane.locator("#pane")).to_have_attribute("aria-busy", "false")
    # Where the rep was (Add to CRM / Switch) is best; anywhere in the pane but <body> will do.
    # Nothing matches :focus when the focus fell to <body>; a short wait allows a deferred focus.
    expect(pane.locator(":focus")).to_have_count(1, timeout=500)


def rejected_save(pane: FrameLocator) -> FrameLocator:
    """Open the New contact form for Ops Team, clear the required last name and Save."""
    pane.get_by_role("button", name="Add to CRM operations@penninecrest-logistics.co.uk").click()
    form = pane.locator("[data-view=new-contact]")
    form.get_by_label("Last name").fill("")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_be_visible()
    return form


def test_a_rejected_save_keeps_what_the_rep_typed_and_says_why(demo, page):
    pane = open_harness(page, demo, "unknown-signature")
    form = rejected_save(pane)
    expect(form.get_by_role("alert")).to_contain_text("last name is required")
    expect(form.get_by_label("First name")).to_have_value("Ops")
    expect(form.get_by_label("Email")).to_have_value("operations@penninecrest-logistics.co.uk")
    expect(form.get_by_role("heading", name="New contact")).to_be_focused()
    expect(pane.locator("article.card.contact")).to_have_count(0)
    assert axe_scan(page, context=PANE_ONLY) == []


def test_a_rejected_field_is_marked_and_named_as_the_form_names_it(demo, page):
    pane = open_harness(page, demo, "unknown-signature")
    form = rejected_save(pane)
    # Checked at once, not awaited: the form has already rendered (rejected_save waited).
    message = form.get_by_role("alert").inner_text()
    assert "last_name" not in message, message
    assert form.get_by_label("Last name").get_attribute("aria-invalid") == "true"
