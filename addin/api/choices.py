"""``/api/choices``: which contact an address means for this rep (rule 7)."""

from __future__ import annotations

from typing import Any

from flask import request

from .. import crm, store
from ..auth import current_identity
from ..errors import ApiError
from ..services import choices
from . import api, render
from .validation import validated_body


@api.get("/choices")
def list_choices() -> Any:
    """List the rep's own choices."""
    rows = choices.list_choices(
        session=store.session(), identity=current_identity(), environment_id=crm.environment_id()
    )
    return {"choices": [render.choice(c) for c in rows]}


@api.put("/choices")
def choose() -> Any:
    """Remember the contact the rep chose for an address."""
    body = validated_body("ChoiceRequest")
    choice = choices.choose_contact(
        adapter=crm.adapter(),
        session=store.session(),
        identity=current_identity(),
        environment_id=crm.environment_id(),
        address=body["address"],
        contact_id=body["contact_id"],
    )
    return render.choice(choice)


@api.delete("/choices")
def forget() -> Any:
    """Forget the rep's choice for an address."""
    address = request.args.get("address", "")
    if not address:
        raise ApiError(422, "invalid_request", "address: give the address as a query parameter.")
    if len(address) > 320:
        raise ApiError(422, "invalid_request", "address: longer than 320 characters.")
    found = choices.forget_choice(
        session=store.session(),
        identity=current_identity(),
        environment_id=crm.environment_id(),
        address=address,
    )
    if not found:
        raise ApiError(404, "choice_not_found", f"You have no choice for {address}.")
    return "", 204
