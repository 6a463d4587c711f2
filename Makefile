# Two commands for a newcomer: `make up` runs the store, `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
EMULATOR_VENV := .venv-emulator
LOAD_VENV := .venv-load
BIN := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help install browser up down status test test-unit lint docs format clean load

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt layers/store/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null || { \
	  echo "error: the project needs Python 3.11 as '$(PYTHON)'"; \
	  echo "fix: install Python 3.11, or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt -r layers/store/requirements.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

$(EMULATOR_VENV)/bin/.installed: localstack/requirements-emulator.txt
	$(PYTHON) -m venv $(EMULATOR_VENV)
	$(EMULATOR_VENV)/bin/pip install -q --disable-pip-version-check -r localstack/requirements-emulator.txt
	@touch $@

$(LOAD_VENV)/bin/.installed: loadtest/requirements-load.txt
	$(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install -q --disable-pip-version-check -r loadtest/requirements-load.txt
	@touch $@

install: $(BIN)/.installed $(EMULATOR_VENV)/bin/.installed $(LOAD_VENV)/bin/.installed  ## create .venv, .venv-emulator and .venv-load

browser:  ## headless Chromium + its WebDriver for the browser tests (Debian packages; idempotent)
	bash localstack/install-browser.sh

up: install  ## start everything (Cassandra, AWS emulator, deployed app, docs site) and print the URLs
	$(BIN)/storectl up

down:  ## stop everything started by `make up`
	@if [ -x $(BIN)/storectl ]; then $(BIN)/storectl down; else echo "nothing to stop (no .venv)"; fi

status:  ## what runs and where
	$(BIN)/storectl status

lint: install  ## ruff, mypy and sam validate --lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --python-executable $(LOAD_VENV)/bin/python loadtest/locustfile.py loadtest/load_run.py
	SAM_CLI_TELEMETRY=0 $(BIN)/sam validate --lint --template template.yaml --region us-east-1

docs: install  ## build the docs site into site/ (strict: a broken link or a page missing from nav fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

format: install  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

USERS ?= 20
DURATION ?= 2m
SPAWN_RATE ?= 2
load: install  ## load run on the make-up stack: make load USERS=20 DURATION=2m (UI=1: web UI on 127.0.0.1:8089)
	$(LOAD_VENV)/bin/python loadtest/load_run.py --users $(USERS) --duration $(DURATION) --spawn-rate $(SPAWN_RATE) $(if $(UI),,--headless)

test-unit: install  ## unit and contract tests (no servers)
	$(BIN)/pytest tests/unit tests/contract

test: lint browser  ## the whole suite; starts and stops its own Cassandra, emulator and docs server
	$(BIN)/pytest

clean:  ## remove build output and local state of stopped stacks
	rm -rf .aws-sam .state/*/build .state/*/docs site .artifacts .pytest_cache .mypy_cache .ruff_cache
