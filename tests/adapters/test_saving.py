"""Conformance: saving emails and meetings, idempotently (rules 13-14), and error mapping."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from crm_adapters import CrmError, NotFound, Unavailable
from crm_adapters.models import (
    AttachmentFile,
    EmailActivity,
    MeetingActivity,
    Party,
    RecordRef,
    RecordType,
)


def email(known, **changes) -> EmailActivity:
    values = dict(
        message_id=f"<{uuid.uuid4()}@mail.example>",
        subject="Re: delivery dates",
        sender=Party(known.single_address, "Known Sender"),
        sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        to=(Party("rep@contoso.example", "Rep"),),
        cc=(Party(known.shared_address),),
        body_html="<p>Can we move the delivery to Friday?</p>",
        regarding=RecordRef(RecordType.ACCOUNT, known.regarding_account_id, ""),
        attachments=(AttachmentFile("plan.pdf", "application/pdf", b"%PDF-1.4 test"),),
    )
    values.update(changes)
    return EmailActivity(**values)


def test_save_email_then_find_it(adapter, known):
    activity = email(known)
    saved = adapter.save_email(activity)
    assert saved.created is True
    assert saved.ref.type == RecordType.EMAIL
    assert saved.ref.url.startswith(("http://", "https://"))
    assert adapter.find_saved(activity.message_id) == saved.ref


def test_saving_twice_makes_one_activity(adapter, known):
    activity = email(known)
    first = adapter.save_email(activity)
    again = adapter.save_email(activity)
    assert again.created is False
    assert again.ref.id == first.ref.id


def test_saved_email_shows_in_the_senders_related_items(adapter, known):
    activity = email(known, subject=f"Unique subject {uuid.uuid4()}")
    adapter.save_email(activity)
    related = adapter.related_activities(known.single_contact_id, limit=10)
    assert activity.subject in [e.subject for e in related.emails]


def test_email_without_a_regarding_record(adapter, known):
    saved = adapter.save_email(email(known, regarding=None))
    assert saved.created


def test_save_meeting_idempotently(adapter, known):
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    meeting = MeetingActivity(
        message_id=f"{uuid.uuid4()}",
        subject="Quarterly review",
        organizer=Party("rep@contoso.example", "Rep"),
        start=start,
        end=start + dt.timedelta(hours=1),
        attendees=(Party(known.single_address), Party(known.second_field_address)),
        location="Teams",
        regarding=RecordRef(RecordType.ACCOUNT, known.regarding_account_id, ""),
    )
    first = adapter.save_meeting(meeting)
    assert first.created and first.ref.type == RecordType.MEETING
    assert adapter.save_meeting(meeting) == type(first)(first.ref, False, first.skipped_attachments)
    upcoming = adapter.related_activities(known.single_contact_id, limit=10).meetings
    assert meeting.subject in [m.subject for m in upcoming] or len(upcoming) == 10


def test_unknown_regarding_record_is_not_found(adapter, known):
    ghost = RecordRef(RecordType.ACCOUNT, "no-such-account", "")
    with pytest.raises(NotFound):
        adapter.save_email(email(known, regarding=ghost))


def test_nothing_saved_is_none(adapter):
    assert adapter.find_saved("<never-saved@mail.example>") is None


def test_a_crm_that_is_down_raises_unavailable(down, known):
    with pytest.raises(Unavailable) as raised:
        down.match_contacts([known.single_address])
    assert raised.value.retryable
    assert str(raised.value)


def test_every_failure_is_a_crm_error(down, known):
    calls = [
        lambda: down.get_accounts([known.account_contact_id]),
        lambda: down.related_activities(known.related_contact_id),
        lambda: down.search_records("x", [RecordType.ACCOUNT]),
        lambda: down.save_email(email(known)),
        lambda: down.find_saved("<x@y>"),
    ]
    for call in calls:
        with pytest.raises(CrmError):
            call()
