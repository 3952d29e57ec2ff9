"""``/api/notes``: a rep's private notes on contacts (rule 10)."""

from __future__ import annotations

from typing import Any

from flask import request

from .. import crm, store
from ..auth import current_identity
from ..errors import ApiError
from ..services import notes
from . import api, render
from .validation import validated_body

# The id column is a 32-bit INTEGER on PostgreSQL; larger ids cannot exist.
NOTE_ID_MAX = 2**31 - 1


@api.get("/notes")
def list_notes() -> Any:
    """List the rep's notes on a contact."""
    contact_id = request.args.get("contact_id", "")
    if not contact_id or len(contact_id) > 200:
        raise ApiError(
            422, "invalid_request", "contact_id: give the contact's id (1 to 200 characters)."
        )
    rows = notes.list_notes(
        session=store.session(),
        identity=current_identity(),
        environment_id=crm.environment_id(),
        contact_id=contact_id,
    )
    return {"notes": [render.note(n) for n in rows]}


@api.post("/notes")
def create_note() -> Any:
    """Write a note."""
    body = validated_body("NoteCreate")
    note = notes.create_note(
        session=store.session(),
        identity=current_identity(),
        environment_id=crm.environment_id(),
        contact_id=body["contact_id"],
        body=body["body"],
    )
    return render.note(note), 201


@api.get("/notes/<int:note_id>")
def get_note(note_id: int) -> Any:
    """Read one note."""
    note = notes.get_note(
        session=store.session(), identity=current_identity(), note_id=_id(note_id)
    )
    return render.note(note)


@api.patch("/notes/<int:note_id>")
def update_note(note_id: int) -> Any:
    """Change a note's text."""
    body = validated_body("NoteUpdate")
    note = notes.update_note(
        session=store.session(),
        identity=current_identity(),
        note_id=_id(note_id),
        body=body["body"],
    )
    return render.note(note)


@api.delete("/notes/<int:note_id>")
def delete_note(note_id: int) -> Any:
    """Delete a note."""
    notes.delete_note(session=store.session(), identity=current_identity(), note_id=_id(note_id))
    return "", 204


def _id(note_id: int) -> int:
    # Larger ids cannot exist and would overflow the database's integer column.
    if note_id > NOTE_ID_MAX:
        raise ApiError(404, "note_not_found", f"There is no note {note_id} of yours.")
    return note_id
