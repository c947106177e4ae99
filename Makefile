# Everyday commands. `make test` is what CI runs (.ci/run) and what the README documents; `make` lists them all.
PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.installed-local
LOCAL_INSTALL_TIME := about 10 s
# checkov pins its own dependency versions; its own environment keeps them away from SAM CLI's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_VERSION := 3.3.30
# The tests' second engine, LocalStack's API Gateway pipeline; its dependencies are pyproject's "engines" group.
LOCALSTACK_VERSION := 2026.3.0
LOCALSTACK_STAMP := $(VENV)/.localstack-core-$(LOCALSTACK_VERSION)
# Slow first-run steps say what they do and print the elapsed time while they run.
PROGRESS := sh tools/with-progress.sh
export SAM_CLI_TELEMETRY := 0

.DEFAULT_GOAL := help
.PHONY: help venv test unit integration lint typecheck validate build clean events local load test-long bench \
	demo-userdata sam-local sam-local-images e2e require-stack-name

help: ## List these targets
	@echo "make <target>   (make local ARGS=--help lists the local API's options)"
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z0-9-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) $(LOCALSTACK_STAMP) ## Create .venv with the pinned dev tools (every target below but local does it first)

$(BIN)/pip:
	@$(PYTHON) -c '' 2>/dev/null || { echo "$(PYTHON) not found: install Python 3.13 (e.g. 'pyenv install 3.13')" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==25.3

# make local needs only pyproject's "local" group; "dev" includes it, so a full install counts for both.
$(LOCAL_STAMP): pyproject.toml | $(BIN)/pip
	@$(PROGRESS) "installing what make local needs into $(VENV) (first run, or pyproject.toml changed): $(LOCAL_INSTALL_TIME)" \
		$(BIN)/pip install --quiet --disable-pip-version-check --group local
	touch $(LOCAL_STAMP)

$(STAMP): pyproject.toml | $(BIN)/pip
	@$(PROGRESS) "installing the pinned dev tools into $(VENV) (first run, or pyproject.toml changed): about a minute" \
		$(BIN)/pip install --quiet --disable-pip-version-check --group dev
	touch $(STAMP) $(LOCAL_STAMP)

# A second step, as pip's resolver would refuse localstack-core next to SAM CLI's click pin.
$(LOCALSTACK_STAMP): $(STAMP)
	@echo "installing localstack-core $(LOCALSTACK_VERSION) without its dependencies (it asks for click>=8.2; SAM CLI pins 8.1.8): a few seconds"
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps localstack-core==$(LOCALSTACK_VERSION)
	touch $(LOCALSTACK_STAMP)

test: lint typecheck validate ## Lint, type-check, validate the template, then every test that needs no AWS account, with the functions' branch coverage
	@# tests/sam_local shares one backend on samconfig's fixed port, so it runs on its own after the rest (xdist's
	@# loadgroup no longer groups on pytest 9.2: pytest-dev/pytest-xdist#1386).
	@# --cov: branch coverage of proxy_fn/ and authorizer_fn/, the Python processes the tests start included
	@# (pyproject's [tool.coverage]); tests/sam_local runs the functions in Docker, where nothing is measured.
	$(BIN)/pytest -n auto --ignore=tests/sam_local --cov --cov-report=term-missing:skip-covered
	$(BIN)/pytest tests/sam_local

unit: venv ## Unit tests only
	$(BIN)/pytest tests/unit

integration: venv ## Integration tests only (real sockets, sam build, the local gateway)
	$(BIN)/pytest tests/integration

lint: venv ## ruff check, ruff format --check, and no import cycle between project modules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tools.import_cycles

typecheck: venv ## mypy --strict
	$(BIN)/mypy proxy_fn authorizer_fn local_gateway tests tools bench demo_backend

validate: venv $(CHECKOV_STAMP) ## sam validate --lint, cfn-lint and checkov on template.yaml and demo/template.yaml
	$(BIN)/sam validate --lint
	$(BIN)/cfn-lint template.yaml demo/template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml -f demo/template.yaml --framework cloudformation --compact --quiet --skip-download

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	@$(PROGRESS) "installing checkov into $(CHECKOV_VENV) (first run only): 20 s to a minute" \
		$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $(CHECKOV_STAMP)

build: venv ## sam build (no Docker)
	$(BIN)/sam build

clean: ## Remove the virtual environments, build output and caches
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*

events: venv ## Re-render events/*.json from tests/support/sample_requests.py through the request template
	$(BIN)/python -m tests.support.sample_requests

PORT ?= 3000
local: $(LOCAL_STAMP) ## The whole API on http://127.0.0.1:3000/v1/ (no Docker, no AWS); options: ARGS=--help
	$(BIN)/python -m local_gateway --port $(PORT) $(ARGS)

load: venv ## 8 clients x 2,000 requests through make local (about a minute): requests/s, p50, p99, leaks
	$(BIN)/python -m bench.load --clients 8 --requests 2000

test-long: venv ## 20,000 examples per property and 30 backend replacements in the rolling test
	HYPOTHESIS_PROFILE=long ROLLING_REPLACEMENTS=30 $(BIN)/pytest tests/property tests/integration/test_rolling_replacement.py

bench: venv ## Both functions as Lambda runs them, then STREAM (root; about 2 min; docs/performance.md, docs/streaming.md)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.stream

demo-userdata: venv ## Copy demo_backend/server.py into the demo instance's user data in demo/template.yaml
	$(BIN)/python -m tools.sync_demo_userdata

sam-local: venv ## `sam local invoke` and `sam local start-api` in Docker (part of make test; skips, saying why, without Docker)
	$(BIN)/pytest tests/sam_local -m sam_local -v

SAM_LOCAL_IMAGE_SOURCE ?= auto
sam-local-images: ## The Lambda python3.13 images sam local needs: pulled, else built offline (as root); tools/sam-local-images.sh
	SAM_LOCAL_IMAGE_SOURCE=$(SAM_LOCAL_IMAGE_SOURCE) PYTHON=$(PYTHON) bash tools/sam-local-images.sh

e2e: require-stack-name venv ## Against a deployed stack: STACK_NAME=<stack> make e2e (with AWS credentials)
	$(BIN)/pytest tests/e2e -m e2e -v

# Before the venv: without a stack, pytest would only report every e2e test as skipped and exit 0.
require-stack-name:
	@test -n "$(STACK_NAME)" || { echo "make e2e: STACK_NAME is not set: run STACK_NAME=<your deployed stack> make e2e, with AWS credentials for its account and region" >&2; exit 2; }
