"""The add-in manifest as Outlook's validator sees it: parsed back, never string-matched."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from addin.cli import manifest_command
from manifest import build_manifest, misplaced_elements
from manifest import icons as icon_drawing
from manifest.order import (
    BASIC_TYPES_NS,
    OFFICE_APP_NS,
    OVERRIDES_1_0_NS,
    OVERRIDES_1_1_NS,
    XSI_NS,
)

BASE = "https://addin.example.com"
APP_ID = "6f1c2b7e-2d9a-4c55-9e44-3c0d1b8f0a11"
STATIC = Path(__file__).resolve().parents[2] / "addin" / "static"
XSI_TYPE = f"{{{XSI_NS}}}type"
NS = {"o": OFFICE_APP_NS, "v10": OVERRIDES_1_0_NS, "v11": OVERRIDES_1_1_NS, "bt": BASIC_TYPES_NS}
SURFACES = {
    "MessageReadCommandSurface",
    "MessageComposeCommandSurface",
    "AppointmentAttendeeCommandSurface",
    "AppointmentOrganizerCommandSurface",
}


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))


def local(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def namespace(element: ET.Element) -> str:
    return element.tag[1:].partition("}")[0]


def overrides(root: ET.Element) -> tuple[ET.Element, ET.Element]:
    v1_0 = root.find("v10:VersionOverrides", NS)
    assert v1_0 is not None
    v1_1 = v1_0.find("v11:VersionOverrides", NS)
    assert v1_1 is not None
    return v1_0, v1_1


def own_elements(part: ET.Element, nested: ET.Element | None) -> list[ET.Element]:
    """The elements of ``part`` outside its ``nested`` subtree."""
    skip = set(nested.iter()) if nested is not None else set()
    return [e for e in part.iter() if e not in skip]


def typed(parent: ET.Element, xsi_type: str) -> list[ET.Element]:
    return [e for e in parent.iter() if e.get(XSI_TYPE) == xsi_type]


@pytest.fixture(scope="module")
def xml() -> str:
    return build_manifest(BASE, APP_ID)


@pytest.fixture
def root(xml: str) -> ET.Element:
    return parse(xml)  # a fresh tree per test: some tests mutate it


# --- well-formed, namespaces -------------------------------------------------------------------


def test_well_formed_mail_app_with_a_utf8_declaration(xml: str) -> None:
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = parse(xml)
    assert root.tag == f"{{{OFFICE_APP_NS}}}OfficeApp"
    assert root.get(XSI_TYPE) == "MailApp"
    assert root.findtext("o:Id", namespaces=NS) != APP_ID  # the add-in's id is its own


def test_each_xsi_type_resolves_in_its_elements_namespace(xml: str) -> None:
    """xsi:type values are QNames: the default namespace in scope must be the element's own.

    That is why each VersionOverrides must redeclare ``xmlns``; a serializer that prefixes the
    overrides instead (``ns0:VersionOverrides``) breaks every type inside them.
    """
    scopes = [""]
    declared: str | None = None
    checked = 0
    events = ET.iterparse(io.BytesIO(xml.encode()), events=("start-ns", "start", "end"))
    for event, item in events:
        if event == "start-ns":
            prefix, uri = item
            if prefix == "":
                declared = uri
        elif event == "start":
            scopes.append(declared if declared is not None else scopes[-1])
            declared = None
            if item.get(XSI_TYPE) is not None:
                assert scopes[-1] == namespace(item), (local(item), item.get(XSI_TYPE))
                checked += 1
        else:
            scopes.pop()
    assert checked > 20


def test_overrides_1_0_nest_1_1_in_their_namespaces(root: ET.Element) -> None:
    v1_0, v1_1 = overrides(root)
    assert v1_0.get(XSI_TYPE) == "VersionOverridesV1_0"
    assert v1_1.get(XSI_TYPE) == "VersionOverridesV1_1"
    assert list(v1_0)[-1] is v1_1
    assert {namespace(e) for e in v1_1.iter()} == {OVERRIDES_1_1_NS, BASIC_TYPES_NS}


# --- element order -----------------------------------------------------------------------------


def test_every_element_is_in_schema_order(root: ET.Element) -> None:
    assert misplaced_elements(root) == []


def test_top_level_children_in_documented_order(root: ET.Element) -> None:
    assert [local(e) for e in root] == [
        "Id",
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
        "VersionOverrides",
    ]


def _move_before(parent: ET.Element, child: ET.Element, anchor: ET.Element) -> None:
    parent.remove(child)
    parent.insert(list(parent).index(anchor), child)


def _version_before_id(root: ET.Element) -> None:
    _move_before(root, root[1], root[0])


def _form_settings_after_permissions(root: ET.Element) -> None:
    forms = root.find("o:FormSettings", NS)
    assert forms is not None
    root.remove(forms)
    root.insert(list(root).index(root.find("o:Rule", NS)), forms)


def _height_in_compose_form(root: ET.Element) -> None:
    (edit,) = typed(root, "ItemEdit")
    ET.SubElement(edit[0], f"{{{OFFICE_APP_NS}}}RequestedHeight").text = "250"


def _web_application_info_before_resources(root: ET.Element) -> None:
    _, v1_1 = overrides(root)
    sso, resources = v1_1.find("v11:WebApplicationInfo", NS), v1_1.find("v11:Resources", NS)
    assert sso is not None and resources is not None
    _move_before(v1_1, sso, resources)


def _shared_folders_after_extension_points(root: ET.Element) -> None:
    _, v1_1 = overrides(root)
    desktop = v1_1.find(".//v11:DesktopFormFactor", NS)
    assert desktop is not None
    flag = desktop[0]
    desktop.remove(flag)
    desktop.append(flag)


def _pinning_before_source_location(root: ET.Element) -> None:
    _, v1_1 = overrides(root)
    action = typed(v1_1, "ShowTaskpane")[0]
    _move_before(action, action[1], action[0])


def _pinning_in_schema_1_0(root: ET.Element) -> None:
    v1_0, _ = overrides(root)
    action = next(a for a in typed(v1_0, "ShowTaskpane") if namespace(a) == OVERRIDES_1_0_NS)
    ET.SubElement(action, f"{{{OVERRIDES_1_0_NS}}}SupportsPinning").text = "true"


def _long_strings_before_short_strings(root: ET.Element) -> None:
    _, v1_1 = overrides(root)
    resources = v1_1.find("v11:Resources", NS)
    assert resources is not None
    _move_before(resources, resources[3], resources[2])


def _nested_overrides_in_the_1_0_namespace(root: ET.Element) -> None:
    _, v1_1 = overrides(root)
    v1_1.tag = f"{{{OVERRIDES_1_0_NS}}}VersionOverrides"


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (_version_before_id, "/OfficeApp: <Id> must come before <Version>"),
        (_form_settings_after_permissions, "<FormSettings> must come before <Permissions>"),
        (_height_in_compose_form, "<RequestedHeight> is not a valid child of <DesktopSettings>"),
        (_web_application_info_before_resources, "<Resources> must come before"),
        (_shared_folders_after_extension_points, "<SupportsSharedFolders> must come before"),
        (_pinning_before_source_location, "<SourceLocation> must come before <SupportsPinning>"),
        (_pinning_in_schema_1_0, "<SupportsPinning> is not a valid child of <Action>"),
        (_long_strings_before_short_strings, "<bt:ShortStrings> must come before"),
        (_nested_overrides_in_the_1_0_namespace, "<VersionOverrides> is not a valid child"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[1:] or None,
)
def test_order_check_catches_a_moved_element(
    root: ET.Element, mutate: Callable[[ET.Element], None], problem: str
) -> None:
    mutate(root)
    problems = misplaced_elements(root)
    assert any(problem in line for line in problems), problems


# --- surfaces, pinning, shared folders ---------------------------------------------------------


def test_four_surfaces_each_open_the_pinnable_pane(root: ET.Element) -> None:
    _, v1_1 = overrides(root)
    desktop = v1_1.find("v11:Hosts/v11:Host/v11:DesktopFormFactor", NS)
    assert desktop is not None
    points = desktop.findall("v11:ExtensionPoint", NS)
    assert {p.get(XSI_TYPE) for p in points} == SURFACES and len(points) == 4
    pane = {u.get("id"): u.get("DefaultValue") for u in v1_1.iterfind(".//bt:Url", NS)}
    control_ids = set()
    for point in points:
        tab = point.find("v11:OfficeTab", NS)
        assert tab is not None and tab.get("id") == "TabDefault"
        (button,) = tab.findall("v11:Group/v11:Control", NS)
        assert button.get(XSI_TYPE) == "Button"
        control_ids.add(button.get("id"))
        action = button.find("v11:Action", NS)
        assert action is not None and action.get(XSI_TYPE) == "ShowTaskpane"
        source = action.find("v11:SourceLocation", NS)
        assert source is not None and pane[source.get("resid")] == f"{BASE}/pane"
        assert action.findtext("v11:SupportsPinning", namespaces=NS) == "true"
    assert len(control_ids) == 4  # control ids are unique within the form factor


def test_shared_folders_declared_in_1_1_only(root: ET.Element) -> None:
    v1_0, v1_1 = overrides(root)
    flags = v1_1.findall("v11:Hosts/v11:Host/v11:DesktopFormFactor/v11:SupportsSharedFolders", NS)
    assert [f.text for f in flags] == ["true"]
    # Schema 1.0 knows neither shared folders, nor pinning, nor SSO.
    names = {local(e) for e in own_elements(v1_0, nested=v1_1)}
    assert "ExtensionPoint" in names
    assert not names & {"SupportsSharedFolders", "SupportsPinning", "WebApplicationInfo"}


def test_activates_on_messages_and_appointments_read_and_compose(root: ET.Element) -> None:
    rules = root.find("o:Rule", NS)
    assert rules is not None and rules.get(XSI_TYPE) == "RuleCollection"
    assert rules.get("Mode") == "Or"
    assert {(r.get("ItemType"), r.get("FormType")) for r in rules} == {
        ("Message", "Read"),
        ("Message", "Edit"),
        ("Appointment", "Read"),
        ("Appointment", "Edit"),
    }
    assert root.findtext("o:Permissions", namespaces=NS) == "ReadWriteItem"


# --- URLs, resources, SSO ----------------------------------------------------------------------


def _urls(root: ET.Element) -> list[str]:
    values = [v for e in root.iter() for v in e.attrib.values()]
    values += [e.text.strip() for e in root.iter() if e.text and e.text.strip()]
    return [v for v in values if "://" in v]


@pytest.mark.parametrize(
    ("base_url", "base", "host"),
    [
        ("https://addin.example.com", "https://addin.example.com", "addin.example.com"),
        ("https://Crm.Example.com:8443/sidepane/", "https://crm.example.com:8443/sidepane", None),
    ],
)
def test_every_url_is_https_under_the_base_url(base_url: str, base: str, host: str | None) -> None:
    root = parse(build_manifest(base_url, APP_ID))
    netloc = host or urlsplit(base).netloc
    web = [u for u in _urls(root) if not u.startswith("api://")]
    assert all(u.startswith("https://") for u in web), web
    app_domains = [e.text for e in root.iterfind("o:AppDomains/o:AppDomain", NS)]
    assert app_domains == [f"https://{netloc}"]
    under_base = {u.removeprefix(base) for u in web if u not in app_domains}
    assert all(u.startswith(base + "/") for u in web if u not in app_domains)
    assert under_base == {
        "/",
        "/pane",
        *(f"/static/icons/icon-{size}.png" for size in (16, 32, 64, 80, 128)),
    }
    assert [u for u in _urls(root) if u.startswith("api://")] == [f"api://{netloc}/{APP_ID}"]


def test_icons_exist_as_valid_pngs_of_their_size(root: ET.Element) -> None:
    icon_urls = {u for u in _urls(root) if "/static/icons/" in u}
    assert len(icon_urls) == 5
    for url in icon_urls:
        path = STATIC / url.removeprefix(f"{BASE}/static/")
        size = int(path.stem.removeprefix("icon-"))
        width, height, pixels = _decode_png(path.read_bytes())
        assert (width, height) == (size, size)
        assert len(pixels) == size * (1 + 4 * size)


def test_icon_files_are_what_the_generator_draws() -> None:
    for size in icon_drawing.SIZES:
        served = (STATIC / "icons" / f"icon-{size}.png").read_bytes()
        assert served == icon_drawing.render(size), f"run python -m manifest.icons ({size})"


def _decode_png(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks[kind] = chunks.get(kind, b"") + body
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 6)  # 8-bit RGBA
    return width, height, zlib.decompress(chunks[b"IDAT"])


# Which resource list a reference must point into, by the element holding the resid.
_RESOURCE_KIND = {
    "Image": "Images",
    "SourceLocation": "Urls",
    "Label": "ShortStrings",
    "Title": "ShortStrings",
    "Description": "LongStrings",
}


@pytest.mark.parametrize("schema", ["1.0", "1.1"])
def test_every_resid_names_a_resource_of_its_kind(root: ET.Element, schema: str) -> None:
    v1_0, v1_1 = overrides(root)
    part = v1_1 if schema == "1.1" else v1_0
    ns = OVERRIDES_1_1_NS if schema == "1.1" else OVERRIDES_1_0_NS
    resources = part.find(f"{{{ns}}}Resources")
    assert resources is not None
    defined = {local(group): {item.get("id", "") for item in group} for group in resources}
    referenced = [
        (local(e), e.get("resid", ""))
        for e in own_elements(part, nested=v1_1 if part is v1_0 else None)
        if e.get("resid") is not None
    ]
    assert len(referenced) == 4 * 8  # per surface: 2 labels, title, description, 3 icons, url
    for holder, resid in referenced:
        assert resid in defined[_RESOURCE_KIND[holder]], (holder, resid)
    used = {resid for _, resid in referenced}
    assert set().union(*defined.values()) == used  # nothing defined and left unused
    assert all(len(resid) <= 32 for resid in used)


def test_web_application_info_names_the_entra_app(root: ET.Element) -> None:
    _, v1_1 = overrides(root)
    sso = v1_1.find("v11:WebApplicationInfo", NS)
    assert sso is not None and list(v1_1)[-1] is sso  # "it must be the last child element"
    assert sso.findtext("v11:Id", namespaces=NS) == APP_ID
    assert sso.findtext("v11:Resource", namespaces=NS) == f"api://addin.example.com/{APP_ID}"
    scopes = [s.text for s in sso.iterfind("v11:Scopes/v11:Scope", NS)]
    assert {"openid", "profile", "Mail.Read", "Mail.ReadWrite.Shared"} <= set(scopes)
    assert "access_as_user" not in scopes  # the API's own scope comes through <Resource>


def test_app_id_is_normalised_and_the_addin_id_derived_from_it() -> None:
    upper = parse(build_manifest(BASE, APP_ID.upper()))
    lower = parse(build_manifest(BASE, APP_ID))
    other = parse(build_manifest(BASE, "00000000-0000-4000-8000-000000000001"))
    ids = [r.findtext("o:Id", namespaces=NS) for r in (upper, lower, other)]
    assert ids[0] == ids[1] != ids[2]
    assert upper.findtext(".//v11:WebApplicationInfo/v11:Id", namespaces=NS) == APP_ID
    given = "11111111-2222-4333-8444-555555555555"
    assert parse(build_manifest(BASE, APP_ID, addin_id=given)).findtext("o:Id", None, NS) == given


def test_values_are_escaped(root: ET.Element) -> None:
    name = 'Tom & Jerry\'s <"CRM">'
    parsed = parse(build_manifest(BASE, APP_ID, display_name=name, provider=name))
    display = parsed.find("o:DisplayName", NS)
    assert display is not None and display.get("DefaultValue") == name
    assert parsed.findtext("o:ProviderName", namespaces=NS) == name
    labels = {s.get("DefaultValue") for s in parsed.iterfind(".//bt:ShortStrings/bt:String", NS)}
    assert labels == {name}


# --- refused inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://addin.example.com", "must start with https://"),
        ("http://127.0.0.1:8000", "must start with https://"),
        ("addin.example.com", "must start with https://"),
        ("https://addin.example.com/?tenant=1", "query or a fragment"),
        ("https://addin.example.com/#top", "query or a fragment"),
        ("https://addin.example.com/?", "query or a fragment"),
        ("https://user:secret@addin.example.com", "user name or password"),
        ("https:///pane", "no host name"),
        ("https://addin.example.com:99999", "not a valid URL"),
        ("https://addin.example.com/my pane", "spaces or control characters"),
        ("https://addin.example.com/" + "a" * 2100, "too long"),
    ],
)
def test_bad_base_url_is_refused_naming_the_problem(base_url: str, message: str) -> None:
    with pytest.raises(ValueError, match="base URL") as raised:
        build_manifest(base_url, APP_ID)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "app_id",
    ["", "not-a-guid", "6f1c2b7e2d9a4c559e443c0d1b8f0a11", f"{{{APP_ID}}}", APP_ID + "0"],
)
def test_bad_app_id_is_refused(app_id: str) -> None:
    with pytest.raises(ValueError, match="app_id must be a GUID"):
        build_manifest(BASE, app_id)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"version": "1.0.0.0.0"}, "version must be"),
        ({"version": "v1"}, "version must be"),
        ({"display_name": ""}, "display_name must not be empty"),
        ({"display_name": "x" * 126}, "at most 125"),
        ({"provider": "Acme\x01"}, "control character"),
        ({"addin_id": "nope"}, "addin_id must be a GUID"),
        ({"scopes": ()}, "at least one"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_manifest(BASE, APP_ID, **options)  # type: ignore[arg-type]


# --- the command -------------------------------------------------------------------------------

_NO_SIDEPANE_ENV = {name: None for name in os.environ if name.startswith("SIDEPANE_")}


def test_command_prints_the_manifest(xml: str) -> None:
    runner = CliRunner(env=_NO_SIDEPANE_ENV)
    result = runner.invoke(manifest_command, ["--base-url", BASE + "/", "--app-id", APP_ID])
    assert result.exit_code == 0, result.output
    assert result.output == xml


def test_command_writes_a_file(tmp_path: Path, xml: str) -> None:
    target = tmp_path / "manifest.xml"
    result = CliRunner(env=_NO_SIDEPANE_ENV).invoke(
        manifest_command, ["--base-url", BASE, "--app-id", APP_ID, "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert target.read_text(encoding="utf-8") == xml


def test_command_reads_the_deployments_settings(xml: str) -> None:
    env = {**_NO_SIDEPANE_ENV, "SIDEPANE_BASE_URL": BASE, "SIDEPANE_API_AUDIENCE": APP_ID}
    result = CliRunner(env=env).invoke(manifest_command, [])
    assert result.exit_code == 0, result.output
    assert result.output == xml


def test_command_refuses_bad_input_with_the_reason(tmp_path: Path) -> None:
    target = tmp_path / "manifest.xml"
    result = CliRunner(env=_NO_SIDEPANE_ENV).invoke(
        manifest_command,
        ["--base-url", "http://addin.example.com", "--app-id", APP_ID, "-o", str(target)],
    )
    assert result.exit_code == 2
    assert "must start with https://" in result.output
    assert not target.exists()


def test_sidepane_manifest_runs_without_any_configuration(tmp_path: Path, xml: str) -> None:
    """A fresh shell: no SIDEPANE_* variables, so loading the app would fail; it must not."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIDEPANE_")}
    done = subprocess.run(
        [sys.executable, "-m", "addin", "manifest", "--base-url", BASE, "--app-id", APP_ID],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == xml
