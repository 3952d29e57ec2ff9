"""Dynamics 365 (Dataverse Web API v9.2): the adapter, its OData helpers and Global Discovery.

The wire contract, request by request, is ``docs/dataverse-requests.md``.

Modules
-------
adapter     `DynamicsAdapter`: the `CrmAdapter` methods and their round trips
transport   HTTP to one environment: headers, tokens, retries (`RetryPolicy`), the error table
batch       ``$batch``: several GETs in one POST, their answers back in order
odata       string literals, wildcard escaping, GUIDs, date-times, query strings
records     Dataverse tables and column lists; rows → the product's dataclasses
contacts    matching addresses (``In``), validating and creating contacts
accounts    accounts of contacts with their expanded items; a contact's related items
activities  saving emails and meetings idempotently, with parties, regarding and attachments
mailbox     the rep's mailbox: server-side synchronization and the email tracking option
readiness   provisioning's checks (rule 20): WhoAmI, then privileges and mailboxes in one $batch
search      fuzzy record search: wide ``contains`` filters, rapidfuzz ranking
discovery   Global Discovery: the environments a rep may connect to (imported on its own)
"""

from .adapter import EMAIL_COLUMNS, DynamicsAdapter
from .transport import RetryPolicy, error_for

__all__ = ["EMAIL_COLUMNS", "DynamicsAdapter", "RetryPolicy", "error_for"]
