"""Configuration: the defaults, and the checks that refuse an unsafe start.

Every key can be set as an environment variable with the ``SIDEPANE_`` prefix
(``SIDEPANE_DATABASE_URL``, ``SIDEPANE_PORT``...). Values that parse as JSON are taken as JSON
(``SIDEPANE_DEMO=true``, ``SIDEPANE_INTERNAL_DOMAINS='["contoso.com"]'``).

Configuration
-------------
DEMO                 demo mode: the demo identity and the dev harness; loopback only.
HOST, PORT           where ``sidepane serve`` / ``sidepane demo`` listen (127.0.0.1:8000).
BASE_URL             public URL of the app (record links); derived from HOST and PORT if unset.
DATABASE_URL         local store (SQLAlchemy URL); SQLite in the instance folder by default.
CRM                  registry name of the CRM adapter ("sandbox").
SANDBOX_PATH         SQLite file of the sandbox CRM.
API_AUDIENCE         the add-in's Entra app (client) id; access tokens must be issued for it.
ENTRA_AUTHORITY      where Entra's keys live (https://login.microsoftonline.com).
ALLOWED_TENANTS      optional list of Entra tenant ids allowed to call the API.
CA_FILE              extra CA bundle for talking to a private authority (tests, emulators).
INTERNAL_DOMAINS     mail domains that are the organisation's own: never offered as new contacts.
MAX_CONTENT_LENGTH   largest request body accepted, in bytes.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from flask import Config


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def defaults(instance_path: str) -> dict[str, Any]:
    """Return the embedded defaults: SQLite files in the instance folder, sandbox CRM."""
    return {
        "SECRET_KEY": None,
        "DEMO": False,
        "HOST": "127.0.0.1",
        "PORT": 8000,
        "BASE_URL": "",
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "sidepane.db"),
        "CRM": "sandbox",
        "SANDBOX_PATH": os.path.join(instance_path, "sandbox.db"),
        "API_AUDIENCE": "",
        "ENTRA_AUTHORITY": "https://login.microsoftonline.com",
        "ALLOWED_TENANTS": None,
        "CA_FILE": None,
        "INTERNAL_DOMAINS": [],
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "BROKER_URL": "",
    }


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` only ever listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def finish(config: Config) -> None:
    """Derive the missing values and refuse configurations that would be unsafe."""
    config["PORT"] = int(config["PORT"])
    if not config["BASE_URL"]:
        config["BASE_URL"] = f"http://{config['HOST']}:{config['PORT']}"
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")
    domains = config["INTERNAL_DOMAINS"]
    if isinstance(domains, str):
        domains = [d for d in domains.replace(",", " ").split() if d]
    config["INTERNAL_DOMAINS"] = [d.lower().lstrip("@") for d in domains]
    if config["DEMO"]:
        if not is_loopback(str(config["HOST"])):
            raise ConfigError(
                f"Demo mode signs everyone in as a demo rep, so it only runs on a loopback "
                f"address; HOST is {config['HOST']!r}. Unset SIDEPANE_DEMO or use 127.0.0.1."
            )
    elif not config["API_AUDIENCE"]:
        raise ConfigError(
            "Set SIDEPANE_API_AUDIENCE to the add-in's Entra application (client) id, "
            "or SIDEPANE_DEMO=true to try Sidepane on this machine."
        )
    if not config["SECRET_KEY"]:
        if not config["DEMO"]:
            raise ConfigError("Set SIDEPANE_SECRET_KEY to a long random value.")
        config["SECRET_KEY"] = "demo-only-" + os.urandom(16).hex()
