"""The Outlook add-in manifest (XML, "add-in only" format) for one deployment of Sidepane.

``sidepane manifest --base-url https://crm-pane.example.com --app-id <GUID> [--output FILE]``
prints it; ``build_manifest(base_url, app_id)`` returns it as text.

Features
--------
* A mail add-in (``OfficeApp xsi:type="MailApp"``) for Outlook on the web, new Outlook, classic
  Outlook on Windows and Outlook on Mac; activates on messages and appointments, read and compose.
* One ribbon button on four surfaces (message read, message compose, appointment attendee,
  appointment organizer) opening the pane at ``<base URL>/pane``, pinnable
  (``SupportsPinning``, schema 1.1, Mailbox 1.5).
* Shared and delegated mailboxes: ``SupportsSharedFolders``.
* Single sign-on: ``WebApplicationInfo`` with the Entra client id, the Application ID URI
  ``api://<host>/<client id>`` and the Microsoft Graph permissions the backend uses
  (``xml_manifest.GRAPH_SCOPES``).
* Icons served by the app at ``<base URL>/static/icons/icon-{16,32,64,80,128}.png``
  (``python -m manifest.icons`` redraws them).
* Elements in schema order, checked by the tests against ``order.ELEMENT_ORDER``, the published
  ordering transcribed as data; values escaped, inputs validated (``ValueError`` naming the
  problem).

Configuration
-------------
base_url      public https URL the app is served at (a path prefix is allowed); no query/fragment.
              Only https: Outlook loads add-ins over HTTPS alone, loopback included.
app_id        the add-in's Entra application (client) id, as in SIDEPANE_API_AUDIENCE.
version       the manifest version, up to four numbers (1.0.0.0); raise it for each change.
addin_id      the manifest's own <Id>; derived from app_id by default, so it stays put.
"""

from __future__ import annotations

from .order import ELEMENT_ORDER, misplaced_elements
from .xml_manifest import GRAPH_SCOPES, build_manifest, normalise_base_url, sso_resource

__all__ = [
    "ELEMENT_ORDER",
    "GRAPH_SCOPES",
    "build_manifest",
    "misplaced_elements",
    "normalise_base_url",
    "sso_resource",
]
