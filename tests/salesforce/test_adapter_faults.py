"""The Salesforce adapter against the emulator's faults: request limits, 5xx, drops, sessions."""

from __future__ import annotations

import logging
import time

import pytest

from crm_adapters import NotFound, NotSignedIn, RateLimited, Rejected, Unavailable
from crm_adapters.models import ContactDraft
from crm_adapters.salesforce import RetryPolicy, SalesforceAdapter
from tests.emulators.loopback import Reply
from tests.emulators.salesforce import SalesforceEmulator

QUERY = "GET /services/data/v59.0/query/"
BATCH = "POST /services/data/v59.0/composite/batch"
CREATE_CONTACT = "POST /services/data/v59.0/sobjects/Contact/"
LIMIT_BODY = [
    {
        "message": "TotalRequests Limit exceeded.",
        "errorCode": "REQUEST_LIMIT_EXCEEDED",
        "fields": [],
    }
]


class Refresh:
    """The app's refresh-token grant: a new access token from the emulator, counted."""

    def __init__(self, salesforce: SalesforceEmulator) -> None:
        self.salesforce, self.calls = salesforce, 0

    def __call__(self) -> str:
        self.calls += 1
        return self.salesforce.issue_access_token()


def served(salesforce: SalesforceEmulator) -> int:
    return sum(salesforce.requests_served.values())


# --- REQUEST_LIMIT_EXCEEDED ----------------------------------------------------------------------


def test_request_limit_is_retried_with_backoff_then_succeeds(
    make, salesforce, sleeps, seeded_sandbox
):
    report = seeded_sandbox[1]
    crm = make(attempts=4)
    salesforce.exceed_request_limit(times=2)
    found = crm.match_contacts([report.single_address])
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1]
    assert salesforce.requests_served[QUERY] == 3 and crm.round_trips == 3


def test_request_limit_that_outlasts_the_retries_is_rate_limited(make, salesforce, sleeps):
    crm = make(attempts=3, default_retry_after=120)
    salesforce.exceed_request_limit(times=10)
    with pytest.raises(RateLimited) as raised:
        crm.match_contacts(["a@x.example"])
    assert raised.value.retryable and raised.value.retry_after == 120
    assert len(sleeps) == 2 and served(salesforce) == 3


def test_a_retry_after_salesforce_names_is_honoured(make, salesforce, sleeps):
    crm = make(max_retry_after=30)
    salesforce.inject(Reply(403, LIMIT_BODY, {"Retry-After": "2"}), times=1)
    assert crm.find_saved("<nothing@x.example>") is None
    assert sleeps == [2]
    salesforce.inject(Reply(403, LIMIT_BODY, {"Retry-After": "300"}), times=1)
    with pytest.raises(RateLimited) as raised:
        crm.find_saved("<nothing@x.example>")
    assert raised.value.retry_after == 300 and sleeps == [2]


def test_a_create_refused_for_the_limit_is_repeated(make, salesforce, sleeps):
    crm = make()
    salesforce.exceed_request_limit(times=1, method="POST", path="sobjects/Contact")
    created = crm.create_contact(ContactDraft(last_name="Limit", email="limit@x.example"))
    assert salesforce.requests_served[CREATE_CONTACT] == 2
    assert salesforce.record("Contact", created.id) is not None


# --- 5xx and dropped connections -----------------------------------------------------------------


def test_server_errors_are_retried_with_growing_backoff(make, salesforce, sleeps):
    crm = make(attempts=4, base_delay=0.01)
    salesforce.fail(500, times=2)
    assert crm.match_contacts(["a@x.example"]) == {"a@x.example": []}
    assert served(salesforce) == 3 and crm.round_trips == 3
    assert len(sleeps) == 2
    assert 0.005 <= sleeps[0] <= 0.01 and 0.01 <= sleeps[1] <= 0.02


