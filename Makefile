# Handoff: `make demo` and `make test` work from a fresh clone; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: install demo serve test checks lint typecheck checkov asl unit service integration infra e2e browser layer synth deploy bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,report]'
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

install: $(STAMP) node_modules/.installed

demo: $(STAMP)
	$(PY) -m handoff.cli demo

serve: $(STAMP)
	$(PY) -m handoff.cli serve

lint: $(STAMP)
	$(VENV)/bin/ruff check handoff functions infra tests bench
	$(VENV)/bin/ruff format --check handoff functions infra tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The Lambda layer, built with pip for arm64 (no Docker).
layer: $(STAMP)
	$(PY) layers/build.py

unit: $(STAMP)
	$(VENV)/bin/pytest -q tests/unit

service: $(STAMP)
	$(VENV)/bin/pytest -q tests/service

integration: $(STAMP)
	$(VENV)/bin/pytest -q tests/integration

infra: $(STAMP) layer
	$(VENV)/bin/pytest -q tests/infra

e2e: $(STAMP)
	$(VENV)/bin/pytest -q tests/e2e

# The console in headless Chromium (the system one; Playwright drives it).
browser: $(STAMP)
	$(VENV)/bin/pytest -q tests/browser

# Everything before the tests, side by side where it can be (the two virtual environments and npm
# install at once, then ruff, mypy, checkov and the ASL check).
checks: install layer lint typecheck checkov asl

# The tiers run in parallel (pytest-xdist), recording every AWS call
# the handlers make; then tests/grants checks that recording against each function's IAM role.
TEST_WORKERS ?= 3
AWS_CALLS := build/aws-calls.jsonl
test:
	$(MAKE) --no-print-directory -j4 --output-sync=target checks
	@mkdir -p build && rm -f $(AWS_CALLS)
	HANDOFF_RECORD_AWS_CALLS=$(CURDIR)/$(AWS_CALLS) $(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist load tests --ignore=tests/grants
	HANDOFF_RECORD_AWS_CALLS=$(CURDIR)/$(AWS_CALLS) HANDOFF_RECORDED_TIERS=integration,e2e $(VENV)/bin/pytest -q tests/grants

# The workflow checked by an independent ASL validator (asl-validator, pinned in package.json),
# rendered with well-formed stand-in ARNs exactly as the stack substitutes the real ones.
ASL_RENDERED := build/handoff.asl.rendered.json
asl: $(STAMP) node_modules/.installed
	@mkdir -p build
	$(PY) -c "import sys; from handoff.deploy.functions import ALL_FUNCTIONS; from handoff.deploy.workflow import function_substitutions, render_definition; sys.stdout.write(render_definition(function_substitutions({f.key: f'arn:aws:lambda:us-east-1:123456789012:function:Handoff-{f.key}' for f in ALL_FUNCTIONS})))" > $(ASL_RENDERED)
	npx --no-install asl-validator --json-path $(ASL_RENDERED)

# checkov pins its own boto3, so it lives in its own virtual environment.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov>=3.2,<4'
	touch $@

checkov: $(STAMP) layer $(CHECKOV_VENV)/.installed
	$(PY) -c "from infra.app import build_app; app, _ = build_app(outdir='build/synth'); app.synth()" 2>/dev/null
	$(CHECKOV_VENV)/bin/checkov -f build/synth/Handoff.template.json --config-file .checkov.yaml --skip-download

synth: install layer
	npx cdk synth --quiet

deploy: install layer
	npx cdk deploy

# Benchmarks: never part of make test; writes BENCHMARKS.md.
bench: $(STAMP)
	POWERTOOLS_LOG_LEVEL=ERROR $(PY) -m bench

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules cdk.out build outbox
