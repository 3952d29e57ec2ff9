"""Contacts on Dataverse: matching addresses in one GET, validating and creating contacts.

Features
--------
* `match_request`: one GET for any number of addresses (contract request 1). Each email column
  gets one ``Microsoft.Dynamics.CRM.In`` call naming it through a parameter alias (``@p1``...),
  and all of them share one alias for the values (``@v``), a JSON array: the list travels once,
  and a quote, ``+``, ``%`` or ``_`` in an address is data. Dataverse compares strings
  case-insensitively, so addresses are asked lower-cased.
* `group_by_address`: rows → each asked address with the contacts holding it in an asked column.
* `validate_draft`: a contact needs a last name and an email address (`Rejected` naming the field)
  before any request is made.
* `create_body` (request 6) and `form_parameters` (the web client's new-contact form, prefilled
  through ``extraqs``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .. import drafts, matching
from ..errors import NotFound, Rejected
from ..models import EMAIL_FIELDS, Contact, ContactDraft
from .odata import guid, is_guid, json_values, literal, resource
from .records import CONTACT_SELECT, EMAIL_COLUMNS, RecordUrl, Row
from .records import contact as contact_from_row

#: Dataverse's lengths for the columns a draft fills (longer values are refused up front).
MAX_LENGTHS = {
    "first_name": 50,
    "last_name": 50,
    "email": 100,
    "job_title": 100,
    "business_phone": 50,
    "mobile_phone": 50,
    "website": 200,
}
#: Draft field → contact column, for creating and for the new-contact form.
DRAFT_COLUMNS = {
    "first_name": "firstname",
    "last_name": "lastname",
    "email": "emailaddress1",
    "job_title": "jobtitle",
    "business_phone": "telephone1",
    "mobile_phone": "mobilephone",
    "website": "websiteurl",
}


def email_columns(email_fields: Sequence[str]) -> list[str]:
    """Return the contact columns of our email fields; `Rejected` for a field we do not know."""
    unknown = [name for name in email_fields if name not in EMAIL_COLUMNS]
    if unknown or not email_fields:
        raise Rejected(f"email_fields must be some of {', '.join(EMAIL_FIELDS)}; got {unknown}")
    return [EMAIL_COLUMNS[name] for name in dict.fromkeys(email_fields)]


def match_request(addresses: Iterable[str], columns: Sequence[str]) -> str:
    """Return the GET (relative to the API) finding contacts holding any address in ``columns``."""
    options = {
        "$select": CONTACT_SELECT,
        "$filter": " or ".join(
            f"Microsoft.Dynamics.CRM.In(PropertyName=@p{n},PropertyValues=@v)"
            for n in range(1, len(columns) + 1)
        ),
    }
    options |= {f"@p{n}": literal(column) for n, column in enumerate(columns, start=1)}
    options["@v"] = json_values(addresses)
    return resource("contacts", options)


def group_by_address(
    rows: Iterable[Row], wanted: Sequence[str], columns: Sequence[str], url: RecordUrl
) -> dict[str, list[Contact]]:
    """Map each wanted (lower-cased) address to the contacts holding it in one of ``columns``."""
    return matching.group_by_address(rows, wanted, columns, lambda row: contact_from_row(row, url))


def validate_draft(draft: ContactDraft) -> None:
    """Raise `Rejected` naming the first field Dynamics would refuse, before any request."""
    drafts.check_required(draft)
    drafts.check_lengths(draft, MAX_LENGTHS)
    if draft.account_id and not is_guid(draft.account_id):
        raise NotFound(f"No account with id {draft.account_id!r} to link the contact to.")


def create_request() -> str:
    """Return the POST target of request 6: the new contact comes back with these columns."""
    return resource("contacts", {"$select": CONTACT_SELECT})


def create_body(draft: ContactDraft) -> dict[str, str]:
    """Return the JSON body creating ``draft`` (empty fields left out)."""
    body = {
        column: value
        for name, column in DRAFT_COLUMNS.items()
        if (value := getattr(draft, name).strip())
    }
    if draft.account_id:
        body["parentcustomerid_account@odata.bind"] = f"/accounts({guid(draft.account_id)})"
    return body


def form_parameters(draft: ContactDraft) -> dict[str, str]:
    """Return the new-contact form's ``extraqs`` fields for ``draft`` (empty fields left out)."""
    fields = create_body(draft)
    fields.pop("parentcustomerid_account@odata.bind", None)
    if draft.account_id and is_guid(draft.account_id):
        fields |= {"parentcustomerid": guid(draft.account_id), "parentcustomeridtype": "account"}
        if draft.company.strip():
            fields["parentcustomeridname"] = draft.company.strip()
    return fields