def test_server_errors_that_persist_are_unavailable(make, salesforce, sleeps):
    crm = make(attempts=3)
    salesforce.fail(503, times=10)
    with pytest.raises(Unavailable) as raised:
        crm.get_accounts(["no-such-contact"])
    assert raised.value.retryable and "503" in str(raised.value)
    assert served(salesforce) == 3 and len(sleeps) == 2


def test_a_dropped_connection_is_retried(make, salesforce):
    crm = make()
    salesforce.drop(times=1)
    assert crm.find_saved("<nothing@x.example>") is None
    assert salesforce.requests_served[BATCH] == 2


def test_connections_that_keep_dropping_are_unavailable(make, salesforce):
    crm = make(attempts=3)
    salesforce.drop(times=10)
    with pytest.raises(Unavailable) as raised:
        crm.match_contacts(["a@x.example"])
    assert raised.value.retryable
    assert served(salesforce) == 3


def test_a_create_is_not_repeated_when_it_may_have_happened(make, salesforce):
    crm = make(attempts=3)
    draft = ContactDraft(last_name="Once", email="once@x.example")
    salesforce.fail(500, times=1, method="POST", path="sobjects/Contact")
    with pytest.raises(Unavailable):
        crm.create_contact(draft)
    salesforce.drop(times=1, method="POST", path="sobjects/Contact")
    with pytest.raises(Unavailable):
        crm.create_contact(draft)
    assert salesforce.requests_served[CREATE_CONTACT] == 2


def test_a_create_is_repeated_when_it_surely_did_not_happen(make, salesforce):
    crm = make(attempts=3)
    salesforce.fail(503, times=1, method="POST", path="sobjects/Contact")
    created = crm.create_contact(ContactDraft(last_name="Twice", email="twice@x.example"))
    assert salesforce.requests_served[CREATE_CONTACT] == 2
    found = crm.match_contacts(["twice@x.example"])["twice@x.example"]
    assert [c.id for c in found] == [created.id]


def test_a_crm_with_the_wrong_certificate_is_unavailable(salesforce):
    crm = SalesforceAdapter(
        salesforce.url, access_token=salesforce.issue_access_token(), retry=RetryPolicy(attempts=3)
    )  # verify=True: the system bundle does not hold the emulator's CA
    with pytest.raises(Unavailable) as raised:
        crm.match_contacts(["a@x.example"])
    assert "certificate" in str(raised.value)
    assert crm.round_trips == 1  # a certificate problem is not retried
    crm.close()


def test_a_real_wait_is_really_waited(salesforce):
    crm = SalesforceAdapter(
        salesforce.url,
        access_token=salesforce.issue_access_token(),
        verify=salesforce.ca_file,
        retry=RetryPolicy(attempts=2),
    )
    salesforce.inject(Reply(403, LIMIT_BODY, {"Retry-After": "1"}), times=1)
    started = time.monotonic()
    assert crm.match_contacts(["a@x.example"]) == {"a@x.example": []}
    assert time.monotonic() - started >= 1
    crm.close()


# --- sessions ------------------------------------------------------------------------------------


def test_an_expired_session_is_refreshed_once_and_the_call_succeeds(
    make, salesforce, seeded_sandbox
):
    report = seeded_sandbox[1]
    refresh = Refresh(salesforce)
    crm = make(refresh=refresh)
    salesforce.expire_access_tokens()
    found = crm.match_contacts([report.single_address])
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]
    assert refresh.calls == 1
    assert salesforce.requests_served[QUERY] == 2 and crm.round_trips == 2
    crm.contact_context([report.account_contact_id], report.related_contact_id)
    assert refresh.calls == 1  # the new token is used from now on


def test_an_expired_session_is_refreshed_for_a_batch_and_a_create(make, salesforce):
    refresh = Refresh(salesforce)
    crm = make(refresh=refresh)
    salesforce.expire_access_tokens()
    assert crm.find_saved("<nothing@x.example>") is None
    salesforce.expire_access_tokens()
    created = crm.create_contact(ContactDraft(last_name="Renewed", email="renewed@x.example"))
    assert refresh.calls == 2
    assert salesforce.record("Contact", created.id) is not None
    assert salesforce.requests_served[CREATE_CONTACT] == 2  # refused, not made: repeated


