# Make bootstraps the toolchain (venv, npm packages, the Lambda layer); Invoke does the work.
# Every target is idempotent and a no-op when its inputs have not changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup local test check lint browser clean help
help:
	@echo "make local   set up, start the AWS emulator, deploy 'local', write frontend/.env, publish the SPA"
	@echo "make test    set up (browser included) and run every test"
	@echo "make check   lint + unit, infra-free task tests (fast, no emulator)"
	@echo "make setup   only install the toolchain (.venv, node_modules, Lambda layer)"

setup: $(VENV)/.installed node_modules/.installed frontend/node_modules/.installed .tmkit/.layer

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.tmkit/.layer: lambda/api/requirements.txt $(VENV)/.installed
	$(BIN)/inv lambda.build
	@mkdir -p .tmkit && touch $@

# The main job on the embedded default: the offline `local` environment.
local: setup
	$(BIN)/inv local.up
	$(BIN)/inv deploy --env local
	$(BIN)/inv outputs.env --env local --write frontend/.env
	$(BIN)/inv frontend.build --env local
	$(BIN)/inv frontend.publish --env local
	@echo "Done: stack TimeManagement-local deployed on the emulator (http://localhost:4599), frontend/.env written," >&2
	@echo "SPA published. Use the app offline: .venv/bin/inv local.user --env local me@example.com --generate" >&2
	@echo "then .venv/bin/inv local.serve --env local and open http://127.0.0.1:8080" >&2

browser:
	scripts/install-browser.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: lint
	$(BIN)/pytest -q -n auto --dist loadfile tests/unit tests/tasks

test: setup browser lint
	cd frontend && npm test --silent
	$(BIN)/pytest -n auto --dist loadfile

clean:
	-$(BIN)/inv local.down
	rm -rf cdk.out .tmkit
