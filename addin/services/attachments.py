"""The organisation's attachment policy (rule 18): what goes to the CRM with a saved email.

A file is saved when it is within the size limit, its name's extension is allowed **and** its
content type is allowed. Both checks, because either alone is easy to fool: ``invoice.pdf.exe``
sent as ``application/pdf`` fails the extension check, ``photo.png`` sent as
``application/x-msdownload`` fails the type check. The mailbox asks the policy before it
downloads anything, so a file over the limit never leaves the mailbox.

The policy answers with a reason *code* (``SIZE``, ``TYPE``), stored with the job; the save card
turns it into words in the rep's language (`describe`), since the worker that applies the
policy has no rep's language.

The policy is the tenant's (`from_settings`): the worker reads the settings of the job's tenant.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from . import tenant_settings
from .tenant_settings import Settings

#: Why a file was left out.
SIZE = "size"
TYPE = "type"
ITEM = "item"  # an attached email or event: not a file to save
LINK = "link"  # a link to a file in the cloud (OneDrive, SharePoint): nothing to save


def megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"


def describe(reason: str, max_bytes: int) -> str:
    """Say in the rep's language why a file was left out."""
    if reason == SIZE:
        return str(_("over the %(limit)s limit", limit=megabytes(max_bytes)))
    if reason == ITEM:
        return str(_("attached Outlook items are not saved"))
    if reason == LINK:
        return str(_("links to cloud files are not saved"))
    return str(_("files of this type are not saved"))


@dataclass(frozen=True, slots=True)
class AttachmentPolicy:
    max_bytes: int
    extensions: frozenset[str]
    mime_types: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> AttachmentPolicy:
        """The policy an organisation's admin set (rule 21)."""
        return cls.of(
            settings.attachment_max_bytes,
            settings.attachment_extensions,
            settings.attachment_mime_types,
        )

    @classmethod
    def of(
        cls, max_bytes: int, extensions: Iterable[str], mime_types: Iterable[str]
    ) -> AttachmentPolicy:
        return cls(
            max_bytes,
            frozenset(e.lower().lstrip(".") for e in extensions),
            tuple(m.lower() for m in mime_types),
        )

    def __call__(self, name: str, content_type: str, size: int) -> str | None:
        """Return None to save the file, or the code of why it is left out."""
        if size > self.max_bytes:
            return SIZE
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in self.extensions:
            return TYPE
        kind = content_type.split(";", 1)[0].strip().lower() or "application/octet-stream"
        if not any(fnmatch.fnmatchcase(kind, allowed) for allowed in self.mime_types):
            return TYPE
        return None


def tenant_policy(session: Session, tenant_id: str, config: Mapping[str, Any]) -> AttachmentPolicy:
    """The policy of one organisation, read afresh (a worker saving for any tenant asks this)."""
    return AttachmentPolicy.from_settings(tenant_settings.current(session, tenant_id, config))
