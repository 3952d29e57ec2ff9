"""Fixtures shared by the whole suite: real servers and real data, built as the demo builds them.

* ``entra``: the loopback Entra emulator (TLS, JWKS, real signed tokens).
* ``sandbox``: a seeded sandbox CRM file per test session (copied per test when written to).
* ``database_url``: the local store, once on SQLite and once on PostgreSQL.
* ``app`` / ``client`` / ``auth``: the Flask app on those, and bearer headers for any rep.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addin import create_app, store
from addin.connections.sandbox import ENVIRONMENTS, environment_path, prepare
from crm_adapters.sandbox import SeedReport, seed
from tests.emulators.fixtures import (  # noqa: F401  (re-exported fixtures)
    dataverse,
    dataverse_server,
    discovery,
    entra,
    graph,
    graph_server,
    salesforce,
    salesforce_server,
)
from tests.sleeps import Sleeps

# Most tests are about what reps do in an organisation whose admin has consented and provisioned;
# the admin tests (tests/admin) turn the gate of rules 19-20 back on in their app's config. Set
# in the environment so worker processes started by tests inherit it too.
os.environ.setdefault("SIDEPANE_REQUIRE_PROVISIONING", "false")

API_AUDIENCE = "6f1c2b7e-2d9a-4c55-9e44-3c0d1b8f0a11"
TENANT = "9b2f4c1e-5a6d-4e8f-a1b2-c3d4e5f60718"
SANDBOX_CONTACTS = 400
POSTGRES_ADMIN_URL = os.environ.get(
    "SIDEPANE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def sleeps() -> Sleeps:
    """Waits a retry policy would have slept, recorded instead (the tests never wait)."""
    return Sleeps()


@pytest.fixture(scope="session")
def seeded_sandbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SeedReport]:
    """Seed one small sandbox per test process (every environment); tests copy it to write."""
    path = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    report = seed(path, SANDBOX_CONTACTS, seed=7)
    prepare(str(path), SANDBOX_CONTACTS)  # the other environments: copies and a small Fabrikam
    return path, report


@pytest.fixture
def sandbox(seeded_sandbox: tuple[Path, SeedReport], tmp_path: Path) -> tuple[Path, SeedReport]:
    """Return a private copy of the seeded sandbox and what the seed guarantees in it."""
    source, report = seeded_sandbox
    target = tmp_path / "sandbox.db"
    for environment in ENVIRONMENTS:
        shutil.copyfile(
            environment_path(source, environment.id), environment_path(target, environment.id)
        )
    return target, report


def _postgres_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sidepane_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"CI must reach PostgreSQL at {POSTGRES_ADMIN_URL}: {error}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return an empty, migrated local store: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sidepane.db'}"
        store.upgrade(url)
        yield url
        return
    for url in _postgres_database():
        store.upgrade(url)
        yield url


@pytest.fixture
def app(
    entra,  # noqa: F811
    sandbox: tuple[Path, SeedReport],
    database_url: str,
    tmp_path: Path,
) -> Iterator[Flask]:
    """Return the app as production configures it, against the emulator and the sandbox."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "API_AUDIENCE": API_AUDIENCE,
            "ENTRA_AUTHORITY": entra.url,
            "CA_FILE": entra.ca_file,
            "DATABASE_URL": database_url,
            "SANDBOX_PATH": str(sandbox[0]),
            "INTERNAL_DOMAINS": ["contoso.example"],
            "BROKER_URL": "memory://",
        }
    )
    yield application
    application.extensions["store_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(entra) -> Callable[..., dict[str, str]]:  # noqa: F811
    """Return a function giving the Authorization header of a rep (by name) of the test tenant."""

    def headers(rep: str = "alex", **claims: object) -> dict[str, str]:
        token = entra.issue_token(
            tenant_id=claims.pop("tenant_id", TENANT),
            oid=claims.pop("oid", str(uuid.uuid5(uuid.NAMESPACE_DNS, rep))),
            audience=claims.pop("audience", API_AUDIENCE),
            email=f"{rep}@contoso.example",
            name=rep.capitalize(),
            **claims,
        )
        return {"Authorization": f"Bearer {token}"}

    return headers
