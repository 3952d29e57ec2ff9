"""Private notes on a contact (rule 10): only their author reads them; never sent to the CRM.

Every query is scoped to the caller's tenant and user oid. Another rep's note is reported as not
found, never as forbidden, so ids reveal nothing about other reps.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ApiError
from ..identity import Identity
from ..store.models import PrivateNote, utcnow


def list_notes(
    *, session: Session, identity: Identity, environment_id: str, contact_id: str
) -> list[PrivateNote]:
    """Return the rep's notes on a contact, newest first."""
    query = (
        select(PrivateNote)
        .where(
            PrivateNote.tenant_id == identity.tenant_id,
            PrivateNote.user_oid == identity.user_oid,
            PrivateNote.environment_id == environment_id,
            PrivateNote.contact_id == contact_id,
        )
        .order_by(PrivateNote.updated_at.desc(), PrivateNote.id.desc())
    )
    return list(session.scalars(query))


def notes_by_contact(
    *, session: Session, identity: Identity, environment_id: str, contact_ids: list[str]
) -> dict[str, list[PrivateNote]]:
    """Return the rep's notes on each of these contacts, newest first, in one query."""
    found: dict[str, list[PrivateNote]] = {contact_id: [] for contact_id in contact_ids}
    if not contact_ids:
        return found
    query = (
        select(PrivateNote)
        .where(
            PrivateNote.tenant_id == identity.tenant_id,
            PrivateNote.user_oid == identity.user_oid,
            PrivateNote.environment_id == environment_id,
            PrivateNote.contact_id.in_(contact_ids),
        )
        .order_by(PrivateNote.updated_at.desc(), PrivateNote.id.desc())
    )
    for note in session.scalars(query):
        found[note.contact_id].append(note)
    return found


def create_note(
    *, session: Session, identity: Identity, environment_id: str, contact_id: str, body: str
) -> PrivateNote:
    """Write a new private note."""
    note = PrivateNote(
        tenant_id=identity.tenant_id,
        user_oid=identity.user_oid,
        environment_id=environment_id,
        contact_id=contact_id,
        body=_clean(body),
    )
    session.add(note)
    session.flush()
    return note


def get_note(*, session: Session, identity: Identity, note_id: int) -> PrivateNote:
    """Return one of the rep's own notes, or raise not found."""
    note = session.get(PrivateNote, note_id)
    if note is None or (note.tenant_id, note.user_oid) != (identity.tenant_id, identity.user_oid):
        raise ApiError(404, "note_not_found", f"There is no note {note_id} of yours.")
    return note


def update_note(*, session: Session, identity: Identity, note_id: int, body: str) -> PrivateNote:
    """Replace the text of one of the rep's own notes."""
    note = get_note(session=session, identity=identity, note_id=note_id)
    note.body = _clean(body)
    note.updated_at = utcnow()
    session.flush()
    return note


def delete_note(*, session: Session, identity: Identity, note_id: int) -> None:
    """Delete one of the rep's own notes."""
    session.delete(get_note(session=session, identity=identity, note_id=note_id))
    session.flush()


def _clean(body: str) -> str:
    text = body.strip()
    if not text:
        raise ApiError(422, "empty_note", "A note needs some text.")
    return text
