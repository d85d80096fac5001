# iam-last-accessed — the table of contents. `make demo` and `make test` are the two commands.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV          := .venv
PY            := $(VENV)/bin/python
EMULATOR_PORT ?= 5000
LAMBDA_PORT   ?= 9000
INPUT         ?=
# Every cargo command selects the whole workspace, so features unify the same way and
# nothing is compiled twice; the run filter (-E) picks the tests.
NEXTEST       := cargo nextest run --workspace --no-fail-fast
export EMULATOR_PORT LAMBDA_PORT

.PHONY: help setup setup-deploy fmt lint test test-e2e build build-lambdas sam-build package publish emulator local-up local-down run demo bench bench-scale deploy delete clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: setup-deploy $(VENV)/.installed ## everything tests and the demo need: setup-deploy, the test venv, checkov, npm tools, chromium
	$(MAKE) --no-print-directory setup-infra
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || { echo "make setup: the page tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; }

# What deploying from source needs, and no more (no chromium, no test tools): Rust, cargo-lambda
# and zig from pip in .venv, the SAM CLI in .venv-sam, the crates. sam-build, deploy, package
# and publish depend on it alone.
setup-deploy: $(VENV)/.deploy-installed setup-sam ## what deploying from source needs: cargo-lambda + zig (.venv), SAM CLI (.venv-sam), crates
	@command -v cargo >/dev/null || { echo "make: building the functions needs a Rust toolchain (rustup.rs); or deploy a release bundle with the AWS CLI alone (docs/deploy.md)" >&2; exit 1; }
	cargo fetch --locked

$(VENV)/.deploy-installed: infra/requirements-deploy.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-deploy.txt
	touch $@

$(VENV)/.installed: $(VENV)/.deploy-installed tests/requirements.txt tests/emulator/requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

.PHONY: setup-sam setup-infra
setup-sam:
	@[ -x .venv-sam/bin/sam ] || { python3 -m venv .venv-sam && .venv-sam/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-sam.txt; }

setup-infra: setup-sam
	@[ -x .venv-checkov/bin/checkov ] || { python3 -m venv .venv-checkov && .venv-checkov/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-checkov.txt; }
	@[ -d infra/node_modules ] || npm ci --prefix infra --no-audit --no-fund --silent

fmt: ## format the Rust code
	cargo fmt --all

lint: ## rustfmt, clippy, and the stack lints (cfn-lint, sam validate --lint, checkov, asl-validator)
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	bash infra/lint.sh

build: ## compile everything (dev profile, shared by tests and the local stack)
	cargo build --workspace --all-targets

# The functions' architecture for build-lambdas and package: arm64 (the template's) or x86_64.
ARCH ?= arm64
# The Lambda binaries (not the CLI, nor the core's bench programs).
FUNCTIONS := plan generate check write summarize

build-lambdas: setup-deploy ## release binaries for AWS (ARCH=arm64, or x86_64; cargo-lambda + zig from .venv)
	@case "$(ARCH)" in arm64|x86_64) ;; *) echo "make: ARCH=$(ARCH): arm64 or x86_64" >&2; exit 2;; esac
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --$(subst _,-,$(ARCH)) $(FUNCTIONS:%=-p %)

test: setup build ## unit + adapter tests, emulator conformance, the page in chromium, end-to-end on the local stack, stack lints
	cargo fmt --all -- --check
	$(NEXTEST) -E 'not package(e2e)'
	$(PY) -m pytest tests/emulator tests/browser -q
	$(MAKE) --no-print-directory test-e2e
	bash infra/lint.sh

test-e2e: build ## end-to-end, report and stack tests on the template-deployed local stack, IAM enforced (up, run, down)
	IAM_PAGE_SIZE=100 $(PY) tests/local/stack.py up
	source $${LOCAL_DIR:-.local}/env && $(NEXTEST) -E 'package(e2e)' && $(PY) -m pytest tests/reports tests/stack -q; \
	  status=$$?; $(PY) tests/local/stack.py down; exit $$status

