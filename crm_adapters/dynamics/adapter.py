"""`DynamicsAdapter`: Dynamics 365 through the Dataverse Web API v9.2.

Features
--------
* Every `CrmAdapter` method, each with the requests of ``docs/dataverse-requests.md``:

  ===================  ===========  ===========================================================
  method               round trips  requests
  ===================  ===========  ===========================================================
  match_contacts       1            one GET, ``In`` over the asked email columns
  get_accounts         1            one GET with ``$expand``
  related_activities   1            ``$batch``: emails, appointments
  contact_context      1            ``$batch``: accounts, emails, appointments
  search_records       1            ``$batch``: per record type, all words and any word
  create_contact       1            POST with ``return=representation``
  save_email           2 (1)        ``$batch`` read (saved already? who are the parties?),
  save_meeting                      then a deep-insert POST unless it was saved already
  find_saved           1            ``$batch``: emails by messageid, appointments by
                                    globalobjectid
  mailbox_settings     2            ``GET WhoAmI`` (the user's id), then ``$batch``: the user
                                    with its default mailbox expanded, and its usersettings
  readiness            2            ``GET WhoAmI``, then ``$batch`` (continue on error): the
                                    user's ``RetrieveUserPrivileges``, the users' mailboxes
                                    not synchronized (five, and their count)
  who_am_i             1            ``GET WhoAmI`` (not a `CrmAdapter` method: a connection
                                    check)
  ===================  ===========  ===========================================================

  Calls with nothing to ask (no addresses, no valid ids, no words) make no request. Ids that are
  not GUIDs match nothing; a regarding record with such an id is `NotFound` without a request.
* ``round_trips`` counts HTTP requests sent to Dataverse: a ``$batch`` counts once, a retry
  again (see `transport` for the retry and error policy).
* Links open the Dynamics web client: ``{web_url}/main.aspx?pagetype=entityrecord&etn=...&id=...``;
  the new-contact form is prefilled through ``extraqs``.
* Threads: one adapter may serve several threads (one `requests.Session`, a locked counter).

Capabilities
------------
Dynamics keeps a draft once it is sent, saves meetings in compose and, with server-side sync
(which it needs for tracking), follows replies and meeting updates; it matches all three email
columns and searches accounts, contacts, opportunities and cases. A contact needs a last name
and an email address.

Configuration
-------------
``api_url``         the environment's ApiUrl from Global Discovery (https only)
``web_url``         the environment's Url, base of links (default: ``api_url``)
``token``           ``token(force_refresh) -> str``: a bearer token for ``{api_url}/.default``
``environment_id``  the environment's id, for callers' bookkeeping
``verify``          TLS verification: True, or a CA bundle path (passed with each request)
``timeout``         seconds per HTTP request
``retry``           `RetryPolicy` (attempts, backoff, longest ``Retry-After`` honoured)
``session``         a `requests.Session` to use (closed by its owner, not by ``close``)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import quote, urlencode, urlsplit

import requests

from ..base import CrmAdapter
from ..errors import Rejected, Unavailable
from ..models import (
    EMAIL_FIELDS,
    Account,
    Capabilities,
    Contact,
    ContactContext,
    ContactDraft,
    EmailActivity,
    MailboxSettings,
    MeetingActivity,
    Party,
    ReadinessCheck,
    RecordRef,
    RelatedItems,
    SavedActivity,
)
from ..retry import retry_after_seconds
from . import accounts, activities, batch, contacts, mailbox, readiness, records, search
from .odata import is_guid
from .transport import Json, RetryPolicy, TokenSource, Transport, error_for

#: Our email fields → the contact's columns.
EMAIL_COLUMNS = records.EMAIL_COLUMNS


class DynamicsAdapter(CrmAdapter):
    """Dynamics 365 (Dataverse Web API v9.2)."""

    name = "dynamics"
    capabilities = Capabilities(
        save_drafts=True,
        save_compose_meetings=True,
        auto_save_replies=True,
        auto_save_meeting_updates=True,
        needs_server_side_sync=True,
        contact_required_fields=("last_name", "email"),
    )

    def __init__(
        self,
        api_url: str,
        *,
        web_url: str | None = None,
        token: TokenSource,
        environment_id: str = "",
        verify: bool | str = True,
        timeout: float = 15,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__()
        parts = urlsplit(api_url)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError(f"The Dataverse API URL must be https://...; got {api_url!r}")
        web = urlsplit(web_url or api_url)
        if web.scheme not in ("https", "http") or not web.netloc:
            raise ValueError(f"The Dynamics web URL must be http(s)://...; got {web_url!r}")
        self.api_url = api_url.rstrip("/")
        self.web_url = (web_url or api_url).rstrip("/")
        self.environment_id = environment_id
        self._retry = retry or RetryPolicy()
        self._transport = Transport(
            self.api_url,
            token,
            verify=verify,
            timeout=timeout,
            retry=self._retry,
            session=session,
            count=self._count_round_trip,
        )

    @staticmethod
    def _now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    # --- links (no request) -------------------------------------------------------------------

    def record_url(self, record_type: str, record_id: str) -> str:
        entity = records.ENTITY.get(str(record_type))
        if entity is None:
            raise Rejected(f"Dynamics 365 has no {record_type!r} records to link to.")
        query = urlencode(
            {"pagetype": "entityrecord", "etn": entity.logical_name, "id": record_id},
            quote_via=quote,
        )
        return f"{self.web_url}/main.aspx?{query}"

    def new_contact_url(self, draft: ContactDraft) -> str:
        extraqs = urlencode(contacts.form_parameters(draft), quote_via=quote)
        query = urlencode(
            {"pagetype": "entityrecord", "etn": "contact", "extraqs": extraqs}, quote_via=quote
        )
        return f"{self.web_url}/main.aspx?{query}"

    # --- contacts -----------------------------------------------------------------------------

    def match_contacts(
        self, addresses: Sequence[str], email_fields: Sequence[str] = EMAIL_FIELDS
    ) -> dict[str, list[Contact]]:
        if not addresses:
            return {}
        columns = contacts.email_columns(email_fields)
        wanted = list(dict.fromkeys(address.lower() for address in addresses))
        asked = [address for address in wanted if address.strip()]
        if not asked:
            return {address: [] for address in wanted}
        payload = self._transport.get(contacts.match_request(asked, columns))
        rows = self._transport.rows(payload)
        return contacts.group_by_address(rows, wanted, columns, self.record_url)

    def create_contact(self, draft: ContactDraft) -> Contact:
        contacts.validate_draft(draft)
        created = self._transport.create(contacts.create_request(), contacts.create_body(draft))
        return records.contact(created, self.record_url)

    # --- accounts and related items -----------------------------------------------------------

    def get_accounts(self, contact_ids: Sequence[str], limit: int = 5) -> list[Account]:
        ids = [contact_id for contact_id in contact_ids if is_guid(contact_id)]
        if not ids:
            return []
        payload = self._transport.get(accounts.accounts_request(ids, limit, self._now()))
        return self._accounts(payload, limit)

    def related_activities(self, contact_id: str, limit: int = 3) -> RelatedItems:
        if not is_guid(contact_id) or limit <= 0:
            return RelatedItems()
        emails, meetings = self._transport.read_batch(
            accounts.related_requests(contact_id, limit, self._now())
        )
        return self._related(emails, meetings, limit)

    def contact_context(
        self,
        contact_ids: Sequence[str],
        related_contact_id: str | None,
        *,
        accounts_limit: int = 5,
        related_limit: int = 3,
    ) -> ContactContext:
        ids = [contact_id for contact_id in contact_ids if is_guid(contact_id)]
        related = related_contact_id if is_guid(related_contact_id) and related_limit > 0 else None
        if not ids and related is None:
            return ContactContext()
        now = self._now()
        wanted = [accounts.accounts_request(ids, accounts_limit, now)] if ids else []
        if related is not None:
            wanted += accounts.related_requests(related, related_limit, now)
        answers = self._transport.read_batch(wanted)
        found = self._accounts(answers[0], accounts_limit) if ids else []
        items = (
            self._related(answers[-2], answers[-1], related_limit)
            if related is not None
            else RelatedItems()
        )
        return ContactContext(tuple(found), items)

    def _accounts(self, payload: Json, limit: int) -> list[Account]:
        rows = self._transport.rows(payload)
        return [records.account(row, self.record_url, limit) for row in rows]

    def _related(self, emails: Json, meetings: Json, limit: int) -> RelatedItems:
        return RelatedItems(
            emails=tuple(records.activities(emails.get("value") or [], "email", self.record_url))[
                :limit
            ],
            meetings=tuple(
                records.activities(meetings.get("value") or [], "meeting", self.record_url)
            )[:limit],
        )

    # --- records ------------------------------------------------------------------------------

    def search_records(self, text: str, types: Sequence[str], limit: int = 10) -> list[RecordRef]:
        query = search.plan(text, types, limit)
        if query is None:
            return []
        asked = [
            (record_type, request)
            for record_type in query.types
            for request in search.requests_for(query, record_type)
        ]
        answers = self._transport.read_batch([request for _, request in asked])
        found: dict[str, list[records.Row]] = {record_type: [] for record_type in query.types}
        for (record_type, _), answer in zip(asked, answers, strict=True):
            found[record_type] += answer.get("value") or []
        return search.rank(query, found, limit, self.record_url)

    # --- saving activities --------------------------------------------------------------------

    def save_email(self, activity: EmailActivity) -> SavedActivity:
        parties = [activity.sender, *activity.to, *activity.cc, *activity.bcc]
        existing, resolved = self._read_for_save("email", activity, parties)
        if existing is not None:
            return SavedActivity(existing, created=False)
        body, skipped = activities.email_body(activity, resolved)
        created = self._transport.create(activities.create_request("email"), body)
        return SavedActivity(activities.saved_ref("email", created, self.record_url), True, skipped)

    def save_meeting(self, activity: MeetingActivity) -> SavedActivity:
        parties = [activity.organizer, *activity.attendees]
        existing, resolved = self._read_for_save("meeting", activity, parties)
        if existing is not None:
            return SavedActivity(existing, created=False)
        body = activities.meeting_body(activity, resolved)
        created = self._transport.create(activities.create_request("meeting"), body)
        return SavedActivity(activities.saved_ref("meeting", created, self.record_url), True)

    def _read_for_save(
        self,
        kind: activities.Kind,
        activity: EmailActivity | MeetingActivity,
        parties: Sequence[Party],
    ) -> tuple[RecordRef | None, activities.Parties]:
        """Check what a save needs before any request, then make its one read round trip."""
        if not activity.message_id.strip():
            raise Rejected("message_id: an email or meeting needs its message id to be saved.")
        activities.regarding_bind(kind, activity.regarding)
        addresses = activities.party_addresses(parties)
        answers = self._transport.read_batch(
            activities.read_requests(kind, activity.message_id, addresses)
        )
        saved = answers[0].get("value") or []
        if saved:
            return activities.saved_ref(kind, saved[0], self.record_url), activities.NO_PARTIES
        if not addresses:
            return None, activities.NO_PARTIES
        return None, activities.parties_from(
            self._transport.rows(answers[1]), self._transport.rows(answers[2])
        )

    def find_saved(self, message_id: str) -> RecordRef | None:
        if not message_id.strip():
            return None
        kinds: tuple[activities.Kind, ...] = ("email", "meeting")
        answers = self._transport.read_batch(
            [activities.saved_request(kind, message_id) for kind in kinds]
        )
        for kind, answer in zip(kinds, answers, strict=True):
            rows = answer.get("value") or []
            if rows:
                return activities.saved_ref(kind, rows[0], self.record_url)
        return None

    # --- the rep's mailbox --------------------------------------------------------------------

    def mailbox_settings(self) -> MailboxSettings:
        """Return whether the rep's mailbox uses server-side sync and whether replies are tracked.

        Two round trips: ``GET WhoAmI`` for the user's id, then one ``$batch`` reading
        ``systemusers(<id>)`` with its ``defaultmailbox`` expanded and
        ``usersettingscollection(<id>)`` (contract request 11; meanings in `mailbox`). Server-side
        sync is on when incoming email is delivered by it and the mailbox is approved; otherwise
        it is off and ``problem`` says which. Replies are tracked unless the rep's tracking
        option is "No email messages". Faults are the transport's (retries, token refresh,
        `error_for`).
        """
        user_id = self.who_am_i()["UserId"]
        if not is_guid(user_id):
            raise Unavailable("Dynamics 365 did not say who the signed-in user is; try again.")
        user, settings = self._transport.read_batch(mailbox.requests_for(user_id))
        return mailbox.settings_from(user, settings)

    # --- provisioning (rule 20) ----------------------------------------------------------------

    def readiness(self) -> tuple[ReadinessCheck, ...]:
        """Check the environment for Sidepane as the signed-in admin: reachable, privileges,
        every rep's mailbox synchronized by the server.

        Two round trips whatever the organization's size: ``GET WhoAmI`` (reachable, and the
        admin's id), then one ``$batch`` (contract request 12; meanings in `readiness`) with the
        admin's ``RetrieveUserPrivileges`` and the users' mailboxes that are not synchronized,
        five of them and their count. A part refused with 403 fails its own check; faults are
        the transport's (retries, token refresh, `error_for`): `Unavailable` when the
        environment cannot be reached, `NotSignedIn`, `RateLimited`.
        """
        user_id = self.who_am_i()["UserId"]
        if not is_guid(user_id):
            raise Unavailable("Dynamics 365 did not say who the signed-in user is; try again.")
        privileges, mailboxes = self._answers(
            readiness.requests_for(user_id), allowed=(readiness.PRIVILEGE_DENIED,)
        )
        return (
            ReadinessCheck("reachable", True),
            readiness.permissions_from(privileges.status, privileges.json()),
            readiness.mailboxes_from(mailboxes.status, mailboxes.json()),
        )

    def _answers(self, resources: Sequence[str], allowed: Sequence[int]) -> list[batch.Answer]:
        """GET every resource in one ``$batch`` that goes on past a failed part; return every
        answer, raising `error_for` the first whose status is neither 2xx nor ``allowed``."""
        boundary, body = batch.build([self._transport.base + path for path in resources])
        response = self._transport.send(
            "POST",
            "$batch",
            data=body,
            headers={
                "Content-Type": f'multipart/mixed; boundary="{boundary}"',
                "Prefer": readiness.CONTINUE_ON_ERROR,
            },
        )
        try:
            answers = batch.parse(response.headers.get("Content-Type", ""), response.content)
        except ValueError as error:
            raise Unavailable(
                "Dynamics 365 answered the batch in a form we cannot read; try again."
            ) from error
        for answer in answers:
            if not 200 <= answer.status < 300 and answer.status not in allowed:
                retry_after = retry_after_seconds(
                    answer.headers.get("retry-after"), self._retry.default_retry_after
                )
                raise error_for(answer.status, answer.json(), retry_after)
        if len(answers) != len(resources):
            raise Unavailable("Dynamics 365 answered only part of the batch; try again.")
        return answers

    # --- connection -------------------------------------------------------------------------

    def who_am_i(self) -> dict[str, str]:
        """Return ``UserId``, ``BusinessUnitId`` and ``OrganizationId`` of the signed-in rep.

        One GET (contract request 10): the cheapest check that the environment answers and
        accepts the rep's token.
        """
        payload = self._transport.get("WhoAmI")
        return {
            name: str(payload.get(name) or "")
            for name in ("UserId", "BusinessUnitId", "OrganizationId")
        }

    def close(self) -> None:
        self._transport.close()
