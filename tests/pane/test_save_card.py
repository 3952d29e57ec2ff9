"""The save card (rules 13-18) through Flask's client on the demo app.

The demo app saves to the sandbox CRM and reads items from the harness mailbox; its broker is
``memory://``, so a POST that queues a save sends a real (in-process) message and no worker
runs: the tests set a job's later states in the store, as a worker would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from addin import create_app, store
from addin.auth import DEMO_TENANT
from addin.errors import ApiError
from addin.identity import Identity
from addin.pane.item import parse_item
from addin.services import save_jobs, saving
from addin.store.models import MailboxCheck, SaveJob
from crm_adapters.models import Capabilities, Environment
from crm_adapters.sandbox import SandboxAdapter

from .conftest import admin_sets, message

ALEX = "demo-alex"


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def card_of(html: str) -> str:
    """The save card's section of the whole pane."""
    return html.split('id="save-card"', 1)[1].split("</section>", 1)[0]


def poll_url(html: str) -> str:
    found = re.search(r'data-poll="([^"]+)"', html)
    assert found, html
    return found.group(1)


def stored_jobs(demo_app) -> list[SaveJob]:
    with demo_app.extensions["store"]() as session:
        return list(session.scalars(select(SaveJob).order_by(SaveJob.created_at)))


def change_job(demo_app, job_id: str, **values: Any) -> None:
    """What a worker would have recorded."""
    with demo_app.extensions["store"]() as session:
        session.execute(update(SaveJob).where(SaveJob.id == job_id).values(**values))
        session.commit()


def email(report, **extra: Any) -> dict[str, Any]:
    """A received email from a known contact, as pane.js sends it (with its ids)."""
    values = {
        "internet_message_id": "<save-1@rossicostruzioni.it>",
        "item_id": "AAMkAGI2-save-1",
        "conversation_id": "AAQkAGI2-conversation-1",
        **extra,
    }
    return message((report.single_address, "Giulia Rossi"), "alex@contoso.example", **values)


def draft(report, **extra: Any) -> dict[str, Any]:
    """An email the rep is writing (compose mode: no internet message id)."""
    item = message(("alex@contoso.example", "Alex"), report.single_address, mode="compose", **extra)
    del item["internet_message_id"]
    return item


