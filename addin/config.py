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
CRMS                 the CRMs reps may connect to, by registry name; the first is the default.
SANDBOX_PATH         SQLite file of the sandbox CRM's production environment (others beside it).
REQUIRE_PROVISIONING  reps' CRM features wait until an admin consented and provisioning passed
                     (rules 19-20); true unless a deployment's admin set everything up by hand.
ADMIN_CONSENT_SCOPE  what the Provide consent link asks for (https://graph.microsoft.com/.default).

Organisation settings (rule 21): each tenant's admin changes them in the admin pages or the JSON
API (`addin.services.tenant_settings`); these keys are only what a tenant starts with.
INLINE_CONTACT_CREATION  Add to CRM opens our New contact form (true) or the CRM's own (false).
RELATED_ITEMS        how many related items the pane shows before "Show more" (up to 10).
EMAIL_FIELDS         the contact email fields matched (email1..email3: all by default, rule 6).
SHOWN_RECORD_TYPES   the related records the Account tab lists (opportunity, case, activity).
OFFICE_JS_URL        where the pane loads Office.js from (Microsoft's CDN; a stand-in in demo).
API_AUDIENCE         the add-in's Entra app (client) id; access tokens must be issued for it.
ENTRA_AUTHORITY      where Entra's keys live (https://login.microsoftonline.com).
ALLOWED_TENANTS      optional list of Entra tenant ids allowed to call the API.
CA_FILE              extra CA bundle for talking to a private authority (tests, emulators).
ENTRA_CLIENT_SECRET  the add-in app's client secret, for the on-behalf-of exchange (Dynamics).
DYNAMICS_DISCOVERY_URL  Global Discovery (https://globaldisco.crm.dynamics.com).
DISCOVERY_TTL        seconds a rep's list of Dynamics environments is reused (300).
SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET   the Salesforce connected app (OAuth, PKCE).
SALESFORCE_LOGIN_URL, SALESFORCE_SANDBOX_LOGIN_URL  the production and sandbox login hosts.
SALESFORCE_EMAIL_FIELDS  our email fields -> the org's Contact fields ({"email1": "Email"}).
ENCRYPTION_KEYS      Fernet keys sealing reps' tokens at rest, newest first; derived from
                     SECRET_KEY when unset (see `addin.store.sealed`).
INTERNAL_DOMAINS     mail domains that are the organisation's own: never offered as new contacts.
MAX_CONTENT_LENGTH   largest request body accepted, in bytes.
BROKER_URL           Celery's broker (redis://, amqp://); the filesystem transport when unset.
TASK_QUEUE           the queue's name on the broker ("sidepane"), for deployments sharing one.
MAILBOX              where workers read items: "graph" (Microsoft Graph), "harness" (demo
                     samples); "harness" in demo mode, else "graph".
GRAPH_URL            Microsoft Graph (https://graph.microsoft.com/; the emulator in tests).
ATTACHMENT_MAX_BYTES     largest attachment saved with an email (rule 18; a setting).
ATTACHMENT_EXTENSIONS    file name extensions saved (lower case, no dot; a setting).
ATTACHMENT_MIME_TYPES    content types saved ("image/*" matches a family); a file must pass both.
AUTO_SAVE_REPLIES    save replies in saved conversations automatically (rule 15; a setting).
SAVE_RECORD_TYPES    record types the save card searches to connect an item to (a setting).
SAVE_LEASE_SECONDS   how long a worker holds a job before another may take it over (300).
SAVE_SWEEP_SECONDS   how often the sweep re-sends due, lost or abandoned jobs (30).
SAVE_REDELIVER_SECONDS  a queued job untouched this long after it was sent is sent again (120).
SAVE_MAX_ATTEMPTS    tries before a job fails for good (a rep can still Retry).
DRAFT_CHECK_SECONDS  how often a draft waiting to be sent is looked for in Sent Items (60).
DRAFT_WAIT_DAYS      how long a draft may wait to be sent before its save gives up (14).
REPLY_CHECK_SECONDS  how often saved conversations are looked through for replies (300).
REPLY_WINDOW_DAYS    how long after a save its conversation is watched for replies (30).
MAILBOX_CHECK_TTL    seconds the CRM's word on a rep's mailbox (server-side sync) is reused.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from flask import Config

#: Microsoft's hosted Office.js, the only third-party script the pane loads.
OFFICE_JS_CDN = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
#: The local stand-in that plays Outlook in demo mode and in tests.
OFFICE_JS_STANDIN = "/static/harness/office.js"
#: Microsoft Entra ID's sign-in host: its keys, its token and admin-consent endpoints.
ENTRA_AUTHORITY = "https://login.microsoftonline.com"


#: Attachments saved by default (rule 18): documents, images, text and archives; never programs
#: or scripts, whatever their content type claims (so no SVG either: it can carry script).
DEFAULT_ATTACHMENT_EXTENSIONS = (
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "txt",
    "csv", "md", "xml", "json", "eml", "msg", "ics", "vcf",
    "png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp", "heic",
    "zip", "7z",
)  # fmt: skip
DEFAULT_ATTACHMENT_MIME_TYPES = (
    "application/pdf", "application/msword", "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.ms-*", "application/vnd.oasis.opendocument.*", "application/rtf",
    "application/xml", "application/json", "application/zip", "application/x-7z-compressed",
    "application/octet-stream", "message/rfc822", "text/*", "image/*",
)  # fmt: skip


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
        "CRMS": ["sandbox"],
        "SANDBOX_PATH": os.path.join(instance_path, "sandbox.db"),
        "API_AUDIENCE": "",
        "ENTRA_AUTHORITY": ENTRA_AUTHORITY,
        "ALLOWED_TENANTS": None,
        "CA_FILE": None,
        "INTERNAL_DOMAINS": [],
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "BROKER_URL": "",
        "REQUIRE_PROVISIONING": True,
        "ADMIN_CONSENT_SCOPE": "https://graph.microsoft.com/.default",
        "INLINE_CONTACT_CREATION": True,
        "RELATED_ITEMS": 3,
        "EMAIL_FIELDS": ["email1", "email2", "email3"],
        "SHOWN_RECORD_TYPES": ["opportunity", "case", "activity"],
        "OFFICE_JS_URL": OFFICE_JS_CDN,
        "ENTRA_CLIENT_SECRET": "",
        "DYNAMICS_DISCOVERY_URL": "https://globaldisco.crm.dynamics.com",
        "DISCOVERY_TTL": 300,
        "ENCRYPTION_KEYS": [],
        "SALESFORCE_CLIENT_ID": "",
        "SALESFORCE_CLIENT_SECRET": "",
        "SALESFORCE_LOGIN_URL": "https://login.salesforce.com",
        "SALESFORCE_SANDBOX_LOGIN_URL": "https://test.salesforce.com",
        "SALESFORCE_EMAIL_FIELDS": {"email1": "Email"},
        "TASK_QUEUE": "sidepane",
        "MAILBOX": "",
        "GRAPH_URL": "https://graph.microsoft.com/",
        "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
        "ATTACHMENT_EXTENSIONS": list(DEFAULT_ATTACHMENT_EXTENSIONS),
        "ATTACHMENT_MIME_TYPES": list(DEFAULT_ATTACHMENT_MIME_TYPES),
        "AUTO_SAVE_REPLIES": True,
        "SAVE_RECORD_TYPES": ["account", "case", "opportunity", "contact"],
        "SAVE_LEASE_SECONDS": 300,
        "SAVE_SWEEP_SECONDS": 30,
        "SAVE_REDELIVER_SECONDS": 120,
        "SAVE_MAX_ATTEMPTS": 10,
        "DRAFT_CHECK_SECONDS": 60,
        "DRAFT_WAIT_DAYS": 14,
        "REPLY_CHECK_SECONDS": 300,
        "REPLY_WINDOW_DAYS": 30,
        "MAILBOX_CHECK_TTL": 900,
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
    crms = config["CRMS"]
    if isinstance(crms, str):
        crms = [c for c in crms.replace(",", " ").split() if c]
    if not crms:
        raise ConfigError("Set SIDEPANE_CRMS to at least one CRM, e.g. 'sandbox'.")
    config["CRMS"] = list(crms)
    config["RELATED_ITEMS"] = min(max(int(config["RELATED_ITEMS"]), 1), 10)
    if not config["MAILBOX"]:
        config["MAILBOX"] = "harness" if config["DEMO"] else "graph"
    if config["MAILBOX"] not in ("graph", "harness"):
        raise ConfigError(f"SIDEPANE_MAILBOX is {config['MAILBOX']!r}; use 'graph' or 'harness'.")
    if config["MAILBOX"] == "harness" and not config["DEMO"]:
        raise ConfigError(
            "The harness mailbox holds demo samples only; set SIDEPANE_MAILBOX=graph."
        )
    if int(config["ATTACHMENT_MAX_BYTES"]) < 0:
        raise ConfigError("SIDEPANE_ATTACHMENT_MAX_BYTES cannot be negative.")
    if config["DEMO"] and not config["INTERNAL_DOMAINS"]:
        config["INTERNAL_DOMAINS"] = ["contoso.example"]  # the demo organisation's own domain
    if config["DEMO"] and config["ENTRA_AUTHORITY"] == ENTRA_AUTHORITY:
        # The harness plays Entra's admin-consent page too (demo tokens need no authority).
        config["ENTRA_AUTHORITY"] = config["BASE_URL"] + "/harness/entra"
    if config["DEMO"] and config["OFFICE_JS_URL"] == OFFICE_JS_CDN:
        config["OFFICE_JS_URL"] = OFFICE_JS_STANDIN  # the harness plays Outlook
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
    if "dynamics" in config["CRMS"] and not config["ENTRA_CLIENT_SECRET"]:
        raise ConfigError(
            "Dynamics 365 signs reps in on their behalf: set SIDEPANE_ENTRA_CLIENT_SECRET to "
            "the add-in app's client secret."
        )
    if "salesforce" in config["CRMS"] and not (
        config["SALESFORCE_CLIENT_ID"] and config["SALESFORCE_CLIENT_SECRET"]
    ):
        raise ConfigError(
            "Salesforce reps sign in through Sidepane's connected app: set "
            "SIDEPANE_SALESFORCE_CLIENT_ID and SIDEPANE_SALESFORCE_CLIENT_SECRET."
        )
    if not config["SECRET_KEY"]:
        if not config["DEMO"]:
            raise ConfigError("Set SIDEPANE_SECRET_KEY to a long random value.")
        config["SECRET_KEY"] = "demo-only-" + os.urandom(16).hex()
