"""A harness-like mailbox for the saving benchmark: any number of distinct emails, no network.

The dev harness's mailbox (`addin.mailbox.harness`) serves its dozen fixed samples, so two
hundred saves of it would be the same few emails merged into each other. This one answers for
any item id it made (``bench-<run>-<n>``): an incoming email whose people come from the seeded
sandbox (a known contact as sender, the rep and a stranger as recipients), one request per read,
like the harness. `people` gives the same people to the Graph emulator's messages, so the CRM
has the same work to do whichever mailbox the item came from.

A worker picks it up with ``--include bench.saving_worker``, which calls `install`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from flask import Flask, current_app

from addin.mailbox import AttachmentPolicy, Mailbox, MailEvent, MailMessage, take_all
from addin.store.models import SaveJob
from crm_adapters.errors import NotFound
from crm_adapters.models import Party
from crm_adapters.sandbox import SeedReport, load_seed_report

PREFIX = "bench-"
REP_ADDRESS = "alex@contoso.example"
REP_NAME = "Alex Morgan"


def item_id(run: str, index: int) -> str:
    return f"{PREFIX}{run}-{index}"


def message_id_of(item: str) -> str:
    """The internet message id of a bench item (what the pane sends, and the job's key)."""
    return f"<{item}@partner.example>"


def people(report: SeedReport, index: int) -> tuple[Party, tuple[Party, ...], tuple[Party, ...]]:
    """Sender, to and cc of the ``index``-th email: a known contact writes to the rep."""
    known = (
        report.single_address,
        report.shared_address,
        report.second_field_address,
        report.third_field_address,
    )
    sender = Party(known[index % len(known)], "")
    to = (Party(REP_ADDRESS, REP_NAME),)
    cc = (Party(f"someone{index % 7}@partner{index % 3}.example", ""),)
    return sender, to, cc


@functools.lru_cache(maxsize=4)
def _report(path: str) -> SeedReport | None:
    return load_seed_report(path)


class BenchMailbox:
    """The rep's mailbox, holding every bench item (see the module docstring)."""

    def __init__(self, report: SeedReport | None) -> None:
        self.requests = 0
        self._report = report

    @classmethod
    def from_app(cls, app: Flask) -> BenchMailbox:
        return cls(_report(str(app.config["SANDBOX_PATH"])))

    def message(self, item_id: str, policy: AttachmentPolicy = take_all) -> MailMessage:
        self.requests += 1
        if self._report is None or not item_id.startswith(PREFIX):
            raise NotFound("This item is not in the bench mailbox.")
        index = int(item_id.rsplit("-", 1)[1])
        sender, to, cc = people(self._report, index)
        when = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return MailMessage(
            item_id=item_id,
            internet_message_id=message_id_of(item_id),
            conversation_id=f"conversation-{item_id}",
            subject=f"Order {index}: delivery dates",
            sender=sender,
            to=to,
            cc=cc,
            sent_at=when,
            received_at=when,
            body_html=f"<p>Hello, about order {index}: can we move the delivery?</p>",
        )

    def event(self, item_id: str) -> MailEvent:
        self.requests += 1
        raise NotFound("The bench mailbox holds emails only.")

    def find_sent(self, internet_message_id: str) -> MailMessage | None:
        self.requests += 1
        return None

    def conversation_messages(
        self, conversation_ids: Sequence[str], since: dt.datetime
    ) -> list[MailMessage]:
        self.requests += 1
        return []

    def close(self) -> None:
        pass


def open_bench_mailbox(job: SaveJob) -> Mailbox:
    """What `workers.tasks.open_rep_mailbox` does, with the bench mailbox."""
    return BenchMailbox.from_app(current_app._get_current_object())  # type: ignore[attr-defined]


def install() -> None:
    """Make this process's save task read items from the bench mailbox."""
    from workers import tasks

    tasks.open_rep_mailbox = open_bench_mailbox
