# Two commands get a newcomer from a fresh clone to a running product and a green suite:
#   make demo    the product on its embedded defaults (SQLite, filesystem queue, sandbox CRM)
#   make test    lint, types and the whole test suite
# Each creates .venv and installs what it needs; re-running skips what is already installed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Parallel test processes; the machines here have 2 cores.
TEST_WORKERS ?= 2
# The browser tests drive Debian's Chromium, never a browser Playwright downloads (the network
# here refuses those downloads). Exported so the tests use the same path make installed.
export SIDEPANE_CHROMIUM ?= /usr/bin/chromium
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

.PHONY: demo test lint typecheck pytest bench format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(VENV)/.runtime $@

demo: $(VENV)/.runtime
	$(BIN)/sidepane demo

test: lint typecheck pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# A file target: once Chromium is there this costs nothing. apt-get update runs only when the
# install fails, e.g. on a machine whose package lists were never fetched.
$(SIDEPANE_CHROMIUM):
	$(APT_INSTALL) chromium || { apt-get update && $(APT_INSTALL) chromium; }
	@test -x $@ || { echo "Chromium is not at $@; set SIDEPANE_CHROMIUM to its path" >&2; exit 1; }

pytest: $(VENV)/.dev $(SIDEPANE_CHROMIUM)
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(BIN)/python -m bench

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache test-artifacts

# The pane's strings in every language (README, "Translations"): extract the _() strings of the
# files babel.cfg lists into messages.pot (left alone when only its date would change), merge it
# into each language's messages.po, then compile the .mo files the app loads (they are committed,
# so a plain install runs translated). New strings come out empty: translate them, run it again.
# tests/i18n fails while a string is missing from the template, untranslated or not compiled.
TRANSLATIONS := addin/translations
.PHONY: translations
translations: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg --sort-by-file \
		--project=Sidepane --copyright-holder="Sidepane contributors" \
		-o $(TRANSLATIONS)/messages.pot.new .
	@if diff -q -I '^"POT-Creation-Date:' $(TRANSLATIONS)/messages.pot \
		$(TRANSLATIONS)/messages.pot.new >/dev/null 2>&1; \
	then rm $(TRANSLATIONS)/messages.pot.new; \
	else mv $(TRANSLATIONS)/messages.pot.new $(TRANSLATIONS)/messages.pot; fi
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
		--ignore-obsolete --previous
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics
