"""Build the XML add-in manifest for one deployment of Sidepane.

The tree is written by hand in schema order (``manifest.order`` holds that order as data; the tests
check this module against it). Names are written with their prefixes (``bt:Image``) and each
VersionOverrides redeclares the default namespace, exactly as Microsoft's own manifests do: the
unprefixed ``xsi:type`` values (``VersionOverridesV1_1``, ``MailHost``, ``ShowTaskpane``...) are
QNames resolved against the default namespace in scope, so that namespace must change where the
overrides begin. ElementTree then only has to escape values and indent.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from urllib.parse import urlsplit

from .order import BASIC_TYPES_NS, OFFICE_APP_NS, OVERRIDES_1_0_NS, OVERRIDES_1_1_NS, XSI_NS

PANE_PATH = "/pane"
ICON_PATH = "/static/icons/icon-{size}.png"
BUTTON_ICON_SIZES = (16, 32, 80)  # what Outlook asks for on the ribbon
ICON_SIZE = 64  # IconUrl: 64x64 for mail add-ins
HIGH_RESOLUTION_ICON_SIZE = 128  # HighResolutionIconUrl: 128x128

# Mailbox 1.1 to install at all; the buttons (VersionOverrides) ask for more: add-in commands came
# with 1.3, and pinning the pane (ItemChanged) with 1.5. Shared folders (1.8) and shared mailboxes
# (1.13) are feature-detected by the pane, so older clients still get the pane.
MIN_MAILBOX = "1.1"
MIN_MAILBOX_COMMANDS = "1.3"
MIN_MAILBOX_PINNING = "1.5"

# Microsoft Graph delegated permissions the add-in's Entra app is registered with. For the XML
# manifest these are informational (consent dialog for store installs, the admin centre's list);
# the app registration is what grants them. The API's own scope (access_as_user) is not listed:
# Office asks for it through <Resource>, and the backend checks it on every call.
GRAPH_SCOPES = (
    "openid",  # sign-in: the token identifies the rep
    "profile",  # name and preferred_username in the token
    "offline_access",  # the workers keep acting for the rep (on-behalf-of, refreshed)
    "User.Read",  # the rep's own profile (mailbox address, display name)
    "Mail.Read",  # read the email being saved to the CRM, with its attachments
    "Mail.ReadWrite.Shared",  # the same in shared and delegated mailboxes (SupportsSharedFolders)
)

# The four places a button opens the pane: reading and writing mail, meetings one attends
# and meetings one organises. (Outlook pins panes for messages only; on appointments the
# SupportsPinning flag is accepted and ignored.)
SURFACES = (
    ("MessageReadCommandSurface", "msgRead"),
    ("MessageComposeCommandSurface", "msgCompose"),
    ("AppointmentAttendeeCommandSurface", "apptAttendee"),
    ("AppointmentOrganizerCommandSurface", "apptOrganizer"),
)

# Resource ids (at most 32 characters each).
RES_PANE_URL = "Sidepane.Pane.Url"
RES_GROUP_LABEL = "Sidepane.Group.Label"
RES_BUTTON_LABEL = "Sidepane.Button.Label"
RES_BUTTON_TOOLTIP = "Sidepane.Button.Tooltip"


def res_icon(size: int) -> str:
    """The resource id of the ribbon icon of ``size`` pixels."""
    return f"Sidepane.Icon.{size}"


DESCRIPTION = (
    "Your CRM beside every email and meeting: see who you are writing to, save emails and "
    "meetings to cases and accounts, and add unknown senders as contacts."
)
BUTTON_TOOLTIP = "Open the CRM pane for this item: its contacts, cases and accounts."

# Add-in ids are derived from the Entra app id in this namespace, so regenerating the manifest for
# the same deployment keeps Outlook's notion of "the same add-in".
ADDIN_ID_NAMESPACE = uuid.UUID("5b0d7c1e-8f2a-4c3b-9d6e-0a1b2c3d4e5f")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d{1,5}(?:\.\d{1,5}){0,3}$")
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_URL = 2048  # bt:URL
_SHORT = 125  # ShortString: DisplayName, ProviderName, short resource strings

NAMESPACES = {
    "xmlns": OFFICE_APP_NS,
    "xmlns:xsi": XSI_NS,
    "xmlns:bt": BASIC_TYPES_NS,
    "xmlns:mailappor": OVERRIDES_1_0_NS,
}


def build_manifest(
    base_url: str,
    app_id: str,
    *,
    version: str = "1.0.0.0",
    provider: str = "Sidepane",
    display_name: str = "Sidepane",
    addin_id: str | None = None,
    scopes: Sequence[str] = GRAPH_SCOPES,
) -> str:
    """Return the manifest XML (UTF-8 declaration included) for the app served at ``base_url``.

    ``app_id`` is the add-in's Entra application (client) id, the value of SIDEPANE_API_AUDIENCE.
    ``addin_id`` is the manifest's own <Id>; by default it is derived from ``app_id`` so that
    regenerating the manifest keeps it. Raises ``ValueError`` naming the first bad input.
    """
    base = normalise_base_url(base_url)
    client_id = _guid(app_id, "app_id")
    own_id = _guid(addin_id, "addin_id") if addin_id else derived_addin_id(client_id)
    if not _VERSION.fullmatch(version):
        raise ValueError(f"version must be 1 to 4 dot-separated numbers like 1.0.0.0: {version!r}")
    _short_text(provider, "provider")
    _short_text(display_name, "display_name")
    for scope in scopes:
        _short_text(scope, "each scope")
    if not scopes:
        raise ValueError("scopes must list at least one permission")

    root = ET.Element("OfficeApp", {**NAMESPACES, "xsi:type": "MailApp"})
    _text(root, "Id", own_id)
    _text(root, "Version", version)
    _text(root, "ProviderName", provider)
    _text(root, "DefaultLocale", "en-US")
    _child(root, "DisplayName", {"DefaultValue": display_name})
    _child(root, "Description", {"DefaultValue": DESCRIPTION})
    _child(root, "IconUrl", {"DefaultValue": icon_url(base, ICON_SIZE)})
    _child(
        root, "HighResolutionIconUrl", {"DefaultValue": icon_url(base, HIGH_RESOLUTION_ICON_SIZE)}
    )
    _child(root, "SupportUrl", {"DefaultValue": base + "/"})
    _text(_child(root, "AppDomains"), "AppDomain", origin(base))
    _child(_child(root, "Hosts"), "Host", {"Name": "Mailbox"})
    sets = _child(_child(root, "Requirements"), "Sets")
    _child(sets, "Set", {"Name": "Mailbox", "MinVersion": MIN_MAILBOX})
    # FormSettings only serve clients without add-in commands, but validation requires them.
    forms = _child(root, "FormSettings")
    read = _child(_child(forms, "Form", {"xsi:type": "ItemRead"}), "DesktopSettings")
    _child(read, "SourceLocation", {"DefaultValue": base + PANE_PATH})
    _text(read, "RequestedHeight", "250")
    edit = _child(_child(forms, "Form", {"xsi:type": "ItemEdit"}), "DesktopSettings")
    _child(edit, "SourceLocation", {"DefaultValue": base + PANE_PATH})
    _text(root, "Permissions", "ReadWriteItem")
    rules = _child(root, "Rule", {"xsi:type": "RuleCollection", "Mode": "Or"})
    for item_type in ("Message", "Appointment"):
        for form_type in ("Read", "Edit"):
            attrs = {"xsi:type": "ItemIs", "ItemType": item_type, "FormType": form_type}
            _child(rules, "Rule", attrs)
    _text(root, "DisableEntityHighlighting", "false")

    # VersionOverrides 1.0 for clients that stop there; 1.1 nested at its end for the rest, with
    # what only 1.1 knows: pinning, shared folders and single sign-on.
    overrides = _version_overrides(root, "1.0", base, display_name)
    v1_1 = _version_overrides(overrides, "1.1", base, display_name)
    sso = _child(v1_1, "WebApplicationInfo")
    _text(sso, "Id", client_id)
    _text(sso, "Resource", sso_resource(base, client_id))
    granted = _child(sso, "Scopes")
    for scope in scopes:
        _text(granted, "Scope", scope)

    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _version_overrides(parent: ET.Element, schema: str, base: str, label: str) -> ET.Element:
    v1_1 = schema == "1.1"
    overrides = _child(
        parent,
        "VersionOverrides",
        {
            "xmlns": OVERRIDES_1_1_NS if v1_1 else OVERRIDES_1_0_NS,
            "xsi:type": "VersionOverridesV1_1" if v1_1 else "VersionOverridesV1_0",
        },
    )
    minimum = MIN_MAILBOX_PINNING if v1_1 else MIN_MAILBOX_COMMANDS
    sets = _child(_child(overrides, "Requirements"), "bt:Sets", {"DefaultMinVersion": minimum})
    _child(sets, "bt:Set", {"Name": "Mailbox"})
    desktop = _child(
        _child(_child(overrides, "Hosts"), "Host", {"xsi:type": "MailHost"}), "DesktopFormFactor"
    )
    if v1_1:
        _text(desktop, "SupportsSharedFolders", "true")
    for surface, prefix in SURFACES:
        point = _child(desktop, "ExtensionPoint", {"xsi:type": surface})
        group = _child(
            _child(point, "OfficeTab", {"id": "TabDefault"}), "Group", {"id": prefix + "Group"}
        )
        _child(group, "Label", {"resid": RES_GROUP_LABEL})
        button = _child(group, "Control", {"xsi:type": "Button", "id": prefix + "OpenPane"})
        _child(button, "Label", {"resid": RES_BUTTON_LABEL})
        tip = _child(button, "Supertip")
        _child(tip, "Title", {"resid": RES_BUTTON_LABEL})
        _child(tip, "Description", {"resid": RES_BUTTON_TOOLTIP})
        icon = _child(button, "Icon")
        for size in BUTTON_ICON_SIZES:
            _child(icon, "bt:Image", {"size": str(size), "resid": res_icon(size)})
        action = _child(button, "Action", {"xsi:type": "ShowTaskpane"})
        _child(action, "SourceLocation", {"resid": RES_PANE_URL})
        if v1_1:
            _text(action, "SupportsPinning", "true")

    resources = _child(overrides, "Resources")
    images = _child(resources, "bt:Images")
    for size in BUTTON_ICON_SIZES:
        _child(images, "bt:Image", {"id": res_icon(size), "DefaultValue": icon_url(base, size)})
    urls = _child(resources, "bt:Urls")
    _child(urls, "bt:Url", {"id": RES_PANE_URL, "DefaultValue": base + PANE_PATH})
    short = _child(resources, "bt:ShortStrings")
    _child(short, "bt:String", {"id": RES_GROUP_LABEL, "DefaultValue": label})
    _child(short, "bt:String", {"id": RES_BUTTON_LABEL, "DefaultValue": label})
    long = _child(resources, "bt:LongStrings")
    _child(long, "bt:String", {"id": RES_BUTTON_TOOLTIP, "DefaultValue": BUTTON_TOOLTIP})
    return overrides


def normalise_base_url(base_url: str) -> str:
    """Return ``base_url`` without a trailing slash, or raise ``ValueError`` saying what is wrong.

    Only https: Outlook loads add-in pages and icons over https alone, loopback included
    (``https://localhost:3000`` with a development certificate is fine, ``http://`` never loads).
    """
    text = base_url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"base URL {base_url!r} is not a valid URL: {error}") from None
    if parts.scheme.lower() != "https":
        raise ValueError(
            f"base URL must start with https:// (Outlook loads add-ins over HTTPS only): "
            f"{base_url!r}"
        )
    if not parts.hostname:
        raise ValueError(f"base URL has no host name: {base_url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"base URL must not carry a user name or password: {base_url!r}")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError(f"base URL must not have a query or a fragment: {base_url!r}")
    if _NOT_XML.search(text) or any(c.isspace() for c in text):
        raise ValueError(f"base URL must not contain spaces or control characters: {base_url!r}")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    base = f"https://{netloc}{parts.path.rstrip('/')}"
    longest = base + ICON_PATH.format(size=HIGH_RESOLUTION_ICON_SIZE)
    if len(longest) > _MAX_URL:
        raise ValueError(f"base URL is too long: the manifest's URLs must fit in {_MAX_URL} chars")
    return base


def origin(base: str) -> str:
    """The scheme, host and port of a normalised base URL."""
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def icon_url(base: str, size: int) -> str:
    """Where the app serves the icon of ``size`` pixels."""
    return base + ICON_PATH.format(size=size)


def sso_resource(base: str, client_id: str) -> str:
    """The add-in's Application ID URI: ``api://`` + the pages' host (and port) + the client id.

    Office requires its domain to be the one the add-in's pages come from, and its end to be the
    client id; the app registration's Application ID URI must be exactly this string.
    """
    return f"api://{urlsplit(base).netloc}/{client_id}"


def derived_addin_id(client_id: str) -> str:
    """The manifest <Id> used when none is given: stable for one Entra app, distinct from it."""
    return str(uuid.uuid5(ADDIN_ID_NAMESPACE, client_id.lower()))


def _guid(value: str, name: str) -> str:
    if not isinstance(value, str) or not _GUID.fullmatch(value.strip()):
        raise ValueError(
            f"{name} must be a GUID like 12345678-abcd-1234-efab-123456789abc: {value!r}"
        )
    return value.strip().lower()


def _short_text(value: str, name: str) -> None:
    if not value or not value.strip():
        raise ValueError(f"{name} must not be empty")
    if len(value) > _SHORT:
        raise ValueError(f"{name} must be at most {_SHORT} characters: {value[:40]!r}...")
    if _NOT_XML.search(value):
        raise ValueError(f"{name} contains a control character XML cannot carry: {value!r}")


def _child(parent: ET.Element, tag: str, attrs: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, tag, attrs or {})


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element
