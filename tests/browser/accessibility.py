"""The automated accessibility check: axe-core, as bundled by axe-playwright-python, in the page.

``axe_scan(page)`` returns the serious and critical violations as readable lines, so that
``assert axe_scan(page) == []`` explains itself when it fails. axe finds about a third of the
problems a person would; the keyboard and screen-reader walks stay in the tests themselves.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

#: Impacts that fail a test; "minor" and "moderate" ones are reported by axe but let be.
FAILING_IMPACTS = frozenset({"serious", "critical"})

#: axe.run with its arguments passed as JSON (the package's own runner formats them with repr).
_RUN = "([context, options]) => axe.run(context ?? document, options)"


def describe(violation: dict[str, Any]) -> str:
    """Return one violation as ``rule (impact): help [url] at selector; selector...``."""
    targets = "; ".join(
        " >> ".join(str(part) for part in node["target"]) for node in violation["nodes"]
    )
    return (
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"[{violation['helpUrl']}] at {targets}"
    )


def axe_scan(
    page: Page,
    *,
    impacts: Collection[str] = FAILING_IMPACTS,
    context: str | list[Any] | dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> list[str]:
    """Run axe-core in ``page`` and return its violations of ``impacts``, one readable line each.

    ``context`` limits the scan to part of the page (a selector, or axe's include/exclude);
    ``options`` are axe.run's (e.g. ``{"runOnly": ["wcag2a", "wcag2aa"]}``).
    """
    # axe checks frames (an add-in pane in its host) only where it has been injected too.
    for frame in page.frames:
        frame.evaluate(AXE_SCRIPT)
    results = page.evaluate(_RUN, [context, {"resultTypes": ["violations"], **(options or {})}])
    return [
        describe(violation) for violation in results["violations"] if violation["impact"] in impacts
    ]