@pytest.fixture(scope="module")
def migrated_store(tmp_path_factory) -> Path:
    """The demo app's store, migrated once for the module (each test gets a copy)."""
    path = tmp_path_factory.mktemp("store") / "pane.db"
    store.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def demo_app(sandbox, tmp_path, migrated_store) -> Iterator[Flask]:
    """The demo app of ``conftest``, on a copy of a migrated store (migrating costs 0.3 s)."""
    target = tmp_path / "pane.db"
    with (
        closing(sqlite3.connect(migrated_store)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    app = create_app(
        {
            "TESTING": True,
            "DEMO": True,
            "BROKER_URL": "memory://",
            "DATABASE_URL": f"sqlite:///{target}",
            "SANDBOX_PATH": str(sandbox[0]),
        }
    )
    yield app
    app.extensions["store_engine"].dispose()


@pytest.fixture
def report(sandbox):
    return sandbox[1]


@pytest.fixture
def enqueued(monkeypatch) -> list[str]:
    """The job ids the pane sent to the workers (really sent, on the memory broker)."""
    import workers

    sent: list[str] = []
    original = workers.enqueue_save

    def record(job_id: str) -> bool:
        sent.append(job_id)
        return original(job_id)

    monkeypatch.setattr(workers, "enqueue_save", record)
    return sent


@pytest.fixture
def capabilities(monkeypatch):
    """Give the sandbox CRM other capabilities (as Dynamics or Salesforce have)."""

    def change(**values: Any) -> None:
        adjusted = dataclasses.replace(SandboxAdapter.capabilities, **values)
        monkeypatch.setattr(SandboxAdapter, "capabilities", adjusted)

    return change


def save(pane_post, report, regarding: tuple[str, str] | None = None, **extra: Any):
    fields = {}
    if regarding is not None:
        fields = {"regarding": regarding[0], f"name:{regarding[0]}": regarding[1]}
    return pane_post("/save", email(report, **extra), fields=fields)


# --- the card of an opened item -----------------------------------------------------------------


def test_an_opened_item_offers_its_contacts_accounts_and_cases_then_no_record(pane_post, report):
    html = text(pane_post("/view", email(report)))
    card = card_of(html)
    assert "Save to Sandbox CRM" in card
    account = f'value="account:{report.account_id}"'
    case = f'value="case:{report.open_case_id}"'
    assert account in card and case in card
    assert card.index(account) < card.index(case)  # the accounts, then their cases
    assert report.account_name in card
    assert f'name="name:account:{report.account_id}" value="{report.account_name}"' in card
    no_record = re.search(r'<input type="radio" name="regarding" value="" checked>([^<]*)<', card)
    assert no_record and "No record: link it to the people in it" in no_record.group(1)
    assert card.index(case) < card.index('value="" checked')  # suggestions come first
    assert 'data-post="/pane/save/search"' in card and 'data-post="/pane/save"' in card
    assert "data-poll" not in card


def test_an_item_of_unknown_people_offers_no_record_only(pane_post):
    html = text(pane_post("/view", message(("nobody@unknown.example", ""), item_id="AAMk-x")))
    card = card_of(html)
    assert card.count('name="regarding"') == 1 and 'value="" checked' in card


# --- saving -------------------------------------------------------------------------------------


def test_save_queues_one_job_and_answers_with_the_queued_card(
    demo_app, pane_post, report, enqueued
):
    regarding = (f"account:{report.account_id}", report.account_name)
    first = save(pane_post, report, regarding)

    assert first.status_code == 202
    html = text(first)
    [job] = stored_jobs(demo_app)
    assert 'data-status="queued"' in html and "Queued: it will be saved in a moment." in html
    assert poll_url(html) == f"/pane/saves/{job.id}"
    assert 'data-poll-every="1000"' in html
    assert f"Connected to Account {report.account_name}" in html
    assert enqueued == [job.id]
    assert (job.tenant_id, job.user_oid, job.environment_id, job.crm) == (
        DEMO_TENANT,
        ALEX,
        "contoso",
        "sandbox",
    )
    assert (job.kind, job.item_key, job.message_id, job.item_id) == (
        "email",
        "<save-1@rossicostruzioni.it>",
        "<save-1@rossicostruzioni.it>",
        "AAMkAGI2-save-1",
    )
    assert (job.regarding_type, job.regarding_id, job.regarding_name) == (
        "account",
        report.account_id,
        report.account_name,
    )
    assert (job.conversation_id, job.mailbox, job.status) == (
        "AAQkAGI2-conversation-1",
        "alex@contoso.example",
        "queued",
    )

    again = save(pane_post, report)
    assert again.status_code == 200
    assert poll_url(text(again)) == f"/pane/saves/{job.id}"
    assert [j.id for j in stored_jobs(demo_app)] == [job.id]
    assert enqueued == [job.id]  # not sent twice


def test_another_rep_saving_the_same_email_gets_the_same_job(demo_app, pane_post, report):
    first = save(pane_post, report)
    pane_post("/connect", None, rep="sam", fields={"crm": "sandbox", "environment_id": "contoso"})
    other = pane_post("/save", email(report), rep="sam")
    assert other.status_code == 200
    assert poll_url(text(other)) == poll_url(text(first))
    assert len(stored_jobs(demo_app)) == 1


def test_without_a_record_the_card_says_it_is_linked_to_the_people(demo_app, pane_post, report):
    html = text(save(pane_post, report))
    assert "Linked to the people in this item." in html
    [job] = stored_jobs(demo_app)
    assert (job.regarding_type, job.regarding_id, job.regarding_name) == (None, None, "")


def test_an_item_saved_before_shows_its_job_when_opened(demo_app, pane_post, report):
    job_url = poll_url(text(save(pane_post, report)))
    card = card_of(text(pane_post("/view", email(report))))
    assert poll_url(card) == job_url and 'data-status="queued"' in card
    assert 'data-post="/pane/save"' not in card  # no second Save button


def test_a_shared_mailbox_item_is_refused_with_the_reason(demo_app, pane_post, report, enqueued):
    item = email(report, shared={"owner": "support@contoso.example", "permissions": 3})
    refused = pane_post("/save", item)
    assert refused.status_code == 409
    html = text(refused)
    assert 'data-error="shared_mailbox"' in html
    assert "Items in shared mailboxes cannot be saved to the CRM." in html
    assert stored_jobs(demo_app) == [] and enqueued == []

    card = card_of(text(pane_post("/view", item)))
    assert 'data-refusal="shared_mailbox"' in card
    assert "Items in shared mailboxes cannot be saved to the CRM." in card
    assert 'data-post="/pane/save"' not in card


def test_a_draft_is_refused_where_the_crm_cannot_save_drafts(
    demo_app, pane_post, report, capabilities
):
    capabilities(save_drafts=False)
    writing = draft(report, item_id="AAMk-d1")
    refused = pane_post("/save", writing)
    assert refused.status_code == 409
    html = text(refused)
    assert 'data-error="drafts_not_saved"' in html
    assert "Sandbox CRM does not save emails while they are being written." in html
    assert stored_jobs(demo_app) == []
    card = card_of(text(pane_post("/view", writing)))
    assert 'data-refusal="drafts_not_saved"' in card


def test_a_draft_is_queued_where_the_crm_saves_drafts(demo_app, pane_post, report):
    saved = pane_post("/save", draft(report, item_id="AAMk-d1"))
    assert saved.status_code == 202
    [job] = stored_jobs(demo_app)
    assert (job.item_key, job.message_id, job.item_id) == ("item:AAMk-d1", None, "AAMk-d1")


def test_a_compose_item_not_stored_by_outlook_yet_cannot_be_saved(demo_app, pane_post, report):
    refused = pane_post("/save", draft(report))
    assert refused.status_code == 400
    assert 'data-error="no_item_id"' in text(refused)
    assert stored_jobs(demo_app) == []


def test_save_without_an_item_is_refused(pane_post):
    refused = pane_post("/save", None)
    assert refused.status_code == 400 and 'data-error="no_item"' in text(refused)


class SalesforceLike(SandboxAdapter):
    """A CRM that saves neither drafts nor meetings being set up (as Salesforce, rule 16)."""

    capabilities = Capabilities(save_drafts=False, save_compose_meetings=False)


def test_refuse_unsaveable_names_each_rule(demo_app, sandbox):
    adapter = SalesforceLike(sandbox[0])

    def refusal(item: dict[str, Any]) -> str:
        with demo_app.test_request_context():
            try:
                saving.refuse_unsaveable(parse_item(item), adapter, "Salesforce")
            except ApiError as error:
                assert error.status == 409
                return f"{error.code}: {error.message}"
        return ""

    meeting = {"type": "appointment", "mode": "compose", "item_id": "AAMk-e1"}
    assert refusal(meeting).startswith(
        "compose_meetings_not_saved: Salesforce does not save meetings while they are being set up."
    )
    assert refusal({**meeting, "mode": "read"}) == ""
    assert refusal({"type": "message", "mode": "compose"}).startswith("drafts_not_saved: ")
    assert refusal({"type": "message", "mode": "read"}) == ""
    shared = {"type": "message", "mode": "read", "shared": {"owner": "support@x.example"}}
    assert refusal(shared).startswith("shared_mailbox: ")
    adapter.close()


# --- server-side sync (rule 15) -----------------------------------------------------------------


def store_mailbox_check(demo_app, *, server_side_sync: bool | None, age: dt.timedelta) -> None:
    with demo_app.extensions["store"]() as session:
        session.add(
            MailboxCheck(
                tenant_id=DEMO_TENANT,
                user_oid=ALEX,
                environment_id="contoso",
                server_side_sync=server_side_sync,
                track_replies=True,
                problem="" if server_side_sync is not False else "server-side sync is off",
                checked_at=dt.datetime.now(dt.UTC) - age,
            )
        )
        session.commit()


def test_server_side_sync_off_is_said_on_the_card_and_refuses_the_save(
    demo_app, pane_post, report, capabilities
):
    capabilities(needs_server_side_sync=True)
    store_mailbox_check(demo_app, server_side_sync=False, age=dt.timedelta(minutes=1))

    card = card_of(text(pane_post("/view", email(report))))
    assert 'data-refusal="server_side_sync_off"' in card
    assert "Server-side synchronization is off for your mailbox" in card
    assert 'data-post="/pane/save"' not in card

    refused = save(pane_post, report)
    assert refused.status_code == 409
    assert 'data-error="server_side_sync_off"' in text(refused)
    assert stored_jobs(demo_app) == []


def test_a_stale_server_side_sync_answer_is_asked_again_before_saving(
    demo_app, pane_post, report, capabilities
):
    capabilities(needs_server_side_sync=True)
    store_mailbox_check(demo_app, server_side_sync=False, age=dt.timedelta(days=1))
    # The stored answer is all the opened item looks at (no CRM round trip for it) ...
    assert 'data-refusal="server_side_sync_off"' in card_of(text(pane_post("/view", email(report))))
    # ... but saving asks the CRM again, which now has no objection.
    assert save(pane_post, report).status_code == 202
    with demo_app.extensions["store"]() as session:
        check = session.scalars(select(MailboxCheck)).one()
        assert check.server_side_sync is None
    assert "data-refusal" not in card_of(text(pane_post("/view", email(report))))


def test_a_crm_without_server_side_sync_ignores_the_stored_answer(demo_app, pane_post, report):
    store_mailbox_check(demo_app, server_side_sync=False, age=dt.timedelta(minutes=1))
    assert "data-refusal" not in card_of(text(pane_post("/view", email(report))))
    assert save(pane_post, report).status_code == 202


# --- the job's progress -------------------------------------------------------------------------


def test_the_card_follows_the_job_until_it_is_saved(demo_app, pane_post, report):
    url = poll_url(text(save(pane_post, report)))
    job_id = url.rsplit("/", 1)[1]

    change_job(demo_app, job_id, status="saving")
    saving_now = text(pane_post(f"/saves/{job_id}"))
    assert "Saving…" in saving_now and poll_url(saving_now) == url

    change_job(demo_app, job_id, status="waiting")
    waiting = text(pane_post(f"/saves/{job_id}"))
    assert "This email will be saved once it is sent." in waiting
    assert 'data-poll-every="15000"' in waiting

    change_job(demo_app, job_id, status="queued", error_code="rate_limited")
    busy = text(pane_post(f"/saves/{job_id}"))
    assert "The CRM is busy, so Sidepane will try again by itself." in busy

    activity_url = "http://127.0.0.1:8000/sandbox/contoso/email/act-1"
    skipped = [
        {"name": "big.pdf", "reason": "size"},
        {"name": "setup.exe", "reason": "type"},
        {"name": "Fwd: order", "reason": "item"},
    ]
    change_job(
        demo_app,
        job_id,
        status="saved",
        activity_id="act-1",
        activity_url=activity_url,
        activity_created=True,
        skipped=json.dumps(skipped),
        saved_at=dt.datetime.now(dt.UTC),
    )
    saved = pane_post(f"/saves/{job_id}")
    assert saved.status_code == 200
    html = text(saved)
    assert 'data-status="saved"' in html and "Saved to Sandbox CRM." in html
    assert re.search(rf'<a href="{re.escape(activity_url)}"[^>]*>Open in Sandbox CRM', html)
    assert "data-poll" not in html
    skipped_list = html.split("data-skipped", 1)[1]
    assert "<strong>big.pdf</strong>: over the 10 MB limit" in skipped_list
    assert "<strong>setup.exe</strong>: files of this type are not saved" in skipped_list
    assert "<strong>Fwd: order</strong>: attached Outlook items are not saved" in skipped_list
    # And when the item is opened again, it shows as saved, with no CRM round trip for it.
    card = card_of(text(pane_post("/view", email(report))))
    assert "Saved to Sandbox CRM." in card and "big.pdf" in card


def test_a_saved_job_without_skipped_files_lists_none(demo_app, pane_post, report):
    job_id = poll_url(text(save(pane_post, report))).rsplit("/", 1)[1]
    change_job(demo_app, job_id, status="saved", activity_url="http://crm.test/email/1")
    html = text(pane_post(f"/saves/{job_id}"))
    assert "Saved to Sandbox CRM." in html and "data-skipped" not in html


def test_the_size_limit_in_the_skipped_reason_is_the_organisations(demo_app, pane_post, report):
    admin_sets(demo_app, attachment_max_bytes=3 * 1024 * 1024)
    job_id = poll_url(text(save(pane_post, report))).rsplit("/", 1)[1]
    change_job(
        demo_app, job_id, status="saved", skipped=json.dumps([{"name": "a.pdf", "reason": "size"}])
    )
    assert "<strong>a.pdf</strong>: over the 3 MB limit" in text(pane_post(f"/saves/{job_id}"))


@pytest.mark.parametrize(
    ("code", "message", "shown"),
    [
        ("rejected", "no such case", "The CRM refused to save this item: no such case"),
        ("signed_out", "token expired", "Your CRM session ended. Sign in again in the pane"),
        ("not_found", "gone", "This item is no longer in your mailbox"),
        ("never_sent", "x", "This draft was never sent, so it was not saved."),
        (
            "gave_up",
            "503 Busy",
            "Saving did not succeed after several tries (503 Busy). Press Retry.",
        ),
    ],
)
def test_a_failed_save_says_why_and_offers_retry(
    demo_app, pane_post, report, enqueued, code, message, shown
):
    job_id = poll_url(text(save(pane_post, report))).rsplit("/", 1)[1]
    change_job(
        demo_app, job_id, status="failed", attempts=10, error_code=code, error_message=message
    )
    failed = text(pane_post(f"/saves/{job_id}"))
    assert 'data-status="failed"' in failed and shown in failed
    assert f'data-post="/pane/saves/{job_id}/retry"' in failed and ">Retry<" in failed
    assert "data-poll" not in failed

    retried = pane_post(f"/saves/{job_id}/retry")
    assert retried.status_code == 200
    html = text(retried)
    assert 'data-status="queued"' in html and poll_url(html) == f"/pane/saves/{job_id}"
    [job] = stored_jobs(demo_app)
    assert (job.status, job.attempts, job.error_code, job.error_message) == ("queued", 0, "", "")
    assert enqueued == [job_id, job_id]


def test_retry_leaves_a_save_that_did_not_fail_alone(demo_app, pane_post, report, enqueued):
    job_id = poll_url(text(save(pane_post, report))).rsplit("/", 1)[1]
    change_job(demo_app, job_id, status="saved", activity_url="http://crm.test/email/1")
    html = text(pane_post(f"/saves/{job_id}/retry"))
    assert "Saved to Sandbox CRM." in html
    [job] = stored_jobs(demo_app)
    assert job.status == "saved" and enqueued == [job_id]


def test_a_merged_job_shows_the_job_it_was_merged_into(demo_app, pane_post, report):
    job_id = poll_url(text(save(pane_post, report))).rsplit("/", 1)[1]
    draft_id = poll_url(text(pane_post("/save", draft(report, item_id="AAMk-d1"))))
    draft_id = draft_id.rsplit("/", 1)[1]
    change_job(demo_app, draft_id, status="merged", merged_into=job_id)
    change_job(demo_app, job_id, status="saved", activity_url="http://crm.test/email/1")
    html = text(pane_post(f"/saves/{draft_id}"))
    assert "Saved to Sandbox CRM." in html


# --- whose jobs ---------------------------------------------------------------------------------


def rep(tenant_id: str, user_oid: str) -> Identity:
    return Identity(tenant_id, user_oid, "rep@contoso.example", "Rep", frozenset(), frozenset())


def test_a_job_of_another_organisation_or_environment_is_not_shown(demo_app, pane_post):
    environment = Environment("contoso", "Contoso", "production", "http://x", "sandbox")
    with demo_app.extensions["store"]() as session:
        foreign, _ = save_jobs.create_job(
            session,
            identity=rep("other-tenant", "rep-9"),
            environment=environment,
            kind="email",
            item_key="<foreign@x>",
            item_id="AAMk-f",
            message_id="<foreign@x>",
        )
        ours_elsewhere, _ = save_jobs.create_job(
            session,
            identity=rep(DEMO_TENANT, ALEX),
            environment=dataclasses.replace(environment, id="contoso-test"),
            kind="email",
            item_key="<test-env@x>",
            item_id="AAMk-t",
            message_id="<test-env@x>",
        )
        foreign_id, elsewhere_id = foreign.id, ours_elsewhere.id
    for path in (f"/saves/{foreign_id}", f"/saves/{foreign_id}/retry", f"/saves/{elsewhere_id}"):
        refused = pane_post(path)
        assert refused.status_code == 404, path
        assert 'data-error="no_such_save"' in text(refused)
    # Kim works in Contoso Test: the same job is hers to see (her organisation, her environment).
    assert pane_post(f"/saves/{elsewhere_id}", rep="kim").status_code == 200


@pytest.mark.parametrize("job_id", ["not-a-job", "0" * 36, "x" * 37, "%27%20OR%201%3D1"])
def test_an_unknown_or_malformed_job_id_is_404(pane_post, job_id):
    refused = pane_post(f"/saves/{job_id}")
    assert refused.status_code == 404
    assert 'data-error="no_such_save"' in text(refused)


# --- connecting to a record ---------------------------------------------------------------------


def test_search_offers_records_as_choices(pane_post, report):
    found = pane_post("/save/search", None, fields={"text": report.account_name})
    assert found.status_code == 200
    html = text(found)
    choices = re.findall(r'<input type="radio" name="regarding" value="([^"]+)"', html)
    assert f"account:{report.account_id}" in choices
    assert len(choices) <= 8
    assert all(c.split(":", 1)[0] in ("account", "case", "opportunity", "contact") for c in choices)
    assert html.count(" checked data-autofocus") == 1  # the best match is chosen
    assert f'name="name:account:{report.account_id}" value="{report.account_name}"' in html


def test_search_is_limited_to_the_admins_record_types(demo_app, pane_post, report):
    admin_sets(demo_app, search_record_types=["case"])
    html = text(pane_post("/save/search", None, fields={"text": report.account_name}))
    choices = re.findall(r'name="regarding" value="([^":]+):', html)
    assert set(choices) <= {"case"}
    assert f"account:{report.account_id}" not in html


def test_a_search_that_finds_nothing_says_so(pane_post):
    html = text(pane_post("/save/search", None, fields={"text": "qxzqxzqxzqxz"}))
    assert "Nothing found for “qxzqxzqxzqxz”." in html
    assert 'name="regarding"' not in html


def test_a_search_needs_text(pane_post):
    refused = pane_post("/save/search", None, fields={"text": "  "})
    assert refused.status_code == 400 and 'data-error="missing_field"' in text(refused)


@pytest.mark.parametrize(
    "choice",
    ["invoice:123", "account:", ":123", "account:" + "x" * 201, "account:" + "x" * 300],
)
def test_a_bad_record_choice_is_refused(demo_app, pane_post, report, choice):
    refused = save(pane_post, report, (choice, "Name"))
    assert refused.status_code == 400
    assert 'data-error="bad_field"' in text(refused)
    assert stored_jobs(demo_app) == []


def test_a_record_id_of_200_characters_is_accepted(demo_app, pane_post, report):
    assert save(pane_post, report, ("case:" + "x" * 200, "A case")).status_code == 202
    [job] = stored_jobs(demo_app)
    assert (job.regarding_type, job.regarding_id) == ("case", "x" * 200)
