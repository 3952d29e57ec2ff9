"""Admin consent (rule 19): the Provide consent link, and trusting the identity provider's answer.

`consent` on the local store, SQLite then PostgreSQL. The return from Entra carries no token, so
the state in the link is all that ties it to an admin: single-use, expiring, of one tenant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from addin import store
from addin.identity import Identity
from addin.services import consent
from addin.store.models import AdminAudit, ConsentRequest

TENANT = "3f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
OTHER_TENANT = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
ADA = Identity(
    tenant_id=TENANT,
    user_oid="ada-oid",
    email="ada@contoso.example",
    name="Ada Admin",
    roles=frozenset({"Sidepane.Admin"}),
    scopes=frozenset({"access_as_user"}),
)
CONFIG: dict[str, Any] = {
    "API_AUDIENCE": "6f1c2b7e-2d9a-4c55-9e44-3c0d1b8f0a11",
    "ADMIN_CONSENT_SCOPE": "https://graph.microsoft.com/.default",
    "BASE_URL": "https://sidepane.contoso.example",
    "ENTRA_AUTHORITY": "https://login.microsoftonline.com/",
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = store.make_engine(database_url)
    yield made
    made.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as opened:
        yield opened


def link_state(session: Session, admin: Identity = ADA) -> str:
    link = consent.consent_link(session, admin, CONFIG)
    session.commit()
    return parse_qs(urlsplit(link).query)["state"][0]


def finish(session: Session, **answer: str) -> consent.ConsentState:
    _tenant, state = consent.finish(session, answer)
    session.commit()
    return state


def refused_return(session: Session, **answer: str) -> str:
    with pytest.raises(consent.InvalidReturn) as invalid:
        consent.finish(session, answer)
    session.rollback()
    return invalid.value.code


def audit(session: Session) -> list[tuple[str, Any, Any]]:
    rows = session.scalars(select(AdminAudit).order_by(AdminAudit.id))
    return [(r.action, json.loads(r.old_value), json.loads(r.new_value)) for r in rows]


def test_the_link_opens_entras_admin_consent_for_the_admins_tenant(session):
    link = consent.consent_link(session, ADA, CONFIG)
    session.commit()
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"https://login.microsoftonline.com/{TENANT}/v2.0/adminconsent"
    )
    query = parse_qs(parts.query)
    assert {name: values for name, values in query.items() if name != "state"} == {
        "client_id": [CONFIG["API_AUDIENCE"]],
        "scope": ["https://graph.microsoft.com/.default"],
        "redirect_uri": ["https://sidepane.contoso.example/admin/consent/return"],
    }
    [state] = query["state"]
    assert len(state) >= 40  # 32 random bytes
    stored = session.get(ConsentRequest, state)
    assert stored is not None and (stored.tenant_id, stored.user_oid) == (TENANT, "ada-oid")


def test_a_page_shown_again_hands_out_the_same_link_and_another_admin_gets_their_own(session):
    first = link_state(session)
    assert link_state(session) == first
    ben = dataclasses.replace(ADA, user_oid="ben-oid", name="Ben")
    assert link_state(session, ben) != first


def test_a_granted_consent_is_recorded_for_the_states_tenant(session):
    state = link_state(session)
    found = finish(session, admin_consent="True", tenant=TENANT, state=state)
    assert found.granted and found.by == "Ada Admin" and found.at is not None
    recorded = consent.state_of(session, TENANT)
    assert (recorded.status, recorded.by) == ("granted", "Ada Admin")
    assert consent.state_of(session, OTHER_TENANT).status == ""
    assert audit(session) == [("consent", None, "granted")]


def test_a_state_is_used_once(session):
    state = link_state(session)
    finish(session, admin_consent="True", tenant=TENANT, state=state)
    assert refused_return(session, admin_consent="True", tenant=TENANT, state=state) == (
        "used_state"
    )
    # A used link is not handed out again either.
    assert link_state(session) != state
    assert len(audit(session)) == 1


def test_an_expired_state_records_nothing(session):
    state = link_state(session)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=consent.STATE_SECONDS + 60)
    session.execute(
        update(ConsentRequest).where(ConsentRequest.state == state).values(created_at=long_ago)
    )
    session.commit()
    assert refused_return(session, admin_consent="True", tenant=TENANT, state=state) == (
        "expired_state"
    )
    assert consent.state_of(session, TENANT).status == "" and audit(session) == []


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"admin_consent": "True", "tenant": TENANT, "state": "made-up"}, "unknown_state"),
        ({"admin_consent": "True", "tenant": TENANT}, "missing_state"),
        ({"admin_consent": "True", "tenant": TENANT, "state": ""}, "missing_state"),
        ({"admin_consent": "True", "tenant": TENANT, "state": "x" * 65}, "missing_state"),
    ],
)
def test_an_unknown_or_missing_state_records_nothing(session, answer, code):
    link_state(session)
    assert refused_return(session, **answer) == code
    assert consent.state_of(session, TENANT).status == "" and audit(session) == []


def test_a_state_returned_for_another_tenant_records_nothing(session):
    state = link_state(session)
    assert refused_return(session, admin_consent="True", tenant=OTHER_TENANT, state=state) == (
        "other_tenant"
    )
    assert consent.state_of(session, TENANT).status == ""
    assert consent.state_of(session, OTHER_TENANT).status == ""
    # The state was not used up by the forged return: the real one still counts.
    assert finish(session, admin_consent="True", tenant=TENANT, state=state).granted


def test_a_return_that_says_neither_yes_nor_no_records_nothing(session):
    state = link_state(session)
    assert refused_return(session, tenant=TENANT, state=state) == "no_answer"
    assert audit(session) == []


def test_a_refusal_is_recorded_with_the_providers_error(session):
    state = link_state(session)
    found = finish(
        session,
        error="access_denied",
        error_description="AADSTS65004: User declined to consent to access the app." + "x" * 2000,
        state=state,
    )
    assert (found.status, found.error) == ("refused", "access_denied")
    recorded = consent.state_of(session, TENANT)
    assert recorded.status == "refused" and recorded.error == "access_denied"
    assert recorded.error_description.startswith("AADSTS65004: User declined")
    assert len(recorded.error_description) == consent.DESCRIPTION_MAX
    assert audit(session) == [("consent", None, "refused")]


def test_a_refusal_after_a_grant_keeps_the_grant(session):
    finish(session, admin_consent="True", tenant=TENANT, state=link_state(session))
    later = link_state(session)
    finish(session, error="access_denied", error_description="The admin cancelled.", state=later)
    recorded = consent.state_of(session, TENANT)
    assert recorded.granted and recorded.error == ""
    assert audit(session) == [("consent", None, "granted"), ("consent", "granted", "refused")]


def test_a_grant_after_a_refusal_clears_the_error(session):
    finish(session, error="access_denied", error_description="No.", state=link_state(session))
    finish(session, admin_consent="True", tenant=TENANT, state=link_state(session))
    recorded = consent.state_of(session, TENANT)
    assert recorded.granted and (recorded.error, recorded.error_description) == ("", "")


def test_expired_links_are_forgotten_when_a_new_one_is_made(session):
    old = link_state(session)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=consent.STATE_SECONDS + 60)
    session.execute(
        update(ConsentRequest).where(ConsentRequest.state == old).values(created_at=long_ago)
    )
    session.commit()
    new = link_state(session)
    assert new != old
    assert session.get(ConsentRequest, old) is None
