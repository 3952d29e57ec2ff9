"""Shared by the saving tests: the local store, a rep, an environment, and the rep's mailbox.

The mailbox is a small in-memory stand-in for Microsoft Graph (an external system): it keeps the
`addin.mailbox.Mailbox` contract (errors are the adapters' own, the policy is asked before an
attachment is "downloaded", ``requests`` counts calls). The CRM is the real sandbox adapter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from addin import store
from addin.identity import Identity
from addin.mailbox import AttachmentPolicy, MailAttachment, MailEvent, MailMessage, take_all
from addin.services import save_jobs
from addin.store.models import SaveJob
from crm_adapters.errors import NotFound
from crm_adapters.models import Environment, Party, RecordRef
from crm_adapters.sandbox import SandboxAdapter

TENANT = "tenant-1"
REP = Identity(
    tenant_id=TENANT,
    user_oid="rep-1",
    email="alex@contoso.example",
    name="Alex",
    roles=frozenset(),
    scopes=frozenset(),
)
OTHER_REP = dataclasses.replace(REP, user_oid="rep-2", email="sam@contoso.example", name="Sam")
ENVIRONMENT = Environment(
    "contoso",
    "Contoso",
    "production",
    "http://crm.test/sandbox/contoso",
    "sandbox",
    api_url="http://crm.test/sandbox/contoso",
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime | None) -> dt.datetime:
    """The store's times as aware UTC datetimes (SQLite hands them back naive)."""
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def seconds_from_now(moment: dt.datetime | None) -> float:
    return (aware(moment) - utcnow()).total_seconds()


