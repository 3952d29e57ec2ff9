"""The Account and Related items tabs (PRODUCT.md rules 11-12), the tab keys, and the dark theme.

Screenshots of each tab at Outlook's 320 px go to test-artifacts/screenshots/pane-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import FrameLocator, expect

from tests.browser.pane import (
    HARNESS_CONTEXT,
    PANE_WIDTH,
    open_harness,
    pane_screenshot,
    png_size,
    scroll_width,
)

pytestmark = pytest.mark.browser

TABS = ("Contacts", "Account", "Related items")
PANELS = ("panel-contacts", "panel-account", "panel-related")


@pytest.fixture
def context_options():
    return dict(HARNESS_CONTEXT)


@pytest.fixture
def demo(live_server, demo_app_config):
    return live_server(demo_app_config)


def expect_selected(pane: FrameLocator, name: str) -> None:
    """Exactly the tab ``name`` is selected, in the tab order and showing its panel."""
    for tab_name, panel in zip(TABS, PANELS, strict=True):
        tab = pane.get_by_role("tab", name=tab_name, exact=True)
        chosen = tab_name == name
        expect(tab).to_have_attribute("aria-selected", "true" if chosen else "false")
        expect(tab).to_have_attribute("tabindex", "0" if chosen else "-1")
        if chosen:
            expect(pane.locator(f"#{panel}")).to_be_visible()
        else:
            expect(pane.locator(f"#{panel}")).to_be_hidden()


def test_the_account_tab_shows_the_account_with_opportunities_and_cases(demo, sandbox, page):
    report = sandbox[1]
    pane = open_harness(page, demo, "known-sender")
    pane.get_by_role("tab", name="Account").click()
    expect_selected(pane, "Account")
    account = pane.locator("#panel-account article.card.account")
    expect(account).to_have_count(1)
    expect(account.get_by_role("heading", level=3)).to_contain_text(report.account_name)
    details = account.locator(".details")
    expect(details).to_contain_text("https://www.rossicostruzioni.it")
    expect(details).to_contain_text("+39 02 4856 1200")
    expect(details).to_contain_text("Milano, Italy")

    opportunities = account.locator("h4", has_text="Opportunities")
    expect(opportunities.locator(".count")).to_have_text("2")
    deals = account.locator("ul.records").nth(0).locator("li")
    expect(deals).to_have_count(2)
    expect(deals.first).to_contain_text("Fornitura gru")
    expect(deals.first).to_contain_text("Propose · 185,000")
    cases = account.locator("ul.records").nth(1).locator("li")
    expect(account.locator("h4", has_text="Cases").locator(".count")).to_have_text("2")
    open_case = cases.filter(has_text=report.open_case_ticket_number)
    expect(open_case).to_contain_text("Gru bloccata in cantiere")
    expect(open_case).to_contain_text("In Progress")
    expect(account.locator("h4", has_text="Activities")).to_be_visible()
    # Every record opens in the CRM, in a new tab.
    links = account.locator("a[href^='http']")
    assert links.count() >= 5
    for target in links.evaluate_all("links => links.map(a => a.target)"):
        assert target == "_blank"
    assert scroll_width(pane) <= PANE_WIDTH
    assert png_size(pane_screenshot(page, "pane-account"))[0] == PANE_WIDTH


def test_related_items_show_3_then_10_and_open_in_the_crm(demo, page):
    pane = open_harness(page, demo, "known-sender")
    pane.get_by_role("tab", name="Related items").click()
    expect_selected(pane, "Related items")
    panel = pane.locator("#panel-related")
    expect(panel).to_contain_text("With Giulia Rossi")
    emails = panel.locator("ul.related-list[data-kind=emails] > li")
    meetings = panel.locator("ul.related-list[data-kind=meetings] > li")
    # Giulia has twelve past emails and twelve upcoming meetings: 10 at most, 3 shown.
    for items in (emails, meetings):
        expect(items).to_have_count(10)
        expect(items.locator("visible=true")).to_have_count(3)
    assert scroll_width(pane) <= PANE_WIDTH
    assert png_size(pane_screenshot(page, "pane-related"))[0] == PANE_WIDTH

    show_more = panel.get_by_role("button", name="Show more Recent emails")
    show_more.click()
    expect(emails.locator("visible=true")).to_have_count(10)
    expect(show_more).to_be_hidden()
    # The focus goes to the first item revealed; the meetings keep their own button.
    expect(emails.nth(3).get_by_role("link")).to_be_focused()
    expect(meetings.locator("visible=true")).to_have_count(3)
    panel.get_by_role("button", name="Show more Upcoming meetings").click()
    expect(meetings.locator("visible=true")).to_have_count(10)

    # Each opens in the CRM in a new browser tab.
    link = emails.nth(9).get_by_role("link")
    expect(link).to_have_attribute("target", "_blank")
    with page.expect_popup() as opened:
        link.click()
    record = opened.value
    record.wait_for_load_state()
    assert record.url.startswith(f"{demo.url}/sandbox/contoso/"), record.url
    assert record.url == link.get_attribute("href")


def test_the_tabs_move_with_the_arrow_keys(demo, page):
    pane = open_harness(page, demo, "known-sender")
    expect_selected(pane, "Contacts")
    contacts = pane.get_by_role("tab", name="Contacts")
    contacts.focus()
    for key, name in (
        ("ArrowRight", "Account"),
        ("ArrowRight", "Related items"),
        ("ArrowRight", "Contacts"),  # wraps around
        ("ArrowLeft", "Related items"),
        ("Home", "Contacts"),
        ("End", "Related items"),
        ("ArrowLeft", "Account"),
    ):
        page.keyboard.press(key)
        expect(pane.get_by_role("tab", name=name, exact=True)).to_be_focused()
        expect_selected(pane, name)
    # Tab from the selected tab goes into its panel, not to the other tabs.
    page.keyboard.press("Tab")
    expect(pane.locator("#panel-account")).to_be_focused()


def test_a_new_item_opens_on_the_contacts_tab(demo, page):
    pane = open_harness(page, demo, "known-sender")
    pane.get_by_role("tab", name="Account").click()
    expect_selected(pane, "Account")
    page.locator('[data-sample="second-field"]').click()
    expect(pane.locator("article.card.contact").get_by_role("heading")).to_have_text(
        ["Jürgen Müller (opens in a new tab)"]
    )
    expect_selected(pane, "Contacts")


def test_the_dark_theme_follows_office(demo, page):
    pane = open_harness(page, demo, "known-sender", theme="dark")
    expect(pane.locator("html")).to_have_attribute("data-theme", "dark")
    background = pane.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgb(41, 41, 41)", background
    text = pane.locator("body").evaluate("b => getComputedStyle(b).color")
    assert text == "rgb(255, 255, 255)", text
    expect(pane.locator("article.card.contact")).to_have_count(1)
    assert png_size(pane_screenshot(page, "pane-dark-contacts"))[0] == PANE_WIDTH
    pane.get_by_role("tab", name="Account").click()
    expect(pane.locator("#panel-account")).to_be_visible()
    assert png_size(pane_screenshot(page, "pane-dark-account"))[0] == PANE_WIDTH
    pane.get_by_role("tab", name="Related items").click()
    expect(pane.locator("#panel-related")).to_be_visible()
    assert png_size(pane_screenshot(page, "pane-dark-related"))[0] == PANE_WIDTH
