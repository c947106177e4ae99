# Everyday commands. `make test` is what CI runs (.ci/run) and what the README documents.
PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins its own dependency versions; its own environment keeps them away from SAM CLI's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_VERSION := 3.3.30
export SAM_CLI_TELEMETRY := 0

.PHONY: venv test unit integration lint typecheck validate build clean events local load test-long bench demo-userdata e2e sam-local

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.13 (e.g. 'pyenv install 3.13')" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==25.3
	$(BIN)/pip install --quiet --disable-pip-version-check --group dev
	touch $(STAMP)

## Lint, type-check, validate the template, then every test that runs without an AWS account.
test: lint typecheck validate
	$(BIN)/pytest

unit: venv
	$(BIN)/pytest tests/unit

integration: venv
	$(BIN)/pytest tests/integration

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy proxy_fn authorizer_fn local_gateway tests tools bench demo_backend

validate: venv $(CHECKOV_STAMP)
	$(BIN)/sam validate --lint
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $(CHECKOV_STAMP)

build: venv
	$(BIN)/sam build

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

## Re-render events/*.json from tests/support/sample_requests.py through template.yaml's request template.
events: venv
	$(BIN)/python -m tests.support.sample_requests

## The whole API on 127.0.0.1:$(PORT) (no Docker, no AWS): demo backend, authorizer, VTL, proxy_fn.
PORT ?= 3000
local: venv
	$(BIN)/python -m local_gateway --port $(PORT)

## 8 clients x 2,000 requests through `make local`: requests/s, p50, p99, errors, leaked descriptors.
load: venv
	$(BIN)/python -m bench.load --clients 8 --requests 2000

## The default suite with 20,000 examples per property instead of 1,000.
test-long: venv
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/property

## Side-by-side measurements on 127.0.0.1 (not part of `make test`); results table in the README.
bench: venv
	$(BIN)/python -m bench.run

## Copy demo_backend/server.py into the demo instance's user data in template.yaml.
demo-userdata: venv
	$(BIN)/python -m tools.sync_demo_userdata

## `sam local invoke` and `sam local start-api` for real (part of `make test`); needs Docker and the Lambda python3.13
## images, else it skips saying how to get them. Timings at the end.
sam-local: venv
	$(BIN)/pytest tests/sam_local -m sam_local -v

## Against a deployed stack: STACK_NAME=<stack> make e2e (AWS credentials for its account and region).
e2e: venv
	$(BIN)/pytest tests/e2e -m e2e -v
