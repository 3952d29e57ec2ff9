"""Driving the real pane inside the dev harness, as a rep would: helpers for the pane tests.

* ``HARNESS_CONTEXT``: browser-context options wide enough for the harness (sample list, reading
  pane and the 320 px pane side by side); use it to override ``context_options``.
* ``open_harness(page, server, item, rep=..., lang=..., theme=...)``: open the harness on a sample
  and return the pane's ``FrameLocator`` once the pane has rendered.
* ``select_sample(page, key)``: click a sample in the list (Outlook's ItemChanged; no reload).
* ``pane_screenshot(page, name)``: the pane's iframe (320 px wide) as
  ``test-artifacts/screenshots/<name>.png``; ``png_size(path)`` reads a PNG's width and height.
* ``PANE_ONLY``: the axe context that scans the pane's document, not the harness around it.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.conftest import SCREENSHOTS, LiveServer

#: Outlook on the web's proportions: the harness's three columns, the pane iframe 320 px wide.
HARNESS_CONTEXT: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 900},
    "device_scale_factor": 1,
    "locale": "en-US",
    "timezone_id": "UTC",
    "color_scheme": "light",
}

#: axe's context for "the document inside #pane-frame" (the harness page itself is not the pane).
PANE_ONLY: dict[str, Any] = {"include": [["#pane-frame", "html"]]}

#: The pane's width in Outlook's narrow layout; the harness's default iframe width.
PANE_WIDTH = 320


def harness_url(
    server: LiveServer,
    item: str = "",
    *,
    rep: str = "alex",
    lang: str = "en-US",
    theme: str = "light",
    width: int = PANE_WIDTH,
) -> str:
    query = {"rep": rep, "lang": lang, "theme": theme, "width": str(width)}
    if item:
        query["item"] = item
    return f"{server.url}/harness?{urlencode(query)}"


def pane_of(page: Page) -> FrameLocator:
    return page.frame_locator("#pane-frame")


def wait_for_pane(page: Page) -> FrameLocator:
    """Wait until the pane has swapped in its first answer (a view, or the empty state)."""
    pane = pane_of(page)
    expect(pane.locator("#pane > .pane-view, #pane > .empty, #pane > .message")).to_have_count(1)
    expect(pane.locator("#pane")).to_have_attribute("aria-busy", "false")
    return pane


def open_harness(page: Page, server: LiveServer, item: str = "", **settings: Any) -> FrameLocator:
    """Open the harness on ``item`` (a sample key, or "" for none); return the rendered pane."""
    page.goto(harness_url(server, item, **settings))
    return wait_for_pane(page)


def reload_harness(page: Page) -> FrameLocator:
    """Reload the harness (it keeps rep, language, theme and item in its address)."""
    page.reload()
    return wait_for_pane(page)


def select_sample(page: Page, key: str) -> None:
    """Select another item in the harness, as a rep clicks in the message list."""
    page.locator(f'[data-sample="{key}"]').click()


def pane_screenshot(page: Page, name: str) -> Path:
    """Save the pane's iframe (what Outlook shows, 320 px wide) under test-artifacts/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.locator("#pane-frame").screenshot(path=path)
    return path


def png_size(path: Path) -> tuple[int, int]:
    """Return a PNG's (width, height) from its IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def focused(pane: FrameLocator) -> dict[str, Any]:
    """Describe the pane's focused element: tag, text, id, classes and its computed outline."""
    return pane.locator("html").evaluate(
        """() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return {
            tag: el.tagName.toLowerCase(),
            id: el.id,
            text: (el.innerText || el.value || "").trim(),
            classes: Array.from(el.classList),
            outline: style.outlineStyle,
            outlineWidth: parseFloat(style.outlineWidth) || 0,
            focusVisible: el.matches(":focus-visible"),
          };
        }"""
    )


def scroll_width(pane: FrameLocator) -> int:
    """The pane document's scrollable width (more than the iframe's means sideways scrolling)."""
    return int(pane.locator("html").evaluate("h => h.scrollWidth"))
