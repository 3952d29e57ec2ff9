"""Contacts on Salesforce: matching addresses in one SOQL query, validating and creating contacts.

Features
--------
* `match_queries`: one query for any number of addresses (contract request 1): ``field IN
  (...)`` for each asked email field, ``OR``-ed, the address list written once per field by
  `simple_salesforce.format_soql`, so a quote, backslash, ``+``, ``%`` or ``_`` in an address is
  data. Salesforce compares strings case-insensitively; addresses are asked lower-cased. So many
  addresses that the URL would be too long make several queries, sent in one composite batch.
* `group_by_address`: records → each asked address with the contacts holding it in an asked
  field.
* `validate_draft`: a contact needs a last name and an email address (`Rejected` naming the
  field) and fits Salesforce's field lengths, checked before any request.
* `contact_values`: the body of request 4, and the Lightning new-contact form's
  ``defaultFieldValues``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote

from simple_salesforce.format import format_soql

from .. import drafts, matching
from ..errors import Rejected
from ..models import EMAIL_FIELDS, Contact, ContactDraft
from .records import RecordUrl, Row, contact_fields
from .records import contact as contact_from_row

#: Salesforce's lengths for the Contact fields a draft fills (longer values are refused up front).
MAX_LENGTHS = {
    "first_name": 40,
    "last_name": 80,
    "email": 80,
    "job_title": 128,
    "business_phone": 40,
    "mobile_phone": 40,
}
#: Draft field → Contact field (the email goes to the org's first email field).
DRAFT_FIELDS = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "job_title": "Title",
    "business_phone": "Phone",
    "mobile_phone": "MobilePhone",
}
#: Room for the addresses in one query URL: Salesforce takes URLs up to 16,384 bytes.
MAX_LITERALS_LENGTH = 12_000
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def check_email_fields(email_fields: Mapping[str, str]) -> dict[str, str]:
    """Return the configured email fields; ValueError if one is not a Salesforce field name."""
    if not email_fields:
        raise ValueError("Configure at least one Salesforce email field.")
    for name, field in email_fields.items():
        if not _FIELD_NAME.fullmatch(field):
            raise ValueError(f"{field!r} (for {name}) is not a Salesforce field name.")
    return dict(email_fields)


def asked_fields(email_fields: Sequence[str], configured: Mapping[str, str]) -> list[str]:
    """Return the org's Contact fields of our email fields (those it lacks hold nothing).

    `Rejected` for a name that is none of our email fields.
    """
    known = dict.fromkeys((*EMAIL_FIELDS, *configured))
    unknown = [name for name in email_fields if name not in known]
    if unknown or not email_fields:
        raise Rejected(f"email_fields must be some of {', '.join(known)}; got {list(email_fields)}")
    return [configured[name] for name in dict.fromkeys(email_fields) if name in configured]


def match_queries(
    addresses: Sequence[str], fields: Sequence[str], selected: Sequence[str]
) -> list[str]:
    """Return the SOQL finding contacts holding any address in any of ``fields``.

    One query, unless the addresses would make its URL longer than Salesforce takes: then as
    few queries as fit, to be sent together in one composite batch.
    """
    where = " OR ".join(f"{field} IN {{addresses}}" for field in fields)
    select = f"SELECT {contact_fields(selected)} FROM Contact WHERE {where}"
    return [
        format_soql(select, addresses=chunk) for chunk in address_chunks(addresses, len(fields))
    ]


def address_chunks(addresses: Sequence[str], repeats: int = 1) -> list[list[str]]:
    """Split addresses so that each part, written ``repeats`` times, fits in one query URL."""
    chunks: list[list[str]] = [[]]
    used = 0
    for address in addresses:
        cost = (len(quote(address, safe="")) + 6) * max(repeats, 1)  # quotes, escapes, comma
        if chunks[-1] and used + cost > MAX_LITERALS_LENGTH:
            chunks.append([])
            used = 0
        chunks[-1].append(address)
        used += cost
    return [chunk for chunk in chunks if chunk]


def group_by_address(
    rows: Iterable[Row],
    wanted: Sequence[str],
    fields: Sequence[str],
    selected: Sequence[str],
    url: RecordUrl,
) -> dict[str, list[Contact]]:
    """Map each wanted (lower-cased) address to the contacts holding it in one of ``fields``."""
    return matching.group_by_address(
        rows, wanted, fields, lambda row: contact_from_row(row, selected, url)
    )


def validate_draft(draft: ContactDraft) -> None:
    """Raise `Rejected` naming the first field Salesforce would refuse, before any request."""
    drafts.check_required(draft)
    drafts.check_lengths(draft, MAX_LENGTHS)


def contact_values(draft: ContactDraft, email_field: str) -> dict[str, str]:
    """Return ``draft`` as Contact fields (a create body, the form's defaults), empty ones out."""
    values = {
        field: value
        for name, field in DRAFT_FIELDS.items()
        if (value := getattr(draft, name).strip())
    }
    if draft.email.strip():
        values[email_field] = draft.email.strip()
    if draft.account_id and draft.account_id.strip():
        values["AccountId"] = draft.account_id.strip()
    return values
