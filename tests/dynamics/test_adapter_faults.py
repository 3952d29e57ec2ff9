"""The Dynamics adapter against the Dataverse emulator's faults: throttling, 5xx, drops, tokens."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from crm_adapters import NotSignedIn, RateLimited, Rejected, Unavailable
from crm_adapters.dynamics import DynamicsAdapter, RetryPolicy
from crm_adapters.models import ContactDraft
from tests.emulators.dataverse import DataverseEmulator
from tests.emulators.entra import EntraEmulator
from tests.emulators.fixtures import dataverse, dataverse_server  # noqa: F401
from tests.sleeps import Sleeps

TENANT = "9b2f4c1e-5a6d-4e8f-a1b2-c3d4e5f60718"
REP_OID = "0c9e8f7a-6b5d-4c3e-9f1a-2b3c4d5e6f70"
CONTACTS = "GET /api/data/v9.2/contacts"


class Tokens:
    """A token source that records ``force_refresh`` and can start from a bad token."""

    def __init__(self, entra: EntraEmulator, audience: str, first: str | None = None) -> None:
        self.entra, self.audience, self.calls = entra, audience, []
        self.current = first

    def fresh(self, **options: object) -> str:
        return self.entra.issue_token(
            tenant_id=TENANT,
            oid=REP_OID,
            audience=self.audience,
            scopes=("user_impersonation",),
            **options,
        )

    def __call__(self, force_refresh: bool) -> str:
        self.calls.append(force_refresh)
        if force_refresh or self.current is None:
            self.current = self.fresh()
        return self.current


@pytest.fixture
def make(
    dataverse: DataverseEmulator,  # noqa: F811
    entra: EntraEmulator,
    sleeps: Sleeps,
) -> Iterator[Callable[..., DynamicsAdapter]]:
    made: list[DynamicsAdapter] = []

    def build(token: Callable[[bool], str] | None = None, **policy: float) -> DynamicsAdapter:
        retry = RetryPolicy(**{"attempts": 3, "base_delay": 0.01, "sleep": sleeps, **policy})
        adapter = DynamicsAdapter(
            dataverse.url,
            token=token or Tokens(entra, dataverse.url),
            verify=dataverse.ca_file,
            timeout=5,
            retry=retry,
        )
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


def served(dataverse: DataverseEmulator) -> int:  # noqa: F811
    return sum(dataverse.requests_served.values())


# --- 429 -----------------------------------------------------------------------------------------


def test_throttled_request_waits_retry_after_then_succeeds(make, dataverse, sleeps, seeded_sandbox):  # noqa: F811
    report = seeded_sandbox[1]
    crm = make()
    dataverse.throttle(times=2, retry_after=2)
    found = crm.match_contacts([report.single_address])
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]
    assert sleeps == [2, 2]
    assert dataverse.requests_served[CONTACTS] == 3
    assert crm.round_trips == 3


def test_throttling_that_outlasts_the_retries_is_rate_limited(make, dataverse, sleeps):  # noqa: F811
    crm = make(attempts=3)
    dataverse.throttle(times=10, retry_after=4)
    with pytest.raises(RateLimited) as raised:
        crm.match_contacts(["a@x.example"])
    assert raised.value.retry_after == 4 and raised.value.retryable
    assert sleeps == [4, 4]
    assert served(dataverse) == 3


def test_a_longer_wait_than_we_honour_is_rate_limited_at_once(make, dataverse, sleeps):  # noqa: F811
    crm = make(max_retry_after=30)
    dataverse.throttle(times=1, retry_after=300)
    with pytest.raises(RateLimited) as raised:
        crm.match_contacts(["a@x.example"])
    assert raised.value.retry_after == 300
    assert sleeps == [] and served(dataverse) == 1


def test_a_real_wait_is_really_waited(dataverse, entra):  # noqa: F811
    crm = DynamicsAdapter(
        dataverse.url,
        token=Tokens(entra, dataverse.url),
        verify=dataverse.ca_file,
        retry=RetryPolicy(attempts=2),
    )
    dataverse.throttle(times=1, retry_after=1)
    started = time.monotonic()
    assert crm.match_contacts(["a@x.example"]) == {"a@x.example": []}
    assert time.monotonic() - started >= 1
    crm.close()


# --- 5xx and dropped connections -----------------------------------------------------------------


def test_server_errors_are_retried_with_growing_backoff(make, dataverse, sleeps):  # noqa: F811
    crm = make(attempts=4, base_delay=0.01)
    dataverse.fail(503, times=2)
    assert crm.match_contacts(["a@x.example"]) == {"a@x.example": []}
    assert served(dataverse) == 3 and crm.round_trips == 3
    assert len(sleeps) == 2
    assert 0.005 <= sleeps[0] <= 0.01 and 0.01 <= sleeps[1] <= 0.02


def test_server_errors_that_persist_are_unavailable(make, dataverse, sleeps):  # noqa: F811
    crm = make(attempts=3)
    dataverse.fail(500, times=10)
    with pytest.raises(Unavailable) as raised:
        crm.get_accounts(["3f2504e0-4f89-11d3-9a0c-0305e82c3301"])
    assert raised.value.retryable and "500" in str(raised.value)
    assert served(dataverse) == 3 and len(sleeps) == 2


def test_dropped_connection_is_retried(make, dataverse):  # noqa: F811
    crm = make()
    dataverse.drop(times=1)
    assert crm.find_saved("<nothing@x.example>") is None
    assert served(dataverse) == 2


def test_connections_that_keep_dropping_are_unavailable(make, dataverse):  # noqa: F811
    crm = make(attempts=3)
    dataverse.drop(times=10)
    with pytest.raises(Unavailable):
        crm.match_contacts(["a@x.example"])
    assert served(dataverse) == 3


def test_a_create_is_not_repeated_when_it_may_have_happened(make, dataverse):  # noqa: F811
    crm = make(attempts=3)
    draft = ContactDraft(last_name="Once", email="once@x.example")
    dataverse.fail(500, times=1, method="POST", path="contacts")
    with pytest.raises(Unavailable):
        crm.create_contact(draft)
    dataverse.drop(times=1, method="POST", path="contacts")
    with pytest.raises(Unavailable):
        crm.create_contact(draft)
    assert dataverse.requests_served["POST /api/data/v9.2/contacts"] == 2


def test_a_create_is_repeated_when_it_surely_did_not_happen(make, dataverse, sleeps):  # noqa: F811
    crm = make(attempts=3)
    dataverse.throttle(times=1, retry_after=1, method="POST", path="contacts")
    created = crm.create_contact(ContactDraft(last_name="Twice", email="twice@x.example"))
    assert dataverse.requests_served["POST /api/data/v9.2/contacts"] == 2
    assert [c.id for c in crm.match_contacts(["twice@x.example"])["twice@x.example"]] == [
        created.id
    ]


def test_a_create_answered_503_is_not_repeated_as_it_may_have_been_written(
    make,
    dataverse,  # noqa: F811
    sleeps,
):
    crm = make(attempts=3)
    dataverse.fail(503, times=1, method="POST", path="contacts")
    with pytest.raises(Unavailable):
        crm.create_contact(ContactDraft(last_name="Once", email="once@x.example"))
    assert dataverse.requests_served["POST /api/data/v9.2/contacts"] == 1


def test_a_crm_with_the_wrong_certificate_is_unavailable(dataverse, entra):  # noqa: F811
    crm = DynamicsAdapter(
        dataverse.url, token=Tokens(entra, dataverse.url), retry=RetryPolicy(attempts=3)
    )  # verify=True: the system bundle does not hold the emulator's CA
    with pytest.raises(Unavailable) as raised:
        crm.match_contacts(["a@x.example"])
    assert "certificate" in str(raised.value)
    crm.close()


# --- tokens --------------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_once(make, dataverse, entra, seeded_sandbox):  # noqa: F811
    report = seeded_sandbox[1]
    tokens = Tokens(entra, dataverse.url)
    tokens.current = tokens.fresh(expires_in=-60)
    crm = make(token=tokens)
    found = crm.match_contacts([report.single_address])
    assert [c.id for c in found[report.single_address]] == [report.single_contact_id]
    assert tokens.calls == [False, True]
    assert dataverse.requests_served[CONTACTS] == 2 and crm.round_trips == 2
    crm.match_contacts([report.single_address])  # the fresh token is used from now on
    assert tokens.calls == [False, True, False]


def test_a_token_that_stays_bad_is_not_signed_in_after_one_refresh(make, dataverse, entra):  # noqa: F811
    calls: list[bool] = []

    def stale(force_refresh: bool) -> str:
        calls.append(force_refresh)
        return entra.issue_token(
            tenant_id=TENANT, oid=REP_OID, audience="https://someone-else.example"
        )

    crm = make(token=stale)
    with pytest.raises(NotSignedIn):
        crm.match_contacts(["a@x.example"])
    assert calls == [False, True]
    assert served(dataverse) == 2


def test_a_token_source_that_fails_is_not_signed_in(make, dataverse):  # noqa: F811
    def broken(force_refresh: bool) -> str:
        raise RuntimeError("msal: AADSTS50076 interaction required")

    with pytest.raises(NotSignedIn):
        make(token=broken).match_contacts(["a@x.example"])
    assert served(dataverse) == 0


# --- other refusals ------------------------------------------------------------------------------


def test_a_refused_request_is_rejected_with_dataverses_message(make, dataverse):  # noqa: F811
    crm = make()
    with pytest.raises(Rejected) as raised:
        crm.create_contact(ContactDraft(last_name="X" * 50, email="x@x.example", website="y" * 201))
    assert raised.value.reason.startswith("website")
    assert served(dataverse) == 0
    dataverse.fail(400, times=1)
    with pytest.raises(Rejected) as raised:
        crm.match_contacts(["a@x.example"])
    assert raised.value.reason == "An unexpected error occurred."


def test_nothing_secret_is_logged(make, dataverse, caplog, seeded_sandbox):  # noqa: F811
    report = seeded_sandbox[1]
    tokens = Tokens(entra=dataverse.entra, audience=dataverse.url)
    crm = make(token=tokens)
    dataverse.fail(503, times=1)
    with caplog.at_level(logging.DEBUG, logger="crm_adapters"):
        crm.match_contacts([report.single_address])
    assert caplog.records, "requests are logged"
    assert tokens.current and tokens.current not in caplog.text
    assert report.single_address not in caplog.text


def test_a_session_passed_in_is_left_open(dataverse, entra):  # noqa: F811
    session = requests.Session()
    crm = DynamicsAdapter(
        dataverse.url, token=Tokens(entra, dataverse.url), verify=dataverse.ca_file, session=session
    )
    crm.match_contacts(["a@x.example"])
    crm.close()
    assert session.adapters  # still usable: closing it is its owner's job
    session.close()
