"""The order the manifest schema imposes on child elements, as data, and a check against it.

The XSDs declare every parent's children as an ``xs:sequence``: a child may be left out when its
``minOccurs`` is 0, but those present must come in sequence order, or validation fails with
"... is not a valid child of ...". The tables below transcribe Microsoft's "How to find the
proper order of manifest elements" (learn.microsoft.com, office/dev/add-ins/develop/
manifest-element-ordering: mail add-ins, VersionOverrides 1.0 and 1.1) and, where it is silent, the
[MS-OWEMXML] schema fragments: ``ShowTaskpane`` (SourceLocation, SupportsPinning,
SupportsNoItemContext, SupportsMultiSelect), ``MailHost`` (Runtimes, DesktopFormFactor,
MobileFormFactor), ``ItemEditMailAppSettings`` (SourceLocation only: no RequestedHeight), and the
DesktopFormFactor order (SupportsSharedFolders first) from the SupportsSharedFolders reference.

One table per XML namespace, so an element in the wrong namespace (a forgotten ``xmlns`` on a
VersionOverrides, say) is not found and is reported too. A table is keyed by the parent's
``xsi:type`` when it has one (``MailApp``, ``ShowTaskpane``...), else by its local name;
``"Parent/Child"`` keys settle the one name whose children depend on its parent (``DesktopSettings``
of an ItemRead vs an ItemEdit form). A child from another namespace is written ``prefix:Name``.

The manifest builder does **not** read these tables: it writes elements in its own order, and the
tests hold that order against this transcription.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

OFFICE_APP_NS = "http://schemas.microsoft.com/office/appforoffice/1.1"
BASIC_TYPES_NS = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
OVERRIDES_1_0_NS = "http://schemas.microsoft.com/office/mailappversionoverrides"
OVERRIDES_1_1_NS = "http://schemas.microsoft.com/office/mailappversionoverrides/1.1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# How a child from another namespace is named in the tables (and in the problems reported).
PREFIXES = {
    OFFICE_APP_NS: "office",
    BASIC_TYPES_NS: "bt",
    OVERRIDES_1_0_NS: "mailappor",
    OVERRIDES_1_1_NS: "mailappor1_1",
}

_COMMAND_SURFACE = ("OfficeTab", "CustomTab")

MAIL_APP: dict[str, tuple[str, ...]] = {
    "MailApp": (
        "Id",
        "AlternateId",
        "Version",
        "ProviderName",
        "DefaultLocale",
        "DisplayName",
        "Description",
        "IconUrl",
        "HighResolutionIconUrl",
        "SupportUrl",
        "AppDomains",
        "Hosts",
        "Requirements",
        "FormSettings",
        "Permissions",
        "Rule",
        "DisableEntityHighlighting",
        "mailappor:VersionOverrides",
    ),
    "DisplayName": ("Override",),
    "Description": ("Override",),
    "IconUrl": ("Override",),
    "HighResolutionIconUrl": ("Override",),
    "SupportUrl": ("Override",),
    "AppDomains": ("AppDomain",),
    "Hosts": ("Host",),
    "Requirements": ("Sets",),
    "Sets": ("Set",),
    "FormSettings": ("Form",),
    "ItemRead": ("DesktopSettings", "TabletSettings", "PhoneSettings"),
    "ItemEdit": ("DesktopSettings", "TabletSettings", "PhoneSettings"),
    "ItemRead/DesktopSettings": ("SourceLocation", "RequestedHeight"),
    "ItemEdit/DesktopSettings": ("SourceLocation",),
    "SourceLocation": ("Override",),
    "RuleCollection": ("Rule",),
}

# What VersionOverrides 1.0 and 1.1 have in common; each adds its own below.
_OVERRIDES_COMMON: dict[str, tuple[str, ...]] = {
    "Requirements": ("bt:Sets",),
    "Hosts": ("Host",),
    "MessageReadCommandSurface": _COMMAND_SURFACE,
    "MessageComposeCommandSurface": _COMMAND_SURFACE,
    "AppointmentAttendeeCommandSurface": _COMMAND_SURFACE,
    "AppointmentOrganizerCommandSurface": _COMMAND_SURFACE,
    "OfficeTab": ("Group",),
    "Button": ("Label", "Supertip", "Icon", "Action"),
    "Supertip": ("Title", "Description"),
    "Icon": ("bt:Image",),
    "ExecuteFunction": ("FunctionName",),
    "Resources": ("bt:Images", "bt:Urls", "bt:ShortStrings", "bt:LongStrings"),
}

OVERRIDES_1_0: dict[str, tuple[str, ...]] = {
    **_OVERRIDES_COMMON,
    "VersionOverridesV1_0": (
        "Description",
        "Requirements",
        "Hosts",
        "Resources",
        "mailappor1_1:VersionOverrides",
    ),
    "MailHost": ("DesktopFormFactor",),
    "DesktopFormFactor": ("FunctionFile", "ExtensionPoint"),
    "Group": ("Label", "Control"),
    "ShowTaskpane": ("SourceLocation",),
}

OVERRIDES_1_1: dict[str, tuple[str, ...]] = {
    **_OVERRIDES_COMMON,
    "VersionOverridesV1_1": (
        "Description",
        "Requirements",
        "Hosts",
        "Resources",
        "WebApplicationInfo",
        "EquivalentAddins",
        "ConnectedServiceControls",
        "ExtendedPermissions",
    ),
    "MailHost": ("Runtimes", "DesktopFormFactor", "MobileFormFactor"),
    "DesktopFormFactor": ("SupportsSharedFolders", "FunctionFile", "ExtensionPoint"),
    "Group": ("Label", "Tooltip", "Control"),
    "ShowTaskpane": (
        "SourceLocation",
        "SupportsPinning",
        "SupportsNoItemContext",
        "SupportsMultiSelect",
    ),
    "WebApplicationInfo": ("Id", "Resource", "Scopes"),
    "Scopes": ("Scope",),
}

BASIC_TYPES: dict[str, tuple[str, ...]] = {
    "Sets": ("Set",),
    "Images": ("Image",),
    "Urls": ("Url",),
    "ShortStrings": ("String",),
    "LongStrings": ("String",),
    "Image": ("Override",),
    "Url": ("Override",),
    "String": ("Override",),
}

ELEMENT_ORDER: dict[str, dict[str, tuple[str, ...]]] = {
    OFFICE_APP_NS: MAIL_APP,
    OVERRIDES_1_0_NS: OVERRIDES_1_0,
    OVERRIDES_1_1_NS: OVERRIDES_1_1,
    BASIC_TYPES_NS: BASIC_TYPES,
}

_XSI_TYPE = f"{{{XSI_NS}}}type"


def misplaced_elements(root: ET.Element) -> list[str]:
    """Every place where ``root``'s tree breaks the schema's child order, as readable lines."""
    problems: list[str] = []
    _check(root, parent_key="", path="", problems=problems)
    return problems


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _name_in(parent_namespace: str, child: ET.Element) -> str:
    namespace, local = _split(child.tag)
    if namespace == parent_namespace:
        return local
    return f"{PREFIXES.get(namespace, '{' + namespace + '}')}:{local}"


def _check(element: ET.Element, parent_key: str, path: str, problems: list[str]) -> None:
    namespace, local = _split(element.tag)
    path = f"{path}/{local}"
    table = ELEMENT_ORDER.get(namespace)
    if table is None:
        problems.append(f"{path}: namespace {namespace or '(none)'!r} is not a manifest namespace")
        return
    key = element.get(_XSI_TYPE) or local
    sequence = table.get(f"{parent_key}/{key}", table.get(key))
    children = list(element)
    if children and sequence is None:
        problems.append(f"{path}: no ordering rule for <{key}> in {PREFIXES[namespace]}")
        return
    furthest = -1
    furthest_name = ""
    for child in children:
        name = _name_in(namespace, child)
        assert sequence is not None
        if name not in sequence:
            problems.append(f"{path}: <{name}> is not a valid child of <{local}>")
            continue
        position = sequence.index(name)
        if position < furthest:
            problems.append(f"{path}: <{name}> must come before <{furthest_name}>")
        elif position > furthest:
            furthest, furthest_name = position, name
        _check(child, key, path, problems)
