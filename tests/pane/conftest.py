"""The pane's fragment endpoints through Flask's client, on the demo app and on Entra tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addin import create_app, store
from addin.auth import ADMIN_ROLE, DEMO_TENANT
from addin.identity import Identity
from addin.services import tenant_settings
from crm_adapters.sandbox import SeedReport

Post = Callable[..., Any]


@pytest.fixture
def demo_app(sandbox: tuple[Path, SeedReport], tmp_path: Path) -> Iterator[Flask]:
    from addin import store

    url = f"sqlite:///{tmp_path / 'pane.db'}"
    store.upgrade(url)
    app = create_app(
        {
            "TESTING": True,
            "DEMO": True,
            "BROKER_URL": "memory://",
            "DATABASE_URL": url,
            "SANDBOX_PATH": str(sandbox[0]),
        }
    )
    yield app
    app.extensions["store_engine"].dispose()


@pytest.fixture
def pane_post(demo_app: Flask) -> Post:
    """POST to a pane endpoint as a demo rep: ``pane_post(path, item, rep=..., fields=...)``."""
    client: FlaskClient = demo_app.test_client()

    def post(
        path: str,
        item: dict[str, Any] | None = None,
        *,
        rep: str = "alex",
        fields: dict[str, str] | None = None,
        body: str | None = None,
        language: str = "en-US",
    ) -> Any:
        payload: dict[str, Any] = {"item": item, "fields": fields or {}}
        if body is not None:
            payload["body"] = body
        return client.post(
            f"/pane{path}",
            json=payload,
            headers={"Authorization": f"Bearer demo:{rep}", "Accept-Language": language},
        )

    return post


def message(sender: tuple[str, str], *to: str, **extra: Any) -> dict[str, Any]:
    """A read-mode email as pane.js sends it."""
    return {
        "type": "message",
        "mode": "read",
        "subject": "Hello",
        "mailbox": "alex@contoso.example",
        "from": {"address": sender[0], "name": sender[1]},
        "to": [{"address": a, "name": ""} for a in to],
        "internet_message_id": "<m1@example.com>",
        **extra,
    }


#: The demo organisation's admin (``demo:admin``), who changes its settings.
DEMO_ADMIN = Identity(
    tenant_id=DEMO_TENANT,
    user_oid="demo-admin",
    email="admin@contoso.example",
    name="Admin",
    roles=frozenset({ADMIN_ROLE}),
    scopes=frozenset({"access_as_user"}),
)


def admin_sets(app: Flask, **changes: Any) -> None:
    """The demo organisation's admin changes settings (as the admin page and API save them)."""
    with app.app_context():
        session = store.session()
        tenant_settings.update(session, DEMO_ADMIN, changes, app.config)
        session.commit()
