"""The demo's mailbox: the dev harness's sample items, as a worker would read them from Graph.

Demo mode only (configuration refuses it otherwise). Items are found by the REST id the pane
sends (``convertToRestId`` of the sample's EWS id, as the Office.js stand-in converts it). A
draft is never sent in the harness, so its save waits, as a real one does until it is sent.
A few samples carry attachments that show the attachment policy (rule 18) at work: a report and
a photo that are saved, a program and an oversized drawing that are not.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from flask import Flask

from crm_adapters.errors import NotFound
from crm_adapters.models import Party
from crm_adapters.sandbox import load_seed_report

from ..auth import DEMO_DOMAIN
from ..harness.samples import Sample, build_samples, draft_message_id, rest_id
from . import AttachmentPolicy, MailAttachment, MailEvent, MailMessage, take_all

#: Sample key -> (name, content type, size in bytes) of its attachments.
ATTACHMENTS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "known-sender": (
        ("Preventivo-manutenzione-gru.pdf", "application/pdf", 48_213),
        ("Planimetria-cantiere.dwg", "application/acad", 14_680_064),
    ),
    "sent": (
        ("Rapporto-intervento.pdf", "application/pdf", 96_406),
        ("foto-gru.jpg", "image/jpeg", 212_993),
        ("diagnostica-gru.exe", "application/x-msdownload", 1_048_576),
    ),
}


def _attachments(key: str, policy: AttachmentPolicy) -> tuple[MailAttachment, ...]:
    found = []
    for name, content_type, size in ATTACHMENTS.get(key, ()):
        reason = policy(name, content_type, size)
        # Deterministic filler of the stated size, made only for files the policy takes.
        content = None if reason else (name.encode() * (size // len(name) + 1))[:size]
        found.append(MailAttachment(name, content_type, size, content=content, skipped=reason))
    return tuple(found)


class HarnessMailbox:
    requests = 0

    def __init__(self, samples: Sequence[Sample]) -> None:
        self._by_id = {rest_id(s.saved_item_id): s for s in samples}

    @classmethod
    def from_app(cls, app: Flask) -> HarnessMailbox:
        report = load_seed_report(app.config["SANDBOX_PATH"])
        if report is None:
            return cls(())
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        return cls(
            build_samples(
                report, rep_address=f"alex@{DEMO_DOMAIN}", rep_name="Alex Morgan", now=now
            )
        )

    def _sample(self, item_id: str) -> Sample:
        self.requests += 1
        sample = self._by_id.get(item_id)
        if sample is None:
            raise NotFound("This item is not in the demo mailbox.")
        return sample

    def message(self, item_id: str, policy: AttachmentPolicy = take_all) -> MailMessage:
        sample = self._sample(item_id)
        item = sample.item
        if item["itemType"] != "message":
            raise NotFound("This item is a meeting, not an email.")
        draft = item["mode"] == "compose"
        when = _time(item.get("dateTimeCreated"))
        return MailMessage(
            item_id=item_id,
            internet_message_id=item.get("internetMessageId") or draft_message_id(item_id),
            conversation_id=item.get("conversationId", ""),
            subject=item["subject"],
            sender=_party(item.get("from")),
            to=tuple(_party(p) for p in item.get("to", [])),  # type: ignore[misc]
            cc=tuple(_party(p) for p in item.get("cc", [])),  # type: ignore[misc]
            bcc=tuple(_party(p) for p in item.get("bcc", [])),  # type: ignore[misc]
            sent_at=None if draft else when,
            received_at=None if draft else when,
            is_draft=draft,
            body_html=f"<pre>{html.escape(item.get('body', ''))}</pre>",
            attachments=_attachments(sample.key, policy),
        )

    def event(self, item_id: str) -> MailEvent:
        item = self._sample(item_id).item
        if item["itemType"] != "appointment":
            raise NotFound("This item is an email, not a meeting.")
        return MailEvent(
            item_id=item_id,
            ical_uid=f"sidepane-harness-{item_id}",
            subject=item["subject"],
            organizer=_party(item.get("organizer")),
            start=_time(item["start"]) or dt.datetime.now(dt.UTC),
            end=_time(item["end"]) or dt.datetime.now(dt.UTC),
            required=tuple(_party(p) for p in item.get("requiredAttendees", [])),  # type: ignore[misc]
            optional=tuple(_party(p) for p in item.get("optionalAttendees", [])),  # type: ignore[misc]
            location=item.get("location", ""),
            body_html=f"<pre>{html.escape(item.get('body', ''))}</pre>",
        )

    def find_sent(self, internet_message_id: str) -> MailMessage | None:
        self.requests += 1
        return None  # nobody sends the harness's draft

    def conversation_messages(
        self, conversation_ids: Sequence[str], since: dt.datetime
    ) -> list[MailMessage]:
        self.requests += 1
        return []  # the harness's mailbox receives nothing new

    def close(self) -> None:
        pass


def _party(person: dict[str, str] | None) -> Party | None:
    if not person:
        return None
    return Party(person["emailAddress"], person.get("displayName", ""))


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
