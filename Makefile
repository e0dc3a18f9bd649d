# Quick start: `make demo` runs the main job, `make test` the test suite.
# Both bootstrap uv into .tools/ with the machine's python3 and install the locked dependencies.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
PYTEST_ARGS ?=

.PHONY: sync test lint format typecheck demo bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml instrumentation/pyproject.toml exporters/pyproject.toml collector/pyproject.toml
	$(UV) sync --locked --all-packages
	touch $@

sync: .venv/.synced

test: sync
	$(UV) run --no-sync pytest $(PYTEST_ARGS)

lint: sync
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync mypy

format: sync
	$(UV) run --no-sync ruff format .
	$(UV) run --no-sync ruff check --fix .

typecheck: sync
	$(UV) run --no-sync mypy

# The whole pipeline on this machine (README "Quick start"); e.g. DEMO_ARGS="--duration 30".
demo: sync
	$(UV) run --no-sync routewatch demo $(DEMO_ARGS)

bench: sync
	for b in benchmarks/*.py; do echo "== $$b"; $(UV) run --no-sync python $$b || exit 1; done

clean:
	rm -rf .venv $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .hypothesis