emulator: $(VENV)/.installed ## run the emulator in the foreground on 127.0.0.1:$(EMULATOR_PORT)
	$(PY) tests/emulator/server.py --host 127.0.0.1 --port $(EMULATOR_PORT)

local-up: setup build ## emulator + each function's runtime API + the stack in moto; writes .local/env
	$(PY) tests/local/stack.py up

local-down: ## stop everything local-up started
	$(PY) tests/local/stack.py down

run: build ## start a run on the configured state machine, follow it, print the summary: make run INPUT=file.json
	@if [ -f .local/env ]; then source .local/env; fi; target/debug/ila run $(if $(INPUT),--input $(INPUT),)

demo: setup build ## fresh clone → a scan of a seeded Organization (4 accounts, one without the member role), reports in ./demo-reports/
	bash tests/local/demo.sh

bench: setup build ## a scan of N principals at an emulated IAM rate R; prints figures (ACCOUNTS=A: over A member accounts, R each; INCREMENTAL=1 CHURN=0.1: then an incremental scan)
	$(if $(N),N=$(N) )$(if $(R),R=$(R) )$(if $(ACCOUNTS),ACCOUNTS=$(ACCOUNTS) )$(if $(INCREMENTAL),INCREMENTAL=$(INCREMENTAL) )$(if $(CHURN),CHURN=$(CHURN) )bash tests/local/bench.sh

bench-scale: setup ## Summarize over synthetic runs of 100,000 and 1,000,000 principals (no IAM; release; SIZES=N:ACCOUNTS,...); prints figures
	$(VENV)/bin/python tests/local/bench_scale.py $(if $(SIZES),--sizes $(SIZES))

sam-build: setup-deploy ## sam build of infra/template.yaml (cargo-lambda, release, arm64): what deploy builds; no terminal needed
	cd infra && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ../.venv-sam/bin/sam build --template template.yaml

deploy: sam-build ## sam deploy of what sam-build built; guided the first time (or GUIDED=1), samconfig kept
	cd infra && if [ -z "$(GUIDED)" ] && grep -q '^region' samconfig.toml; then \
	    ../.venv-sam/bin/sam deploy; else ../.venv-sam/bin/sam deploy --guided; fi

package: build-lambdas ## dist/iam-last-accessed-<version>.zip: packaged template, function zips, deploy.sh (needs only the AWS CLI to deploy); ARCH=x86_64: -x86_64.zip
	.venv-sam/bin/python infra/package.py bundle --binaries target/lambda --architecture $(ARCH)

# The version of the workspace (Cargo.toml), read when publish runs.
VERSION = $(shell .venv-sam/bin/python infra/package.py version)

publish: ## publish to the Serverless Application Repository: make publish BUCKET=<bucket SAR may read> (untested here)
	@[ -n "$(BUCKET)" ] || { echo "make publish: BUCKET=<an S3 bucket whose policy lets serverlessrepo.amazonaws.com read it> is required (docs/deploy.md)" >&2; exit 2; }
	$(MAKE) --no-print-directory sam-build
	@[ -n "$(VERSION)" ] || { echo "make publish: no version from infra/package.py version (Cargo.toml)" >&2; exit 1; }
	cd infra && ../.venv-sam/bin/sam package --template-file .aws-sam/build/template.yaml --s3-bucket $(BUCKET) \
	    --s3-prefix iam-last-accessed/$(VERSION) --output-template-file .aws-sam/packaged.yaml
	cd infra && ../.venv-sam/bin/sam publish --template .aws-sam/packaged.yaml --semantic-version $(VERSION)

delete: ## delete the deployed stack (the report bucket is retained)
	cd infra && ../.venv-sam/bin/sam delete

clean: local-down ## remove build output and local state
	cargo clean
	rm -rf .local demo-reports bench-results dist
