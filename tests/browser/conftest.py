"""Fixtures for browser tests: Debian's Chromium, the app on a real server, a narrow pane page.

* ``chromium_path``: the Chromium binary (``SIDEPANE_CHROMIUM``, else /usr/bin/chromium).
* ``browser``: one headless Chromium per test process, launched with the flags this closed
  network needs.
* ``live_server``: a factory; ``live_server(config)`` serves ``create_app(config)`` on a real
  werkzeug server on a free loopback port and returns a ``LiveServer`` (``.url``, ``.app``).
* ``demo_app_config``: a demo app's configuration (sandbox CRM, SQLite store) for that factory.
* ``context_options``: how each test's browser context is made (320x800, Outlook's narrow pane);
  override it in a module or class to change the viewport, colour scheme...
* ``page``: a page in a fresh context. A JavaScript error (uncaught exception, console.error) or
  an asset that fails to load fails the test at teardown; mark a test ``js_errors_expected`` to
  let them be. The errors seen are in the ``js_errors`` fixture.
* ``screenshot``: ``screenshot(page, name)`` saves ``test-artifacts/screenshots/<name>.png``.

The accessibility check is ``tests.browser.accessibility.axe_scan``.

Playwright downloads no browser here (``playwright install`` is never run): it drives Debian's
``chromium`` package, which ``make test`` installs.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    WebError,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

from addin import create_app, store
from crm_adapters.sandbox import SeedReport

DEFAULT_CHROMIUM = "/usr/bin/chromium"
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

#: Chromium's switches for this machine. Without the background-networking ones Chromium keeps
#: dialling Google's services, which this closed network refuses, many connections at a time.
#: As root Chromium only starts without its sandbox; there is no GPU.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--disable-domain-reliability",
)

#: Playwright waits this long (ms) for an element or a navigation before failing: pages come from
#: loopback, so anything slower than this is a hang, not a slow network.
DEFAULT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Return the Chromium to drive; fail in CI and skip elsewhere when it is not installed."""
    path = os.environ.get("SIDEPANE_CHROMIUM", DEFAULT_CHROMIUM)
    if not os.access(path, os.X_OK):
        message = (
            f"no Chromium at {path}: `make test` installs Debian's chromium package "
            "(or set SIDEPANE_CHROMIUM to a Chromium binary)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Start Playwright's bundled driver once per test process."""
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    """Launch one headless Chromium per test process; each test gets its own context."""
    chromium = playwright.chromium.launch(
        executable_path=chromium_path, headless=True, args=list(CHROMIUM_ARGS)
    )
    try:
        yield chromium
    finally:
        chromium.close()


@dataclass
class LiveServer:
    """The app served over real HTTP on loopback."""

    url: str
    app: Flask


def _not_ready(environ: Any, start_response: Any) -> list[bytes]:
    """Answer until the app exists (never seen: nothing knows the port before the app is set)."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@pytest.fixture
def live_server() -> Iterator[Callable[[Mapping[str, Any]], LiveServer]]:
    """Return ``start(config) -> LiveServer``: serve ``create_app(config)`` until the test ends.

    The socket is bound first (a free port), then the app is made with ``HOST``, ``PORT`` and
    ``BASE_URL`` of that port, so the links the app writes point at this server.
    """
    running: list[tuple[BaseWSGIServer, threading.Thread, Flask]] = []

    def start(config: Mapping[str, Any]) -> LiveServer:
        server = make_server("127.0.0.1", 0, _not_ready, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        try:
            app = create_app(
                {**config, "HOST": "127.0.0.1", "PORT": server.server_port, "BASE_URL": url}
            )
        except BaseException:
            server.server_close()
            raise
        server.app = app
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        running.append((server, thread, app))
        return LiveServer(url=url, app=app)

    yield start
    for server, thread, app in reversed(running):
        server.shutdown()
        thread.join()
        server.server_close()
        app.extensions["store_engine"].dispose()


@pytest.fixture
def demo_app_config(sandbox: tuple[Path, SeedReport], tmp_path: Path) -> dict[str, Any]:
    """Return a demo app's configuration: the seeded sandbox CRM and a migrated SQLite store.

    Browser tests test the pane, not the store, so they run on SQLite only.
    """
    database_url = f"sqlite:///{tmp_path / 'sidepane.db'}"
    store.upgrade(database_url)
    return {
        "DEMO": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "SANDBOX_PATH": str(sandbox[0]),
        "INTERNAL_DOMAINS": ["contoso.example"],
        "BROKER_URL": "memory://",
    }


@pytest.fixture
def context_options() -> dict[str, Any]:
    """Return the options of each test's browser context: Outlook's narrow pane, fixed locale.

    Override this fixture to test another size or ``color_scheme="dark"``.
    """
    return {
        "viewport": {"width": 320, "height": 800},
        "device_scale_factor": 1,
        # Dates, numbers and screenshots come out the same on every machine.
        "locale": "en-US",
        "timezone_id": "UTC",
        "color_scheme": "light",
    }


#: What a page loads to work; one that fails to load is a broken page. Fetches and documents are
#: left to the tests: the API answers 404, 409... on purpose and the pane handles them.
ASSET_TYPES = frozenset({"script", "stylesheet", "image", "font", "media"})


@pytest.fixture
def js_errors() -> list[str]:
    """Return the errors the test's page has had so far, one readable line each.

    Filled while the test runs by the ``page`` fixture: uncaught exceptions and rejections,
    ``console.error`` calls, and assets (scripts, stylesheets, images, fonts) that failed to load.
    """
    return []


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser: Browser,
    context_options: dict[str, Any],
    js_errors: list[str],
) -> Iterator[Page]:
    """Return a page in a new browser context; fail the test if the page had errors.

    Errors are caught on the whole context, so a window or frame the pane opens counts too.
    """
    context = browser.new_context(**context_options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)

    def on_console(message: ConsoleMessage) -> None:
        # Chromium also logs every 4xx/5xx answer as "Failed to load resource", including its own
        # /favicon.ico request and the API's deliberate 404s: assets are checked by on_response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            where = message.location.get("url", "")
            js_errors.append(f"console.error: {message.text}" + (f" ({where})" if where else ""))

    def on_weberror(error: WebError) -> None:
        js_errors.append(f"uncaught: {error.error}")

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type in ASSET_TYPES:
            kind = response.request.resource_type
            js_errors.append(f"{kind} answered {response.status}: {response.url}")

    def on_requestfailed(failed: Request) -> None:
        # ERR_ABORTED: answered 4xx/5xx (on_response has it) or cut short by leaving the page.
        if failed.resource_type in ASSET_TYPES and failed.failure != "net::ERR_ABORTED":
            js_errors.append(f"{failed.resource_type} failed ({failed.failure}): {failed.url}")

    context.on("console", on_console)
    context.on("weberror", on_weberror)
    context.on("response", on_response)
    context.on("requestfailed", on_requestfailed)
    try:
        yield context.new_page()
    finally:
        # Closing also delivers the events still on their way.
        context.close()
    if js_errors and request.node.get_closest_marker("js_errors_expected") is None:
        pytest.fail(
            "the page had errors (mark the test js_errors_expected if it means to):\n"
            + "\n".join(f"  {error}" for error in js_errors),
            pytrace=False,
        )


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Return ``screenshot(page, name) -> path``: a full-page PNG under test-artifacts/."""

    def take(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") + ".png")
        page.screenshot(path=path, full_page=True)
        return path

    return take
