"""The ``sidepane`` command: the one entry point for people and scripts.

sidepane demo                 seed the sandbox if needed, start a worker and the web app
sidepane serve                the web app on HOST:PORT (stops cleanly on Ctrl-C / SIGTERM)
sidepane seed --contacts N    (re)make the sandbox CRM with N realistic contacts
sidepane db upgrade           migrate the local store to the newest schema
sidepane openapi              print the API's OpenAPI document
sidepane manifest             print the Outlook add-in manifest (--base-url URL --app-id GUID)
sidepane routes | shell       Flask's own helpers
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import create_app, store
from .api import openapi
from .server import serve_until_stopped
from .signature.cli import signature_command


@click.group(cls=FlaskGroup, create_app=create_app)
def main() -> None:
    """Sidepane: the Outlook pane that connects a service rep's mailbox to the CRM."""


@main.group()
def db() -> None:
    """Manage the local store."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Bring the local store to the newest schema."""
    store.upgrade(current_app.config["DATABASE_URL"])
    click.echo("The local store is up to date.")


@main.command("seed")
@click.option("--contacts", default=2_000, show_default=True, help="How many contacts to make.")
@click.option(
    "--path", type=click.Path(dir_okay=False), help="Sandbox file (default: SANDBOX_PATH)."
)
@click.option("--seed", "rng_seed", default=1, show_default=True, help="Random seed.")
@with_appcontext
def seed_command(contacts: int, path: str | None, rng_seed: int) -> None:
    """Make the sandbox CRM afresh with realistic multilingual data."""
    if path:
        seed_sandbox(path, contacts, rng_seed)
        return
    from .connections.sandbox import ENVIRONMENTS, environment_path

    primary = current_app.config["SANDBOX_PATH"]
    for environment in ENVIRONMENTS:  # the other environments are remade from this one
        environment_path(primary, environment.id).unlink(missing_ok=True)
    seed_sandbox(primary, contacts, rng_seed)
    prepare_sandbox(primary, contacts)


def seed_sandbox(path: str, contacts: int, rng_seed: int = 1) -> None:
    """Seed the sandbox at ``path`` with a progress bar."""
    from crm_adapters.sandbox import seed

    started = time.monotonic()
    with click.progressbar(length=contacts, label=f"Seeding {contacts:,} contacts") as bar:
        shown = 0

        def progress(done: int, _total: int) -> None:
            nonlocal shown
            bar.update(done - shown)
            shown = done

        seed(path, contacts, seed=rng_seed, progress=progress)
    click.echo(f"Sandbox CRM ready at {path} ({time.monotonic() - started:.1f} s).")


def prepare_sandbox(primary: str, contacts: int) -> None:
    """Seed or copy the sandbox environments that have no data yet, showing progress."""
    from .connections.sandbox import prepare

    bars: dict[str, Any] = {}
    shown: dict[str, int] = {}

    def progress(name: str, done: int, total: int) -> None:
        if name not in bars:
            label = f"Seeding {name} ({total:,} contacts)"
            bars[name] = click.progressbar(length=total, label=label)
            bars[name].__enter__()
            shown[name] = 0
        bars[name].update(done - shown[name])
        shown[name] = done
        if done >= total:
            bars[name].__exit__(None, None, None)

    made = prepare(primary, contacts, progress=progress)
    if made:
        click.echo(f"Sandbox environments ready: {', '.join(made)}.")


@main.command("serve")
@with_appcontext
def serve_command() -> None:
    """Serve the app on HOST:PORT until Ctrl-C or SIGTERM."""
    serve_until_stopped(current_app._get_current_object())  # type: ignore[attr-defined]


@main.command("demo", with_appcontext=False)
@click.option("--contacts", default=2_000, show_default=True, help="Contacts to seed on first run.")
def demo_command(contacts: int) -> None:
    """Run the whole product on this machine: sandbox CRM, worker and web app."""
    os.environ["SIDEPANE_DEMO"] = "true"  # the worker process inherits demo mode too
    app = create_app()
    store.upgrade(app.config["DATABASE_URL"])
    prepare_sandbox(app.config["SANDBOX_PATH"], contacts)
    with app.app_context():
        prepare_demo_tenant()
    serve_until_stopped(app, with_worker=True)


def prepare_demo_tenant() -> bool:
    """Give a first demo a consented, provisioned organisation, so the pane works at once.

    Only when the demo tenant has no row yet: an admin who later turns the features off or
    consents again in the demo keeps what they did. The audit trail says who did it.
    """
    from .auth import DEMO_TENANT
    from .identity import Identity
    from .services import consent, tenant_settings
    from .store.models import Tenant, utcnow

    session = store.session()
    if session.get(Tenant, DEMO_TENANT) is not None:
        return False
    demo = Identity(DEMO_TENANT, "sidepane-demo", "", "Sidepane demo", frozenset(), frozenset())
    now = utcnow()
    session.add(
        Tenant(
            tenant_id=DEMO_TENANT,
            consent=consent.GRANTED,
            consent_by=demo.name,
            consent_at=now,
            crm_features=True,
            updated_at=now,
        )
    )
    tenant_settings.record(session, demo, "consent", "", None, consent.GRANTED)
    tenant_settings.record(session, demo, "crm_features", "", False, True)
    session.commit()
    return True


main.add_command(signature_command)


@main.command("openapi")
@with_appcontext
def openapi_command() -> None:
    """Print the OpenAPI document."""
    click.echo(json.dumps(openapi.document(current_app.config["BASE_URL"]), indent=2))


@main.command("manifest", with_appcontext=False)  # needs no configuration, only its options
@click.option(
    "--base-url",
    required=True,
    envvar="SIDEPANE_BASE_URL",
    show_envvar=True,
    help="Public https URL the app is served at.",
)
@click.option(
    "--app-id",
    required=True,
    envvar="SIDEPANE_API_AUDIENCE",
    show_envvar=True,
    help="The add-in's Entra application (client) id.",
)
@click.option(
    "--output",
    "-o",
    default="-",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the manifest to this file instead of stdout.",
)
def manifest_command(base_url: str, app_id: str, output: str) -> None:
    """Print the Outlook add-in manifest for the app served at BASE_URL."""
    from manifest import build_manifest

    try:
        xml = build_manifest(base_url, app_id)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    with click.open_file(output, "w", encoding="utf-8") as handle:
        handle.write(xml)
