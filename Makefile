# jupyterlab-compute-panel: the two commands of the README, and what they need.
#   make start   set up (once), then JupyterLab with the extension, the demo catalog and sample grants
#   make test    set up (once), then every test layer: lint, jest, pytest, peer tests, auth check, wheel check, galata
# Both are idempotent: each step leaves a stamp in .make/ and reruns only when its inputs change.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make
PORT ?= 8888
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

TS_SOURCES := $(shell find src style schema -type f 2>/dev/null) package.json tsconfig.json

.PHONY: help setup start test lint jest pytest peers check-auth check-wheel galata bench screenshots clean

help:
	@echo "make start   JupyterLab with the compute panel, the demo catalog and sample grants (http://localhost:$(PORT)/lab)"
	@echo "make test    every test layer (lint, jest, pytest, peer tests, auth check, wheel check, galata)"
	@echo "make screenshots  the README's screenshots, light and dark, from the browser tests"
	@echo "make bench   benchmarks (metering, bundle size, rollups, fingerprint capture, SSH tiers, the lab's gateway, move latency)"

$(STAMP):
	@mkdir -p $(STAMP)

# Python environment: the package (editable) with its test and dev extras.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP)/python: pyproject.toml | $(BIN)/python $(STAMP)
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install -q -e ".[test,dev,demo]"
	@touch $@

# Front end: node modules from the lockfile, then the prebuilt labextension.
$(STAMP)/npm: package.json package-lock.json | $(STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMP)/labextension: $(TS_SOURCES) $(STAMP)/npm $(STAMP)/python
	PATH="$(CURDIR)/$(BIN):$$PATH" npm run build:prod
	$(BIN)/jupyter-builder develop --overwrite . >/dev/null
	@touch $@

$(STAMP)/ui-tests: ui-tests/package.json ui-tests/package-lock.json | $(STAMP)
	cd ui-tests && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(STAMP)/python $(STAMP)/labextension

start: setup
	@# The demo's root is untracked: the welcome notebook and the examples, copied once (your edits,
	@# outputs and executed copies stay there, out of git).
	mkdir -p demo/notebooks/examples
	[ -e demo/notebooks/welcome.ipynb ] || cp demo/welcome.ipynb demo/notebooks/welcome.ipynb
	for nb in examples/*.ipynb; do [ -e "demo/notebooks/$$nb" ] || cp "$$nb" "demo/notebooks/$$nb"; done
	@# The sample grants only where missing, you a member only where you have no role yet: a rerun
	@# never undoes an edit of a grant nor demotes its PI.
	$(BIN)/jupyter compute-panel grants import --only-missing demo/grants.json
	me=$$($(BIN)/jupyter compute-panel whoami) && for grant in nsf-cns-2401234 erc-stg-101076543; do \
	  $(BIN)/jupyter compute-panel grants add-member --keep-role $$grant "$$me" member; done
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --config=demo/jupyter_server_config.py --port=$(PORT)

lint: setup
	npm run lint:check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# The layers of docs/architecture.md: arrows down only, no circles, a core free of the web layer.
	$(BIN)/lint-imports
	$(BIN)/python docs/gen_api.py --check

jest: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" COMPUTE_PANEL_PYTHON="$(CURDIR)/$(BIN)/python" npm test -- --ci

# Every layer, and --require-all: a test whose prerequisite (PostgreSQL, the SSH test host) is
# missing fails naming it, where a plain `pytest` skips it (README, Development).
pytest: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest --require-all

# jupyter_server's own kernels, sessions, kernelspecs and gateway tests (from the sdist of the
# installed version, kept in .make/peers/), without and with the extension: none may pass
# without it and fail with it (scripts/peer_tests.py; about 3 minutes).
peers: setup
	$(BIN)/python scripts/peer_tests.py

check-auth: setup
	$(BIN)/python scripts/check_auth.py

# `pip install .` alone gives a working, prebuilt extension: install the wheel in a clean venv.
check-wheel: setup
	rm -rf $(STAMP)/wheel $(STAMP)/wheel-venv
	$(BIN)/python -m pip wheel -q --no-deps -w $(STAMP)/wheel .
	$(PYTHON) -m venv $(STAMP)/wheel-venv
	$(STAMP)/wheel-venv/bin/python -m pip install -q $(STAMP)/wheel/*.whl "jupyterlab==4.6.4"
	$(STAMP)/wheel-venv/bin/jupyter labextension list 2>&1 | grep -E "jupyterlab-compute-panel .*enabled.*OK"
	$(STAMP)/wheel-venv/bin/jupyter server extension list 2>&1 | grep -E "jupyterlab_compute_panel .*enabled"
	$(STAMP)/wheel-venv/bin/python -c "from importlib.metadata import entry_points as e; assert 'compute-panel-provisioner' in [x.name for x in e(group='jupyter_client.kernel_provisioners')]"
	@echo "wheel check: the installed wheel carries the prebuilt labextension, the server extension and the provisioner"

galata: setup $(STAMP)/ui-tests
	cd ui-tests && PATH="$(CURDIR)/$(BIN):$$PATH" npx playwright test
	# The lab (a real JupyterHub, the gateway, alice and bob; needs root and PostgreSQL, as tests/lab/).
	cd ui-tests && PATH="$(CURDIR)/$(BIN):$$PATH" npx playwright test --config playwright.lab.config.js

test: lint jest pytest peers check-auth check-wheel galata
	@echo "All test layers passed."

bench: setup $(STAMP)/ui-tests
	$(BIN)/python bench/bench_metering.py
	$(BIN)/python bench/bench_bundle.py
	$(BIN)/python bench/bench_rollups.py
	$(BIN)/python bench/bench_fingerprint.py
	$(BIN)/python bench/bench_compare.py
	$(BIN)/python bench/bench_remote.py
	$(BIN)/python bench/bench_gateway.py
	cd ui-tests && PATH="$(CURDIR)/$(BIN):$$PATH" npx playwright test --config playwright.bench.config.js

# The README's and docs' screenshots, light and dark, from the browser tests that reach each view.
screenshots: setup $(STAMP)/ui-tests
	cd ui-tests && PATH="$(CURDIR)/$(BIN):$$PATH" UPDATE_README_SCREENSHOT=1 npx playwright test \
	  tests/compute-panel.spec.ts tests/dashboard.spec.ts tests/history.spec.ts tests/compare.spec.ts

clean:
	rm -rf $(STAMP) lib jupyterlab_compute_panel/labextension tsconfig.tsbuildinfo
