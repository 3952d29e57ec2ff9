"""`SalesforceAdapter`: Salesforce through its REST API, on simple-salesforce.

Features
--------
* Every `CrmAdapter` method, each with the requests of ``docs/salesforce-requests.md``:

  ===================  ===========  ===========================================================
  method               round trips  requests
  ===================  ===========  ===========================================================
  match_contacts       1            one SOQL query, ``IN`` over the asked email fields
  get_accounts         1            composite batch: relations, accounts, opportunities,
                                    cases, emails, meetings
  related_activities   1            composite batch: emails, meetings
  contact_context      1            composite batch: both of the above
  search_records       1            composite batch of ``parameterizedSearch``
  create_contact       1            ``POST sobjects/Contact/``
  save_email           2 (1)        composite batch read (saved already? who are the parties?),
                                    then ``POST sobjects/EmailMessage/`` unless it was saved
                                    already; +1 ``composite/sobjects`` for attachments
  save_meeting         2 (1)        the same read, then ``POST sobjects/Event/``; +1
                                    ``composite/sobjects`` for the invitees' EventRelations
  find_saved           1            composite batch: emails by MessageIdentifier, events by
                                    Sidepane_UID__c
  readiness            1            ``GET sobjects`` (describeGlobal): what the signed-in user
                                    may do with each object
  ===================  ===========  ===========================================================

  Calls with nothing to ask (no addresses, no ids, no words) make no request. Ids are data:
  every literal goes through `simple_salesforce.format_soql`; a regarding record Salesforce
  does not hold is `NotFound` (its answer to the create).
* ``round_trips`` counts HTTP requests sent to Salesforce: a composite batch counts once, a
  retry again (see `transport` for the retry and error policy).
* Links open Lightning Experience: ``{instance_url}/lightning/r/<Object>/<id>/view``; the
  new-contact form is ``/lightning/o/Contact/new?defaultFieldValues=...``, each value encoded
  as ``lightning/pageReferenceUtils``' ``encodeDefaultFieldValues`` does.
* Threads: one adapter may serve several threads (one session, a locked counter).

Capabilities
------------
Salesforce saves no drafts and no meetings in compose, and does not follow replies to saved
emails or updates to saved meetings (rule 16); it needs no server-side sync. It matches the
email fields configured for the org and searches accounts, contacts, opportunities and cases.
A contact needs a last name and an email address.

Configuration
-------------
``instance_url``    the org's instance URL from the OAuth token answer (https only)
``access_token``    the rep's access token
``refresh``         ``refresh() -> str``: a new access token (the app's refresh-token grant;
                    raises `NotSignedIn` when the refresh token is revoked)
``environment_id``  the org's id, for callers' bookkeeping
``email_fields``    our email fields → the org's Contact fields
``verify``          TLS verification: True, or a CA bundle path (passed with each request)
``timeout``         seconds per HTTP request
``retry``           `RetryPolicy` (attempts, backoff)
``version``         the REST API version
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote, urlsplit

from ..base import CrmAdapter
from ..errors import CrmError, Rejected
from ..models import (
    EMAIL_FIELDS,
    Account,
    Capabilities,
    Contact,
    ContactContext,
    ContactDraft,
    EmailActivity,
    MeetingActivity,
    Party,
    ReadinessCheck,
    RecordRef,
    RelatedItems,
    SavedActivity,
)
from . import accounts, activities, contacts, readiness, records, search
from .records import DEFAULT_EMAIL_FIELDS
from .transport import RetryPolicy, Transport, query_url

log = logging.getLogger(__name__)


class SalesforceAdapter(CrmAdapter):
    """Salesforce (REST API through simple-salesforce)."""

    name = "salesforce"
    capabilities = Capabilities(
        save_drafts=False,
        save_compose_meetings=False,
        auto_save_replies=False,
        auto_save_meeting_updates=False,
        needs_server_side_sync=False,
        email_fields=tuple(DEFAULT_EMAIL_FIELDS),
        contact_required_fields=("last_name", "email"),
    )

    def __init__(
        self,
        instance_url: str,
        *,
        access_token: str,
        refresh: Callable[[], str] | None = None,
        environment_id: str = "",
        email_fields: Mapping[str, str] = DEFAULT_EMAIL_FIELDS,
        verify: bool | str = True,
        timeout: float = 15,
        retry: RetryPolicy | None = None,
        version: str = "59.0",
    ) -> None:
        super().__init__()
        parts = urlsplit(instance_url)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError(
                f"The Salesforce instance URL must be https://...; got {instance_url!r}"
            )
        self.instance_url = instance_url.rstrip("/")
        self.environment_id = environment_id
        self.email_fields = contacts.check_email_fields(email_fields)
        self.capabilities = dataclasses.replace(
            type(self).capabilities, email_fields=tuple(self.email_fields)
        )
        self._transport = Transport(
            self.instance_url,
            access_token,
            refresh,
            version=version,
            verify=verify,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            count=self._count_round_trip,
        )

    @staticmethod
    def _now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    @property
    def _all_fields(self) -> list[str]:
        return list(self.email_fields.values())

    @property
    def _first_email_field(self) -> str:
        """The field a new contact's address goes to: ``email1``'s, else the first configured."""
        return self.email_fields.get("email1") or next(iter(self.email_fields.values()))

    def _query_urls(self, queries: Sequence[str]) -> list[str]:
        return [query_url(self._transport.version, soql) for soql in queries]

    # --- links (no request) -------------------------------------------------------------------

    def record_url(self, record_type: str, record_id: str) -> str:
        sobject = records.SOBJECT.get(str(record_type))
        if sobject is None:
            raise Rejected(f"Salesforce has no {record_type!r} records to link to.")
        return f"{self.instance_url}/lightning/r/{sobject}/{quote(record_id, safe='')}/view"

    def new_contact_url(self, draft: ContactDraft) -> str:
        values = contacts.contact_values(draft, self._first_email_field)
        encoded = ",".join(f"{field}={quote(value, safe='')}" for field, value in values.items())
        return f"{self.instance_url}/lightning/o/Contact/new?defaultFieldValues={encoded}"

    # --- contacts -----------------------------------------------------------------------------

    def match_contacts(
        self, addresses: Sequence[str], email_fields: Sequence[str] = EMAIL_FIELDS
    ) -> dict[str, list[Contact]]:
        if not addresses:
            return {}
        fields = contacts.asked_fields(email_fields, self.email_fields)
        wanted = list(dict.fromkeys(address.lower() for address in addresses))
        asked = [address for address in wanted if address.strip()]
        if not asked or not fields:
            return {address: [] for address in wanted}
        rows = self._transport.query(contacts.match_queries(asked, fields, self._all_fields))
        return contacts.group_by_address(rows, wanted, fields, self._all_fields, self.record_url)

    def create_contact(self, draft: ContactDraft) -> Contact:
        contacts.validate_draft(draft)
        body = contacts.contact_values(draft, self._first_email_field)
        contact_id = self._transport.create("Contact", body)
        account_id = body.get("AccountId")
        return Contact(
            id=contact_id,
            first_name=body.get("FirstName", ""),
            last_name=body["LastName"],
            emails=(body[self._first_email_field],),
            job_title=body.get("Title", ""),
            account_id=account_id,
            company=draft.company.strip() if account_id else "",
            business_phone=body.get("Phone", ""),
            mobile_phone=body.get("MobilePhone", ""),
            url=self.record_url("contact", contact_id),
            crm=self.name,
        )

    # --- accounts and related items -----------------------------------------------------------

    def get_accounts(self, contact_ids: Sequence[str], limit: int = 5) -> list[Account]:
        return list(self.contact_context(contact_ids, None, accounts_limit=limit).accounts)

    def related_activities(self, contact_id: str, limit: int = 3) -> RelatedItems:
        return self.contact_context([], contact_id, related_limit=limit).related

    def contact_context(
        self,
        contact_ids: Sequence[str],
        related_contact_id: str | None,
        *,
        accounts_limit: int = 5,
        related_limit: int = 3,
    ) -> ContactContext:
        ids = [contact_id for contact_id in contact_ids if contact_id.strip()]
        related = (related_contact_id or "").strip() if related_limit > 0 else ""
        if not ids and not related:
            return ContactContext()
        now = self._now()
        queries = accounts.account_queries(ids, now) if ids else []
        if related:
            queries += accounts.related_queries(related, related_limit, now)
        answers = self._transport.read_batch(self._query_urls(queries))
        found = accounts.accounts_from(answers, ids, accounts_limit, self.record_url) if ids else []
        items = RelatedItems()
        if related:
            emails, meetings = answers[-2:]
            items = RelatedItems(
                emails=tuple(records.activities(emails, "email", self.record_url)[:related_limit]),
                meetings=tuple(
                    records.activities(meetings, "meeting", self.record_url)[:related_limit]
                ),
            )
        return ContactContext(tuple(found), items)

    # --- records ------------------------------------------------------------------------------

    def search_records(self, text: str, types: Sequence[str], limit: int = 10) -> list[RecordRef]:
        query = search.plan(text, types, limit)
        if query is None:
            return []
        answers = self._transport.read_batch(
            search.search_urls(query, self._transport.version), tolerate=search.TOO_SHORT
        )
        return search.rank(
            query, [row for answer in answers for row in answer], limit, self.record_url
        )

    # --- saving activities --------------------------------------------------------------------

    def save_email(self, activity: EmailActivity) -> SavedActivity:
        parties = [activity.sender, *activity.to, *activity.cc, *activity.bcc]
        existing, resolved = self._read_for_save("email", activity, parties)
        if existing is not None:
            return SavedActivity(existing, created=False)
        body = activities.email_body(activity, resolved)
        email_id = self._transport.create("EmailMessage", body)
        requests, skipped = activities.attachment_records(email_id, activity)
        for versions in requests:
            try:
                failed = self._transport.create_records(versions)
            except CrmError:
                self._undo("EmailMessage", email_id)
                raise
            skipped += tuple(versions[n]["PathOnClient"] for n in failed)
        ref = RecordRef("email", email_id, activity.subject, self.record_url("email", email_id))
        return SavedActivity(ref, True, skipped)

    def save_meeting(self, activity: MeetingActivity) -> SavedActivity:
        parties = [activity.organizer, *activity.attendees]
        existing, resolved = self._read_for_save("meeting", activity, parties)
        if existing is not None:
            return SavedActivity(existing, created=False)
        body, invitees = activities.event_body(activity, resolved)
        event_id = self._transport.create("Event", body)
        if invitees:
            try:
                self._transport.create_records(
                    activities.invitee_records(event_id, invitees), all_or_none=True
                )
            except CrmError:
                self._undo("Event", event_id)
                raise
        ref = RecordRef("meeting", event_id, activity.subject, self.record_url("meeting", event_id))
        return SavedActivity(ref, True)

    def _undo(self, sobject: str, record_id: str) -> None:
        """Delete a record a save made before it failed, so that saving again starts afresh."""
        try:
            self._transport.delete(sobject, record_id)
        except CrmError:
            log.warning("Salesforce: could not remove a half-saved %s", sobject)

    def _read_for_save(
        self,
        kind: activities.Kind,
        activity: EmailActivity | MeetingActivity,
        parties: Sequence[Party],
    ) -> tuple[RecordRef | None, activities.Parties]:
        """Check what a save needs before any request, then make its one read round trip."""
        if not activity.message_id.strip():
            raise Rejected("message_id: an email or meeting needs its message id to be saved.")
        activities.check_regarding(kind, activity.regarding)
        addresses = activities.party_addresses(parties)
        holders = contacts.match_queries(addresses, self._all_fields, self._all_fields)
        users = activities.users_queries(addresses)
        queries = [activities.saved_query(kind, activity.message_id)]
        if addresses:
            queries += [*holders, *users]
        answers = self._transport.read_batch(self._query_urls(queries))
        if answers[0]:
            return activities.saved_ref(kind, answers[0][0], self.record_url), activities.NO_PARTIES
        if not addresses:
            return None, activities.NO_PARTIES
        found = answers[1:]
        return None, activities.parties_from(
            [row for rows in found[: len(holders)] for row in rows],
            [row for rows in found[len(holders) :] for row in rows],
            self._all_fields,
        )

    def find_saved(self, message_id: str) -> RecordRef | None:
        if not message_id.strip():
            return None
        kinds: tuple[activities.Kind, ...] = ("email", "meeting")
        answers = self._transport.read_batch(
            self._query_urls([activities.saved_query(kind, message_id) for kind in kinds])
        )
        for kind, rows in zip(kinds, answers, strict=True):
            if rows:
                return activities.saved_ref(kind, rows[0], self.record_url)
        return None

    # --- provisioning (rule 20) ----------------------------------------------------------------

    def readiness(self) -> tuple[ReadinessCheck, ...]:
        """Check the org for Sidepane as the signed-in admin: reachable, object permissions.

        One round trip whatever the org's size: describeGlobal (contract request 8; what is
        required, and why, in `readiness`). Faults are the transport's: `Unavailable` when the
        org cannot be reached, `NotSignedIn` after one refresh, `RateLimited`.
        """
        described = self._transport.call(lambda client: client.describe(), "GET sobjects")
        return (ReadinessCheck("reachable", True), readiness.permissions_from(described))

    def close(self) -> None:
        self._transport.close()
