"""The Contacts tab as a rep uses it (PRODUCT.md rules 6-10), in the dev harness, in Chromium.

Each test starts its own demo server (fresh sandbox CRM, fresh store): no test depends on another.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pane import (
    HARNESS_CONTEXT,
    PANE_WIDTH,
    open_harness,
    pane_of,
    pane_screenshot,
    png_size,
    reload_harness,
    scroll_width,
    select_sample,
)

pytestmark = pytest.mark.browser

ELEANOR = "e.whitfield@penninecrest-logistics.co.uk"
#: What the New contact form reads from Eleanor Whitfield's signature (rule 8).
ELEANOR_PREFILL = {
    "first_name": ("Eleanor", "signature"),
    "last_name": ("Whitfield", "signature"),
    "email": (ELEANOR, "email"),
    "job_title": ("Head of Facilities Management", "signature"),
    "company": ("Pennine Crest Logistics Ltd.", "signature"),
    "business_phone": ("+441134960712", "signature"),
    "mobile_phone": ("+447723518604", "signature"),
    "website": ("www.penninecrest-logistics.co.uk", "signature"),
}


@pytest.fixture
def context_options():
    return dict(HARNESS_CONTEXT)


@pytest.fixture
def demo(live_server, demo_app_config):
    return live_server(demo_app_config)


def test_a_known_sender_shows_the_contact_card(demo, page):
    pane = open_harness(page, demo, "known-sender")
    card = pane.locator("article.card.contact")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", name="Giulia Rossi")).to_be_visible()
    expect(card.locator(".card-title .sub")).to_have_text(
        "Responsabile acquisti · Rossi Costruzioni S.p.A."
    )
    expect(card.locator(".details")).to_contain_text("giulia.rossi@rossicostruzioni.it")
    expect(card.get_by_role("link", name="+39 02 4856 1234")).to_be_visible()
    expect(card.locator(".details .chip")).to_have_text(["From"])
    # Which CRM (and environment) the contact is in (rule 7).
    expect(card.locator(".details")).to_contain_text("Sandbox CRM · Contoso")
    record = card.get_by_role("link", name="Giulia Rossi")
    expect(record).to_have_attribute("target", "_blank")
    assert (record.get_attribute("href") or "").startswith(f"{demo.url}/sandbox/contoso/")
    # The rep's own address is internal: never offered as a new contact (rule 6).
    expect(pane.locator("ul.people li.person")).to_have_count(0)
    expect(pane.get_by_role("button", name="Add to CRM")).to_have_count(0)
    assert scroll_width(pane) <= PANE_WIDTH
    assert png_size(pane_screenshot(page, "pane-contacts"))[0] == PANE_WIDTH


def test_a_thread_with_34_people_costs_at_most_two_crm_round_trips(demo, page):
    pane = open_harness(page, demo, "many-recipients")
    view = pane.locator(".pane-view[data-view=item]")
    trips = int(view.get_attribute("data-crm-round-trips") or "-1")
    assert 0 < trips <= 2, f"opening the 1 + 33 recipient email took {trips} adapter round trips"
    # Every one of the 34 addresses is somewhere: matched, to choose, unsaved or internal.
    matched = pane.locator("article.card.contact")
    expect(matched).to_have_count(5)
    expect(pane.locator("article.card.choose")).to_have_count(1)
    expect(pane.locator("ul.people li.person")).to_have_count(21)
    internal = pane.locator("details.more", has_text="Your organisation")
    expect(internal.locator("summary .count")).to_have_text("7")
    # Rule 6: the 2nd and 3rd email fields and the tricky addresses match too.
    for name in ("Giulia Rossi", "Jürgen Müller", "Anna Kowalska", "Percy Underwood"):
        expect(matched.get_by_role("heading", name=name)).to_have_count(1)
    expect(matched.get_by_role("heading", name="Siobhán O'Brien")).to_have_count(1)
    assert scroll_width(pane) <= PANE_WIDTH, "34 people make the 320 px pane scroll sideways"
    # The same holds when the pinned pane moves to it from another item.
    select_sample(page, "known-sender")
    expect(pane.locator("article.card.contact")).to_have_count(1)
    select_sample(page, "many-recipients")
    expect(pane.locator("article.card.contact")).to_have_count(5)
    trips = int(view.get_attribute("data-crm-round-trips") or "-1")
    assert 0 < trips <= 2, trips


def test_add_an_unknown_sender_from_the_signature_then_see_it_matched(demo, page):
    pane = open_harness(page, demo, "unknown-signature")
    unsaved = pane.locator("ul.people li.person")
    expect(unsaved).to_have_count(2)
    expect(pane.locator("article.card.contact")).to_have_count(0)
    unsaved.filter(has_text=ELEANOR).get_by_role("button", name="Add to CRM").click()

    form = pane.locator("[data-view=new-contact]")
    expect(form.get_by_role("heading", name="New contact")).to_be_focused()
    for name, (value, source) in ELEANOR_PREFILL.items():
        field = form.locator(f"#field-{name}")
        expect(field).to_have_value(value)
        expect(field).to_have_attribute("data-source", source)
        mark = "From the signature" if source == "signature" else "From the email"
        expect(form.locator(f"#source-{name}")).to_have_text(f"✦ {mark}")
        expect(form.locator(f"#source-{name}")).to_be_visible()
    # Open in CRM: the CRM's own form, in a new tab, with what we know filled in.
    crm_form = form.get_by_role("link", name="Open in CRM")
    expect(crm_form).to_have_attribute("target", "_blank")
    href = crm_form.get_attribute("href") or ""
    assert href.startswith(f"{demo.url}/sandbox/contoso/contact/new?"), href
    assert "email=e.whitfield%40penninecrest-logistics.co.uk" in href, href
    assert scroll_width(pane) <= PANE_WIDTH
    assert png_size(pane_screenshot(page, "pane-new-contact"))[0] == PANE_WIDTH

    # The rep may edit before saving (rule 8).
    form.get_by_label("Job title").fill("Director of Facilities")
    form.get_by_role("button", name="Save").click()
    notice = pane.locator(".notice")
    expect(notice).to_have_text("Eleanor Whitfield was added to the CRM.")
    expect(notice).to_be_focused()
    card = pane.locator("article.card.contact")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", name="Eleanor Whitfield")).to_be_visible()
    expect(card).to_contain_text("Director of Facilities · Pennine Crest Logistics Ltd.")
    expect(pane.locator("ul.people li.person")).to_have_count(1)  # only Ops Team is left

    # Afterwards: the next time the item is opened, the CRM has her.
    pane = reload_harness(page)
    expect(pane.locator("article.card.contact").get_by_role("heading")).to_have_text(
        ["Eleanor Whitfield (opens in a new tab)"]
    )
    expect(pane.locator("ul.people li.person", has_text=ELEANOR)).to_have_count(0)


def test_choosing_among_two_matches_survives_a_reload_and_can_be_changed(demo, page):
    pane = open_harness(page, demo, "two-matches")
    choose = pane.locator("article.card.choose")
    expect(choose.get_by_role("heading")).to_have_text("Choose the right contact")
    expect(choose).to_contain_text("2 contacts in the CRM have service@nordlysbyg.dk.")
    expect(choose.locator("li.candidate")).to_have_count(2)
    expect(pane.locator("article.card.contact")).to_have_count(0)
    # None of these? Add to CRM is offered there too (rule 7).
    expect(choose.get_by_role("button", name="Add to CRM")).to_be_visible()

    choose.get_by_role("button", name="Connect Søren Østergaard").click()
    expect(pane.locator(".notice")).to_have_text("Contact connected.")
    card = pane.locator("article.card.contact")
    expect(card.get_by_role("heading", name="Søren Østergaard")).to_be_visible()
    expect(pane.locator("article.card.choose")).to_have_count(0)

    pane = reload_harness(page)
    card = pane.locator("article.card.contact")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", name="Søren Østergaard")).to_be_visible()
    expect(pane.locator("article.card.choose")).to_have_count(0)

    # Connect another record changes the choice later.
    card.locator("summary", has_text="Connect another record").click()
    expect(card.locator(".chip-current")).to_have_text("Connected")
    card.get_by_role("button", name="Connect Mette Jensen").click()
    expect(pane.locator(".notice")).to_have_text("Contact connected.")
    expect(pane.locator("article.card.contact").get_by_role("heading")).to_have_text(
        ["Mette Jensen (opens in a new tab)"]
    )
    pane = reload_harness(page)
    expect(pane.locator("article.card.contact").get_by_role("heading")).to_have_text(
        ["Mette Jensen (opens in a new tab)"]
    )


NOTE = "Prefers calls after 3 pm; ask about the slewing ring on crane 2."


def test_private_notes_are_seen_by_their_author_only(demo, page):
    pane = open_harness(page, demo, "known-sender")
    card = pane.locator("article.card.contact")
    card.locator("summary", has_text="Private notes").click()
    expect(card).to_contain_text("Only you can see these notes. They are never saved to the CRM.")
    card.get_by_label("New note").fill(NOTE)
    card.get_by_role("button", name="Save note").click()
    expect(card.locator(".notice")).to_have_text("Note saved.")
    expect(card.locator(".note-body")).to_have_text([NOTE])

    pane = reload_harness(page)
    card = pane.locator("article.card.contact")
    expect(card.locator(".notes-box > summary .count")).to_have_text("1")
    card.locator("summary", has_text="Private notes").click()
    expect(card.locator(".note-body")).to_have_text([NOTE])

    # Another rep of the same organisation, same environment, same contact: nothing.
    pane = open_harness(page, demo, "known-sender", rep="admin")
    card = pane.locator("article.card.contact")
    expect(card.get_by_role("heading", name="Giulia Rossi")).to_be_visible()
    expect(pane.locator(".bar-name")).to_have_text("Contoso")
    expect(card.locator(".notes-box > summary .count")).to_have_text("0")
    expect(card.locator(".note-body")).to_have_count(0)
    assert NOTE not in pane.locator("#pane").inner_html()


def test_the_private_notes_count_follows_saving_a_note(demo, page):
    pane = open_harness(page, demo, "known-sender")
    card = pane.locator("article.card.contact")
    card.locator("summary", has_text="Private notes").click()
    card.get_by_label("New note").fill(NOTE)
    card.get_by_role("button", name="Save note").click()
    expect(card.locator(".note-body")).to_have_text([NOTE])
    count = card.locator(".notes-box > summary .count").inner_text()
    assert count == "1", f"the summary says {count} notes while one is listed"


def test_a_contact_with_the_address_in_its_second_email_field_is_matched(demo, page):
    pane = open_harness(page, demo, "second-field")
    card = pane.locator("article.card.contact")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", name="Jürgen Müller")).to_be_visible()
    expect(card.locator(".details")).to_contain_text("j.mueller@gmx.de")
    expect(pane.locator("ul.people li.person")).to_have_count(0)


def test_a_meeting_shows_its_organizer_and_attendees(demo, page):
    pane = open_harness(page, demo, "meeting")
    cards = pane.locator("article.card.contact")
    organizer = cards.filter(has_text="Giulia Rossi")
    expect(organizer.locator(".details .chip")).to_have_text(["Organizer"])
    attendee = cards.filter(has_text="Anna Kowalska")
    expect(attendee.locator(".details .chip")).to_have_text(["Attendee"])
    unsaved = pane.locator("ul.people li.person")
    expect(unsaved).to_have_count(2)
    for address in (
        "lorenzo.gatti@gruverde-noleggi.it",
        "sofia.marchetti@studiotecnico-navigli.it",
    ):
        expect(unsaved.filter(has_text=address).locator(".chip")).to_have_text(["Attendee"])
    internal = pane.locator("details.more", has_text="Your organisation")
    expect(internal.locator("summary .count")).to_have_text("2")


def test_a_draft_shows_its_bcc_recipients_too(demo, page):
    pane = open_harness(page, demo, "draft")
    card = pane.locator("article.card.contact")
    expect(card.get_by_role("heading", name="Giulia Rossi")).to_be_visible()
    expect(card.locator(".details .chip")).to_have_text(["To"])
    expect(
        pane.locator("ul.people li.person", has_text="lorenzo.gatti@gruverde-noleggi.it").locator(
            ".chip"
        )
    ).to_have_text(["Cc"])
    # Laura Becker is only in bcc (compose mode exposes it): she is read, as a colleague.
    internal = pane.locator("details.more", has_text="Your organisation")
    expect(internal.locator("summary .count")).to_have_text("3")
    internal.locator("summary").click()
    expect(internal.locator("li", has_text="laura.becker@contoso.example")).to_be_visible()


def test_a_shared_mailbox_item_says_so_and_never_offers_the_mailbox(demo, page):
    pane = open_harness(page, demo, "shared-mailbox")
    expect(pane.locator(".pane-view > p.info")).to_have_text(
        "This item is in the shared mailbox support@contoso.example."
    )
    expect(pane.locator("article.card.contact").get_by_role("heading")).to_have_text(
        ["Siobhán O'Brien (opens in a new tab)"]
    )
    expect(pane.locator("ul.people li.person", has_text="support@")).to_have_count(0)
    expect(pane.get_by_role("button", name="Add to CRM support@contoso.example")).to_have_count(0)
    internal = pane.locator("details.more", has_text="Your organisation")
    internal.locator("summary").click()
    expect(internal.locator("li", has_text="support@contoso.example")).to_be_visible()


def test_nothing_selected_then_the_pinned_pane_follows_the_selection(demo, page):
    pane = open_harness(page, demo)
    expect(pane.get_by_role("heading", name="Nothing selected")).to_be_visible()
    # A pinned pane is not reloaded when Outlook selects another item: it renders again.
    pane.locator("html").evaluate("() => { window.__samePane = true; }")

    select_sample(page, "known-sender")
    expect(pane.locator("article.card.contact").get_by_role("heading")).to_have_text(
        ["Giulia Rossi (opens in a new tab)"]
    )
    select_sample(page, "two-matches")
    expect(pane.locator("article.card.choose")).to_have_count(1)
    expect(pane.locator("article.card.contact")).to_have_count(0)
    page.get_by_role("button", name="No item selected").click()
    expect(pane.get_by_role("heading", name="Nothing selected")).to_be_visible()
    expect(pane.locator("article.card")).to_have_count(0)
    select_sample(page, "second-field")
    expect(pane.locator("article.card.contact").get_by_role("heading")).to_have_text(
        ["Jürgen Müller (opens in a new tab)"]
    )
    assert pane.locator("html").evaluate("() => window.__samePane === true")


@pytest.fixture
def crm_forms_demo(live_server, demo_app_config):
    return live_server({**demo_app_config, "INLINE_CONTACT_CREATION": False})


def test_with_inline_creation_off_add_to_crm_opens_the_crms_form(crm_forms_demo, page):
    pane = open_harness(page, crm_forms_demo, "unknown-signature")
    add = pane.locator("ul.people li.person", has_text=ELEANOR).get_by_role(
        "link", name="Add to CRM"
    )
    expect(add).to_have_attribute("target", "_blank")
    href = add.get_attribute("href") or ""
    assert href.startswith(f"{crm_forms_demo.url}/sandbox/contoso/contact/new?"), href
    expect(pane.get_by_role("button", name="Add to CRM")).to_have_count(0)
    with page.expect_popup() as opened:
        add.click()
    crm_form = opened.value
    crm_form.wait_for_load_state()
    expect(crm_form.get_by_role("heading", name="New contact")).to_be_visible()
    expect(crm_form.locator("#f-email")).to_have_value(ELEANOR)
    # The pane itself stayed where it was.
    expect(pane_of(page).locator("[data-view=new-contact]")).to_have_count(0)
    expect(pane_of(page).locator("ul.people li.person")).to_have_count(2)
