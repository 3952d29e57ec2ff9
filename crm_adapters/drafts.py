"""Validating a `ContactDraft` before any request: the rules every adapter shares.

Used by ``dynamics/contacts.py``, ``salesforce/contacts.py`` and ``sandbox/contacts.py`` in their
``validate_draft``; each adds its own CRM's field lengths (and the Dataverse adapter its account
id check).

Features
--------
* `check_required`: a draft needs a last name and an email address that looks like one
  (something, ``@``, a domain with a dot, no white space); `Rejected` names the field.
* `check_lengths`: each field, stripped, at most the CRM's length for it; `Rejected` names the
  first field too long.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import Rejected
from .models import ContactDraft


def check_required(draft: ContactDraft) -> None:
    """Raise `Rejected` naming the field if the last name or a usable email address is missing."""
    if not draft.last_name.strip():
        raise Rejected("last_name: a last name is required.")
    email = draft.email.strip()
    if not email:
        raise Rejected("email: an email address is required.")
    local, at, domain = email.rpartition("@")
    if not (at and local and "." in domain) or any(char.isspace() for char in email):
        raise Rejected(f"email: {email!r} is not an email address.")


def check_lengths(draft: ContactDraft, longest: Mapping[str, int]) -> None:
    """Raise `Rejected` naming the first field (stripped) longer than its entry in ``longest``."""
    for name, limit in longest.items():
        if len(getattr(draft, name).strip()) > limit:
            raise Rejected(f"{name}: longer than {limit} characters.")
