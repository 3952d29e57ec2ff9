"""Browser tests: the pane as a person uses it, in headless Chromium driven by Playwright."""