def test_a_revoked_refresh_token_is_not_signed_in(make, salesforce):
    def revoked() -> str:
        raise NotSignedIn("Sign in to Salesforce again.")

    crm = make(refresh=revoked)
    salesforce.expire_access_tokens()
    with pytest.raises(NotSignedIn) as raised:
        crm.match_contacts(["a@x.example"])
    assert str(raised.value) == "Sign in to Salesforce again."
    assert served(salesforce) == 1


def test_a_refresh_that_fails_otherwise_is_not_signed_in(make, salesforce):
    def broken() -> str:
        raise RuntimeError("invalid_grant: expired access/refresh token")

    crm = make(refresh=broken)
    salesforce.expire_access_tokens()
    with pytest.raises(NotSignedIn):
        crm.match_contacts(["a@x.example"])


def test_without_a_refresh_an_expired_session_is_not_signed_in(make, salesforce):
    crm = make()
    salesforce.expire_access_tokens()
    with pytest.raises(NotSignedIn):
        crm.find_saved("<x@y>")
    assert served(salesforce) == 1


def test_a_session_that_stays_invalid_is_not_signed_in_after_one_refresh(make, salesforce):
    refresh = Refresh(salesforce)
    crm = make(refresh=refresh)
    salesforce.invalid_session(times=5)
    with pytest.raises(NotSignedIn):
        crm.match_contacts(["a@x.example"])
    assert refresh.calls == 1 and served(salesforce) == 2


# --- other refusals ------------------------------------------------------------------------------


def test_a_refused_request_is_rejected_with_salesforces_message(make, salesforce):
    crm = make()
    salesforce.fail(400, times=1)
    with pytest.raises(Rejected) as raised:
        crm.match_contacts(["a@x.example"])
    assert raised.value.reason.startswith("An unexpected error occurred.")
    assert served(salesforce) == 1


def test_an_email_field_the_org_lacks_is_rejected_with_salesforces_message(salesforce):
    crm = SalesforceAdapter(
        salesforce.url,
        access_token=salesforce.issue_access_token(),
        email_fields={"email1": "Email", "email2": "Work_Email__c"},
        verify=salesforce.ca_file,
    )
    with pytest.raises(Rejected) as raised:
        crm.match_contacts(["a@x.example"])
    assert "Work_Email__c" in raised.value.reason
    crm.close()


def test_a_contact_for_an_account_that_does_not_exist_is_not_found(make, salesforce):
    crm = make()
    with pytest.raises(NotFound):
        crm.create_contact(
            ContactDraft(last_name="Lost", email="lost@x.example", account_id="no-such-account")
        )


def test_nothing_secret_is_logged(salesforce, caplog, seeded_sandbox):
    report = seeded_sandbox[1]
    tokens = [salesforce.issue_access_token()]

    def refresh() -> str:
        tokens.append(salesforce.issue_access_token())
        return tokens[-1]

    crm = SalesforceAdapter(
        salesforce.url,
        access_token=tokens[0],
        refresh=refresh,
        verify=salesforce.ca_file,
        retry=RetryPolicy(attempts=2, base_delay=0.001),
    )
    salesforce.fail(503, times=1)
    with caplog.at_level(logging.DEBUG, logger="crm_adapters"):
        crm.match_contacts([report.single_address])
        salesforce.expire_access_tokens()
        crm.find_saved("<secret-message-id@mail.example>")
    crm.close()
    assert caplog.records, "requests are logged"
    assert len(tokens) == 2
    assert not [token for token in tokens if token in caplog.text]
    assert report.single_address not in caplog.text
    assert "secret-message-id" not in caplog.text
