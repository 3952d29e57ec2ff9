# Two commands get a newcomer from a fresh clone to a running product and a green suite:
#   make demo    the product on its embedded defaults (SQLite, filesystem queue, sandbox CRM)
#   make test    lint, types and the whole test suite
# Each creates .venv and installs what it needs; re-running skips what is already installed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Parallel test processes; the machines here have 2 cores.
TEST_WORKERS ?= 2

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

pytest: $(VENV)/.dev
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(BIN)/python -m bench

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache test-artifacts
