"""Salesforce (REST API, on simple-salesforce): the adapter and its SOQL and request helpers.

The wire contract, request by request, is ``docs/salesforce-requests.md``.

Modules
-------
adapter     `SalesforceAdapter`: the `CrmAdapter` methods and their round trips
transport   simple-salesforce on our session: TLS, counting, token refresh, retries
            (`RetryPolicy`), the error table (`error_for`), composite batches
records     objects and field lists; records → the product's dataclasses
contacts    matching addresses (one SOQL ``IN``), validating and creating contacts
accounts    accounts of contacts with their items; a contact's related items
activities  saving emails and meetings idempotently, with parties, regarding and attachments
search      fuzzy record search: ``parameterizedSearch`` candidates, rapidfuzz ranking
readiness   provisioning (rule 20): what the signed-in user may do with the objects we use

Every SOQL literal is written by `simple_salesforce.format_soql`; nothing else quotes.
"""

from . import accounts, activities, contacts, records, search
from .adapter import SalesforceAdapter
from .records import DEFAULT_EMAIL_FIELDS
from .transport import RetryPolicy, error_for

__all__ = [
    "DEFAULT_EMAIL_FIELDS",
    "RetryPolicy",
    "SalesforceAdapter",
    "accounts",
    "activities",
    "contacts",
    "error_for",
    "records",
    "search",
]
