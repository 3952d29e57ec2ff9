"""The browser-test foundation works: the demo's about page in Chromium, its look, its axe scan."""

from __future__ import annotations

import socket

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import axe_scan

pytestmark = pytest.mark.browser

#: The demo's page about itself (home.html); ``/`` opens the dev harness.
ABOUT = "/about"


@pytest.fixture
def demo(live_server, demo_app_config):
    return live_server(demo_app_config)


def test_the_demo_about_page_renders_with_working_links(demo, page, screenshot):
    page.goto(demo.url + ABOUT)
    expect(page).to_have_title("Sidepane demo")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidepane is running")
    # The app was made for this server's port, so the URLs it writes lead back to it.
    expect(page.get_by_text(f"{demo.url}/api/items/resolve")).to_be_visible()
    page.get_by_role("link", name="The OpenAPI document").click()
    expect(page).to_have_url(demo.url + "/api/openapi.json")
    page.go_back()
    page.get_by_role("link", name="An open case").click()
    assert page.url.startswith(demo.url + "/sandbox/")
    assert screenshot(page, "smoke-open-case").stat().st_size > 0


def test_the_demo_about_page_fits_the_narrow_pane(demo, page, screenshot):
    page.goto(demo.url + ABOUT)
    # Nothing wider than Outlook's 320px pane: no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    path = screenshot(page, "smoke-about-page")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_demo_about_page_has_no_serious_accessibility_violations(demo, page):
    page.goto(demo.url + ABOUT)
    assert axe_scan(page) == []


def test_axe_reports_what_it_finds(page):
    page.set_content('<html><body><img src="data:,"><a href="#"></a></body></html>')
    violations = axe_scan(page)
    assert any(v.startswith("image-alt (critical)") for v in violations), violations
    assert any(v.startswith("html-has-lang (serious)") for v in violations), violations


@pytest.mark.js_errors_expected
def test_the_catcher_sees_javascript_errors(page, js_errors):
    page.set_content(
        "<script>console.error('logged on purpose')</script>"
        "<script>throw new Error('thrown on purpose')</script>"
    )
    page.evaluate("setTimeout(() => { null.boom }, 0)")
    page.wait_for_timeout(50)
    assert any("logged on purpose" in error for error in js_errors), js_errors
    assert any("thrown on purpose" in error for error in js_errors), js_errors
    assert any("null" in error for error in js_errors), js_errors


@pytest.mark.js_errors_expected
def test_the_catcher_sees_missing_assets_but_not_api_answers(demo, page, js_errors):
    page.goto(demo.url + ABOUT)
    page.evaluate("fetch('/api/no-such-thing')")
    # A port nothing listens on: like a CDN this closed network cannot reach.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}/office.js"
    page.set_content(
        f'<link rel="stylesheet" href="{demo.url}/static/missing.css">'
        f'<script src="{nowhere}"></script>'
    )
    # Both load at once: either may fail first. The fetch's 404 is the test's business, not here.
    assert sorted(js_errors) == [
        f"script failed (net::ERR_CONNECTION_REFUSED): {nowhere}",
        f"stylesheet answered 404: {demo.url}/static/missing.css",
    ]
