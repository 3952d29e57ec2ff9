"""`CrmAdapter`: the one interface between Sidepane and a CRM.

An adapter speaks one CRM's wire protocol and returns the dataclasses of `crm_adapters.models`;
it knows nothing of Flask, Celery or the local store. Errors are raised from
`crm_adapters.errors` only.

Contract every adapter keeps (the conformance suite in ``tests/adapters/`` checks it):

* ``match_contacts`` answers for any number of addresses in **one** round trip, matches every
  email field it is asked to, compares addresses case-insensitively and exactly otherwise
  (quotes, ``+`` and ``%`` are data, never query syntax).
* ``save_email`` / ``save_meeting`` are idempotent by message id: saving the same item again
  returns the record made the first time with ``created=False``.
* ``contact_context`` answers in one round trip too (accounts and related items together).
* ``mailbox_settings`` answers in at most two round trips; a CRM without such settings answers
  the default (``server_side_sync=None``) without a request.
* ``round_trips`` counts the requests the adapter made to its CRM, so callers and tests can hold
  the pane to its budget of two sequential round trips per opened item.

A method an adapter does not implement fails naming the adapter and the method.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from .models import (
    EMAIL_FIELDS,
    Account,
    Capabilities,
    Contact,
    ContactContext,
    ContactDraft,
    EmailActivity,
    MailboxSettings,
    MeetingActivity,
    ReadinessCheck,
    RecordRef,
    RelatedItems,
    SavedActivity,
)


class CrmAdapter:
    """Base class and interface of every CRM adapter."""

    #: Registry name of the adapter ("sandbox", "dynamics", "salesforce").
    name: str = ""
    capabilities: Capabilities = Capabilities()

    def __init__(self) -> None:
        self.round_trips = 0
        self._counting = threading.Lock()

    def _count_round_trip(self) -> None:
        """Add one to ``round_trips``; adapters call it once per request sent to their CRM."""
        with self._counting:  # ``+=`` is not atomic across threads
            self.round_trips += 1

    def _not_implemented(self, method: str) -> NotImplementedError:
        return NotImplementedError(
            f"the {type(self).__name__} adapter does not implement {method}()"
        )

    # --- contacts -----------------------------------------------------------------------------

    def match_contacts(
        self, addresses: Sequence[str], email_fields: Sequence[str] = EMAIL_FIELDS
    ) -> dict[str, list[Contact]]:
        """Map each address (lower-cased) to the contacts holding it, in one round trip.

        Every requested address is a key of the result, with an empty list when nothing matched.
        """
        raise self._not_implemented("match_contacts")

    def create_contact(self, draft: ContactDraft) -> Contact:
        """Create a contact and return it as the CRM stored it."""
        raise self._not_implemented("create_contact")

    def new_contact_url(self, draft: ContactDraft) -> str:
        """Return the CRM's own new-contact form URL with the draft's fields filled in."""
        raise self._not_implemented("new_contact_url")

    # --- accounts and related items -----------------------------------------------------------

    def get_accounts(self, contact_ids: Sequence[str], limit: int = 5) -> list[Account]:
        """Return the accounts of these contacts with open opportunities, cases and activities.

        ``limit`` caps each of the three lists per account.
        """
        raise self._not_implemented("get_accounts")

    def related_activities(self, contact_id: str, limit: int = 3) -> RelatedItems:
        """Return the contact's most recent emails and next upcoming meetings, ``limit`` each."""
        raise self._not_implemented("related_activities")

    def contact_context(
        self,
        contact_ids: Sequence[str],
        related_contact_id: str | None,
        *,
        accounts_limit: int = 5,
        related_limit: int = 3,
    ) -> ContactContext:
        """Return the accounts of ``contact_ids`` and the related items of one contact together.

        This is the second (and last) round trip of an opened item. The default makes two
        requests; an adapter whose CRM can batch (Dataverse ``$batch``, Salesforce composite)
        overrides it to make one.
        """
        accounts = self.get_accounts(contact_ids, accounts_limit) if contact_ids else []
        related = (
            self.related_activities(related_contact_id, related_limit)
            if related_contact_id
            else RelatedItems()
        )
        return ContactContext(tuple(accounts), related)

    # --- records ------------------------------------------------------------------------------

    def search_records(self, text: str, types: Sequence[str], limit: int = 10) -> list[RecordRef]:
        """Find records of the given types whose name resembles ``text`` (fuzzy), best first."""
        raise self._not_implemented("search_records")

    def record_url(self, record_type: str, record_id: str) -> str:
        """Return the URL that opens a record in the CRM's web client."""
        raise self._not_implemented("record_url")

    # --- saving activities --------------------------------------------------------------------

    def save_email(self, activity: EmailActivity) -> SavedActivity:
        """Save an email with its parties, regarding record and attachments (idempotent)."""
        raise self._not_implemented("save_email")

    def save_meeting(self, activity: MeetingActivity) -> SavedActivity:
        """Save a meeting with its organizer, attendees and regarding record (idempotent)."""
        raise self._not_implemented("save_meeting")

    def find_saved(self, message_id: str) -> RecordRef | None:
        """Return the activity already saved for this message id, if any."""
        raise self._not_implemented("find_saved")

    # --- the rep's mailbox --------------------------------------------------------------------

    def mailbox_settings(self) -> MailboxSettings:
        """Return the signed-in rep's mailbox settings in the CRM (rule 15).

        The default is for a CRM that has no server-side synchronization and no tracking option
        (the sandbox; Salesforce, which never saves replies by itself): no request is made.
        """
        return MailboxSettings(server_side_sync=None, track_replies=True)

    # --- provisioning (rule 20) ----------------------------------------------------------------

    def readiness(self) -> tuple[ReadinessCheck, ...]:
        """Check that the environment is ready for Sidepane, in a constant number of requests.

        Returns one check per prerequisite the CRM has: "reachable" and "permissions" always,
        "server_side_sync" for a CRM that needs it (`Capabilities.needs_server_side_sync`).
        A CRM that cannot be reached raises `Unavailable` (the caller records it as the failed
        "reachable" check); an expired sign-in raises `NotSignedIn`; `RateLimited` as anywhere.
        The default is for the sandbox, which is a local file: reachable and allowed.
        """
        self._count_round_trip()
        return (ReadinessCheck("reachable", True), ReadinessCheck("permissions", True))

    def close(self) -> None:
        """Release connections; the adapter is not used afterwards."""
