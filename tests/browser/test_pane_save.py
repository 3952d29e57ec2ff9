"""The save card as a rep uses it (PRODUCT.md rules 13-18), in the dev harness, in Chromium.

The pane is served by a live demo server with the harness's mailbox. The worker's part is the
real task body (`workers.tasks.save`) run in the test's process on the server's app, so each
step of the card (queued, then saved, waiting or failed) is the server's real answer to the
pane's own polling. Real worker processes and brokers are tested in ``tests/workers``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import FrameLocator, expect
from sqlalchemy import select

from addin import store
from addin.store.models import SaveJob
from tests.browser.pane import HARNESS_CONTEXT, open_harness, pane_screenshot, select_sample

pytestmark = pytest.mark.browser


@pytest.fixture
def context_options():
    return dict(HARNESS_CONTEXT)


@pytest.fixture
def demo(live_server, demo_app_config):
    return live_server(demo_app_config)


def jobs(server) -> list[SaveJob]:
    with server.app.app_context():
        return list(store.session().scalars(select(SaveJob).order_by(SaveJob.created_at)))


def work(server) -> list[str]:
    """Do what a worker does with every job that is due; return how each ended."""
    from workers import tasks

    outcomes = []
    for job in jobs(server):
        if job.status in ("queued", "waiting"):
            with server.app.app_context():
                outcomes.append(tasks.save.run(job.id))
    return outcomes


def card(pane: FrameLocator):
    return pane.locator("#save-card")


def test_save_a_known_senders_email_to_a_case_and_open_it_in_the_crm(demo, page):
    pane = open_harness(page, demo, "known-sender")
    save = card(pane)
    expect(save.get_by_role("heading", name="Save to Sandbox CRM")).to_be_visible()
    # The records of the contacts in the email come first (rule 13), then No record (checked).
    choices = save.locator(".save-form .choice")
    expect(choices.first).to_contain_text("Rossi Costruzioni")
    expect(save.get_by_label("No record: link it to the people in it")).to_be_checked()
    pane_screenshot(page, "save-card")
    case = save.locator(".choice", has_text="Gru bloccata in cantiere")
    case.locator("input").check()
    save.get_by_role("button", name="Save", exact=True).click()

    status = save.locator(".save-status")
    expect(status).to_have_attribute("data-status", "queued")
    expect(save.get_by_role("status")).to_contain_text("Queued")
    assert work(demo) == ["saved"]
    # The card polls by itself and shows the saved state with the link to the CRM activity.
    expect(status).to_have_attribute("data-status", "saved")
    expect(save.get_by_role("status")).to_have_text("Saved to Sandbox CRM.")
    expect(save).to_contain_text("Connected to Case Gru bloccata in cantiere")
    link = save.get_by_role("link", name="Open in Sandbox CRM")
    assert "/email/" in (link.get_attribute("href") or "")
    # Rule 18: the 14 MB drawing is over the limit and named; the quote (PDF) went with it.
    expect(save.locator("[data-skipped] li")).to_have_text(
        ["Planimetria-cantiere.dwg: over the 10 MB limit"]
    )
    pane_screenshot(page, "save-card-saved")

    # Opening the item again shows it saved, and saving never made a second job.
    select_sample(page, "unknown-signature")
    select_sample(page, "known-sender")
    expect(card(pane).locator(".save-status")).to_have_attribute("data-status", "saved")
    assert [j.status for j in jobs(demo)] == ["saved"]


def test_search_for_a_record_then_save_it_connected_to_the_result(demo, page):
    pane = open_harness(page, demo, "known-sender")
    save = card(pane)
    save.get_by_label("Find a record to connect it to").fill("Rosi Costruzion")  # typos
    save.get_by_role("button", name="Search").click()
    found = save.locator("#save-results .choice")
    expect(found.first).to_contain_text("Rossi Costruzioni")
    expect(found.first.locator("input")).to_be_checked()
    save.get_by_role("button", name="Save", exact=True).click()
    expect(save.locator(".save-status")).to_have_attribute("data-status", "queued")
    (job,) = jobs(demo)
    assert job.regarding_type == "account"
    assert job.regarding_name.startswith("Rossi Costruzioni")


def test_a_search_with_no_result_says_so(demo, page):
    pane = open_harness(page, demo, "known-sender")
    save = card(pane)
    save.get_by_label("Find a record to connect it to").fill("zzzzqqqq")
    save.get_by_role("button", name="Search").click()
    expect(save.locator("#save-results")).to_contain_text("Nothing found for “zzzzqqqq”.")


def test_a_shared_mailbox_item_cannot_be_saved_and_the_card_says_why(demo, page):
    pane = open_harness(page, demo, "shared-mailbox")
    save = card(pane)
    expect(save.locator("[data-refusal=shared_mailbox]")).to_contain_text(
        "Items in shared mailboxes cannot be saved"
    )
    expect(save.get_by_role("button", name="Save", exact=True)).to_have_count(0)


def test_a_draft_is_stored_by_outlook_first_and_waits_until_it_is_sent(demo, page):
    pane = open_harness(page, demo, "draft")
    save = card(pane)
    save.get_by_role("button", name="Save", exact=True).click()
    expect(save.locator(".save-status")).to_have_attribute("data-status", "queued")
    (job,) = jobs(demo)
    assert job.item_key.startswith("item:")  # the id Outlook gave the draft when it stored it
    assert work(demo) == ["waiting"]
    expect(save.locator(".save-status")).to_have_attribute("data-status", "waiting")
    expect(save.get_by_role("status")).to_have_text("This email will be saved once it is sent.")


def test_a_meeting_is_saved_at_once(demo, page):
    pane = open_harness(page, demo, "meeting")
    save = card(pane)
    save.get_by_role("button", name="Save", exact=True).click()
    expect(save.locator(".save-status")).to_have_attribute("data-status", "queued")
    assert work(demo) == ["saved"]
    expect(save.locator(".save-status")).to_have_attribute("data-status", "saved")
    (job,) = jobs(demo)
    assert job.kind == "meeting" and job.message_id


def test_a_failed_save_says_why_and_retry_saves_it(demo, page):
    pane = open_harness(page, demo, "known-sender")
    save = card(pane)
    save.get_by_role("button", name="Save", exact=True).click()
    expect(save.locator(".save-status")).to_have_attribute("data-status", "queued")
    (job,) = jobs(demo)
    with demo.app.app_context():  # the CRM session ended before the worker got to it
        row = store.session().get(SaveJob, job.id)
        row.status, row.error_code, row.error_message = "failed", "signed_out", "Sign in."
    select_sample(page, "unknown-signature")
    select_sample(page, "known-sender")
    expect(save.locator(".save-status")).to_have_attribute("data-status", "failed")
    expect(save.get_by_role("status")).to_have_text(
        "Your CRM session ended. Sign in again in the pane, then press Retry."
    )
    save.get_by_role("button", name="Retry").click()
    expect(save.locator(".save-status")).to_have_attribute("data-status", "queued")
    assert work(demo) == ["saved"]
    expect(save.locator(".save-status")).to_have_attribute("data-status", "saved")