# --- the store ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store migrated once per test process, copied by each test that uses it."""
    path = tmp_path_factory.mktemp("store") / "migrated.db"
    store.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """An empty, migrated SQLite store (tests that need not run on PostgreSQL too)."""
    target = tmp_path / "saving.db"
    with (
        closing(sqlite3.connect(migrated_sqlite)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    return f"sqlite:///{target}"


def _engine(url: str) -> Iterator[Engine]:
    engine = store.make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test's store, made as the app makes them (``expire_on_commit=False``).

    The store is ``database_url`` (SQLite and PostgreSQL) when the test asks for it, else
    ``sqlite_url``.
    """
    name = "database_url" if "database_url" in request.fixturenames else "sqlite_url"
    url: str = request.getfixturevalue(name)
    for engine in _engine(url):
        yield sessionmaker(bind=engine, expire_on_commit=False)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as opened:
        yield opened


def make_job(
    session: Session,
    *,
    key: str,
    message_id: str | None = None,
    kind: str = "email",
    item_id: str = "",
    identity: Identity = REP,
    environment: Environment = ENVIRONMENT,
    conversation_id: str = "",
    regarding: RecordRef | None = None,
) -> SaveJob:
    job, created = save_jobs.create_job(
        session,
        identity=identity,
        environment=environment,
        kind=kind,
        item_key=key,
        item_id=item_id or key,
        message_id=message_id,
        conversation_id=conversation_id,
        regarding=regarding,
    )
    assert created
    return job


def set_job(session: Session, job: SaveJob, **values: Any) -> None:
    """Change a job's row directly (time passing, a state another process left behind)."""
    session.execute(update(SaveJob).where(SaveJob.id == job.id).values(**values))
    session.commit()
    session.refresh(job)


def count_jobs(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(SaveJob)) or 0)


# --- the CRM ------------------------------------------------------------------------------------


class Adapters:
    """Opens a new sandbox adapter per save (the worker closes it), and keeps them to count."""

    def __init__(self, path: Path, adapter_class: type[SandboxAdapter] = SandboxAdapter) -> None:
        self.path = path
        self.adapter_class = adapter_class
        self.opened: list[SandboxAdapter] = []

    def __call__(self, job: SaveJob) -> SandboxAdapter:
        adapter = self.adapter_class(
            self.path, base_url="http://crm.test", environment_id=job.environment_id
        )
        self.opened.append(adapter)
        return adapter


def crm_rows(path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Read the sandbox CRM's file directly: what was really written."""
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql, args).fetchall()


# --- the mailbox --------------------------------------------------------------------------------


class FakeMailbox:
    """The rep's mailbox, in memory: messages and events by item id, sent copies by message id."""

    def __init__(self) -> None:
        self.requests = 0
        self.messages: dict[str, MailMessage] = {}
        self.events: dict[str, MailEvent] = {}
        self.sent: dict[str, str] = {}  # internet message id -> item id of the sent copy
        #: Raised by the next call (then forgotten), to play a Graph fault.
        self.fault: BaseException | None = None
        #: Called on each ``message`` call, before it answers (to act "while the worker works").
        self.during: Callable[[], None] | None = None
        self.policies: list[AttachmentPolicy] = []
        self.conversation_calls: list[tuple[tuple[str, ...], dt.datetime]] = []
        self.downloaded: list[str] = []
        self.closed = False

    def _call(self) -> None:
        self.requests += 1
        if self.during is not None:
            self.during()
        if self.fault is not None:
            fault, self.fault = self.fault, None
            raise fault

    def add(self, message: MailMessage) -> MailMessage:
        self.messages[message.item_id] = message
        return message

    def send(self, draft_id: str, sent_id: str, **changes: Any) -> MailMessage:
        """The rep sends a draft, as Graph does: the draft leaves Drafts and Sent Items holds
        a copy under a new id, with the draft's internet message id."""
        draft = self.messages.pop(draft_id)
        now = changes.pop("when", None) or utcnow()
        sent = dataclasses.replace(
            draft, item_id=sent_id, is_draft=False, sent_at=now, received_at=now, **changes
        )
        self.messages[sent_id] = sent
        self.sent[sent.internet_message_id] = sent_id
        return sent

    def message(self, item_id: str, policy: AttachmentPolicy = take_all) -> MailMessage:
        self._call()
        self.policies.append(policy)
        found = self.messages.get(item_id)
        if found is None:
            raise NotFound("The item is not in the mailbox.")
        attachments = []
        for attachment in found.attachments:
            if attachment.kind != "file":
                attachments.append(dataclasses.replace(attachment, content=None, skipped="item"))
                continue
            reason = policy(attachment.name, attachment.content_type, attachment.size)
            if reason is not None:
                attachments.append(dataclasses.replace(attachment, content=None, skipped=reason))
            else:
                self.downloaded.append(attachment.name)
                attachments.append(attachment)
        return dataclasses.replace(found, attachments=tuple(attachments))

    def event(self, item_id: str) -> MailEvent:
        self._call()
        found = self.events.get(item_id)
        if found is None:
            raise NotFound("The event is not in the calendar.")
        return found

    def find_sent(self, internet_message_id: str) -> MailMessage | None:
        self._call()
        item_id = self.sent.get(internet_message_id)
        if item_id is None:
            return None
        return dataclasses.replace(self.messages[item_id], attachments=())

    def conversation_messages(
        self, conversation_ids: Sequence[str], since: dt.datetime
    ) -> list[MailMessage]:
        self._call()
        self.conversation_calls.append((tuple(conversation_ids), since))
        found = [
            dataclasses.replace(m, attachments=(), body_html="")
            for m in self.messages.values()
            if m.conversation_id in conversation_ids and _when(m) > since
        ]
        return sorted(found, key=_when, reverse=True)

    def close(self) -> None:
        self.closed = True


def _when(message: MailMessage) -> dt.datetime:
    """When a message arrived or left; a draft is as new as can be (it is being written)."""
    return message.received_at or message.sent_at or utcnow()


def mail(
    item_id: str,
    message_id: str,
    sender: str,
    *to: str,
    subject: str = "Delivery dates",
    conversation_id: str = "conv-1",
    when: dt.datetime | None = None,
    draft: bool = False,
    attachments: Sequence[MailAttachment] = (),
    cc: Sequence[str] = (),
) -> MailMessage:
    moment = None if draft else (when or utcnow() - dt.timedelta(minutes=5))
    return MailMessage(
        item_id=item_id,
        internet_message_id=message_id,
        conversation_id=conversation_id,
        subject=subject,
        sender=Party(sender, ""),
        to=tuple(Party(a) for a in to),
        cc=tuple(Party(a) for a in cc),
        sent_at=moment,
        received_at=moment,
        is_draft=draft,
        body_html="<p>Can we move the delivery to Friday?</p>",
        attachments=tuple(attachments),
    )


def file(name: str, content_type: str, size: int = 0, **options: Any) -> MailAttachment:
    """A file attachment of ``size`` bytes (its name's bytes when no size is given)."""
    content = b"x" * size if size else name.encode()
    return MailAttachment(name, content_type, len(content), content=content, **options)


@pytest.fixture
def mailbox() -> FakeMailbox:
    return FakeMailbox()
