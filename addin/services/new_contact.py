"""Add to CRM: the New contact form, pre-filled and marked per field (rule 8), and its Save.

Where each value comes from is kept beside it, so the pane can mark what it filled in:

signature  read from the sender's signature by `addin.signature` (only for the sender's own
           address: a signature belongs to whoever wrote the message)
email      taken from the email's headers: the address and the display name
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from crm_adapters import CrmAdapter
from crm_adapters.models import Contact, ContactDraft

from ..signature import read_signature

Source = Literal["signature", "email"]

#: The form's fields in the order it shows them.
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "job_title",
    "company",
    "business_phone",
    "mobile_phone",
    "website",
)
FIELD_MAX = 320


@dataclass(frozen=True, slots=True)
class PrefilledDraft:
    values: dict[str, str]
    sources: dict[str, Source] = field(default_factory=dict)

    def draft(self) -> ContactDraft:
        return ContactDraft(**{name: self.values.get(name, "") for name in FIELDS})


def prefill(
    address: str, display_name: str, *, body: str = "", sender: bool = False
) -> PrefilledDraft:
    """Fill the form for ``address`` from its display name and, for the sender, the signature."""
    values: dict[str, str] = dict.fromkeys(FIELDS, "")
    sources: dict[str, Source] = {}

    def put(name: str, value: str | None, source: Source) -> None:
        if value and not values[name]:
            values[name], sources[name] = value.strip()[:FIELD_MAX], source

    found = read_signature(body, from_name=display_name, from_address=address) if sender else None
    if found is not None and (found.email or "").casefold() == address.casefold():
        # A bare forward's signature is the forwarded message's author's, reported with their
        # address: it must not fill the forwarder's form.
        put("first_name", found.first_name, "signature")
        put("last_name", found.last_name, "signature")
        put("job_title", found.job_title, "signature")
        put("company", found.company, "signature")
        put("website", found.website, "signature")
        for phone in found.phones:
            if phone.kind == "mobile":
                put("mobile_phone", phone.e164, "signature")
            elif phone.kind == "work":
                put("business_phone", phone.e164, "signature")
    first, last = split_name(display_name)
    put("first_name", first, "email")
    put("last_name", last, "email")
    put("email", address, "email")
    return PrefilledDraft(values, sources)


def split_name(display_name: str) -> tuple[str, str]:
    """Split a display name into first and last name ("Last, First" understood)."""
    name = " ".join(display_name.replace('"', " ").split())
    if "@" in name:
        return "", ""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    first, _, last = name.rpartition(" ")
    return first, last


def form_values(form: dict[str, str]) -> PrefilledDraft:
    """Take the rep's edited form as it was submitted (trimmed and capped)."""
    return PrefilledDraft({name: form.get(name, "").strip()[:FIELD_MAX] for name in FIELDS})


def add_contact(adapter: CrmAdapter, draft: ContactDraft) -> Contact:
    """Create the contact in the CRM; the adapter refuses what its CRM would (`Rejected`)."""
    return adapter.create_contact(draft)
