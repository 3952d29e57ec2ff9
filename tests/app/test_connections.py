"""The rep's connection to a CRM environment (rules 2-5), at the service level."""

from __future__ import annotations

import pytest

from addin import connections
from addin.auth import DEMO_TENANT
from addin.connections.sandbox import SandboxDirectory
from addin.errors import ApiError
from addin.identity import Identity
from addin.store import make_engine
from crm_adapters.models import Environment


def env(env_id: str, kind: str) -> Environment:
    return Environment(env_id, env_id.title(), kind, f"https://{env_id}.example", "sandbox")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["production"], "e0"),
        (["sandbox"], "e0"),
        (["sandbox", "production", "sandbox"], "e1"),
        (["production", "production"], None),
        (["sandbox", "sandbox"], None),
        (["production", "production", "sandbox"], None),
        ([], None),
    ],
)
def test_the_automatic_connection_rule(kinds, expected):
    environments = [env(f"e{i}", kind) for i, kind in enumerate(kinds)]
    chosen = connections.automatic_choice(environments)
    assert (chosen.id if chosen else None) == expected


@pytest.fixture
def session(database_url):
    from sqlalchemy.orm import Session

    engine = make_engine(database_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture
def directories(sandbox):
    return {"sandbox": SandboxDirectory(str(sandbox[0]), "http://127.0.0.1:8000")}


def rep(name: str) -> Identity:
    return Identity(
        tenant_id=DEMO_TENANT,
        user_oid=f"demo-{name}",
        email=f"{name}@contoso.example",
        name=name,
        roles=frozenset(),
        scopes=frozenset({"access_as_user"}),
    )


@pytest.mark.parametrize(("name", "connected_to"), [("alex", "contoso"), ("kim", "contoso-test")])
def test_first_open_connects_by_itself_when_the_rule_allows(
    session, directories, name, connected_to
):
    state = connections.state(session, rep(name), directories, "sandbox")
    assert state.status == "connected" and state.automatic
    assert state.environment is not None and state.environment.id == connected_to
    again = connections.state(session, rep(name), directories, "sandbox")
    assert again.status == "connected" and not again.automatic  # says "connected" only once


@pytest.mark.parametrize("name", ["sam", "lee"])
def test_first_open_asks_to_choose_otherwise(session, directories, name):
    state = connections.state(session, rep(name), directories, "sandbox")
    assert state.status == "choose" and state.environment is None
    assert len(state.environments) == 3
    assert all(e.url.startswith("http://127.0.0.1:8000/sandbox/") for e in state.environments)


def test_the_picker_lists_the_most_recently_used_first(session, directories):
    sam = rep("sam")
    connections.connect(session, sam, directories, "sandbox", "fabrikam-dev")
    connections.connect(session, sam, directories, "sandbox", "fabrikam")
    state = connections.state(session, sam, directories, "sandbox")
    assert state.environment.id == "fabrikam"
    assert [e.id for e in state.environments] == ["fabrikam", "fabrikam-dev", "contoso"]


def test_only_an_environment_the_directory_returned_can_be_connected(session, directories):
    with pytest.raises(ApiError) as refused:
        connections.connect(session, rep("kim"), directories, "sandbox", "fabrikam")
    assert refused.value.status == 404
    with pytest.raises(ApiError):
        connections.connect(session, rep("kim"), directories, "sandbox", "https://evil.example")
    with pytest.raises(ApiError) as unknown_crm:
        connections.connect(session, rep("kim"), directories, "dynamics", "x")
    assert "sandbox" in unknown_crm.value.message


def test_signing_out_then_in_returns_to_the_same_environment(session, directories):
    sam = rep("sam")
    connections.connect(session, sam, directories, "sandbox", "fabrikam")
    connections.sign_out(session, sam, directories, "sandbox")
    signed_out = connections.state(session, sam, directories, "sandbox")
    assert signed_out.status == "signed_out" and signed_out.environments == ()
    back = connections.sign_in(session, sam, directories, "sandbox")
    assert back.status == "connected" and back.environment.id == "fabrikam"


def test_an_environment_that_disappeared_must_be_chosen_again(session, directories):
    alex = rep("alex")
    connections.connect(session, alex, directories, "sandbox", "contoso-training")
    # Discovery stops returning it (the rep lost access): alex now sees only the defaults.
    from addin.connections import sandbox

    original = sandbox.DEMO_REPS["alex"]
    sandbox.DEMO_REPS["alex"] = ("contoso", "contoso-test")
    try:
        state = connections.state(session, alex, directories, "sandbox")
        assert state.status == "choose" and state.lost_environment
        signed_in = connections.sign_in(session, alex, directories, "sandbox")
        assert signed_in.status == "connected" and signed_in.environment.id == "contoso"
    finally:
        sandbox.DEMO_REPS["alex"] = original


def test_switching_crm_applies_the_rule_in_the_other_crm(session, directories, sandbox):
    both = {**directories, "other": SandboxDirectory(str(sandbox[0]), "http://127.0.0.1:9000")}
    both["other"].crm = "other"  # type: ignore[misc]
    both["other"].label = "Other CRM"  # type: ignore[misc]
    sam = rep("sam")
    state = connections.choose_crm(session, sam, both, "other")
    assert state.crm == "other" and state.status == "choose"
    assert connections.state(session, sam, both, "sandbox").crm == "other"  # it sticks
    with pytest.raises(ApiError):
        connections.choose_crm(session, sam, both, "nope")


def test_a_rep_connection_is_their_own(session, directories):
    connections.connect(session, rep("sam"), directories, "sandbox", "fabrikam")
    other = Identity(
        tenant_id="another-tenant",
        user_oid="demo-sam",
        email="sam@fabrikam.example",
        name="Sam",
        roles=frozenset(),
        scopes=frozenset(),
    )
    state = connections.state(session, other, directories, "sandbox")
    assert state.status == "connected" and state.environment.id == "contoso"  # defaults, not sam's
