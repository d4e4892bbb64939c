# Run `make help` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY := .venv/bin/python
# Rasa must never send telemetry or error reports to outside hosts.
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help setup run test test-fast test-integration lint format typecheck validate train lock clean
.PHONY: browser-setup
.PHONY: index bench bench-encoder loadtest bench-chat
.PHONY: telegram

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

setup: ## Create .venv and .venv-rasa from the pinned files (skipped when up to date)
	@scripts/ensure-venvs.sh

browser-setup: ## Chromium + fonts (apt-get) and axe-core (npm ci) for tests/browser, if missing
	@scripts/ensure-browser.sh

run: setup validate index train ## Set up, validate data, index and train if needed, start Rasa + actions + app
	@$(PY) scripts/stack.py up

telegram: setup ## Telegram bot by polling, next to `make run` (needs APP_TELEGRAM_TOKEN)
	@$(PY) -m channels.telegram

test: setup browser-setup lint typecheck validate index train ## Set up, lint, type-check, validate, index, train, run all tests
	@$(PY) -m pytest; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test-fast: setup ## Only the tests that need no Rasa server (quick)
	@$(PY) -m pytest -m "not rasa"; rc=$$?; [ $$rc -eq 5 ] && exit 1; exit $$rc

test-integration: setup browser-setup ## Only the tests that start the real Rasa, action server and app
	@$(PY) -m pytest -m rasa

lint: setup ## Ruff lint and format check
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

format: setup ## Apply ruff formatting and safe fixes
	@.venv/bin/ruff check --fix .
	@.venv/bin/ruff format .

typecheck: setup ## mypy (strict) on every package
	@.venv/bin/mypy bot knowledge indexer channels participation scripts bench

validate: setup ## Validate the knowledge base records
	@$(PY) -m indexer validate

index: setup ## Build the search index (skipped when data and model are unchanged)
	@$(PY) -m indexer convert
	@$(PY) -m indexer build

bench-encoder: setup ## Encoder backends: query p50/p95 on one thread, documents/s, cosine vs engine (minutes)
	@$(PY) -m indexer convert
	@$(PY) bench/encoder.py

bench: setup ## Retrieval quality and speed benchmarks (minutes; writes docs/benchmarks.md)
	@$(PY) bench/run.py

loadtest: setup validate index train ## Whole-system load test vs the `rasa init` bot (~10-15 min; writes docs/benchmarks.md)
	@$(PY) bench/load.py

bench-chat: setup validate index train ## Chat answers on the real stack: dev set (24 languages) + journeys (~15 min; writes docs/benchmarks.md)
	@$(PY) bench/chat.py

train: setup ## Train the Rasa model if bot/ config, domain or data changed
	@$(PY) scripts/stack.py train

lock: setup ## Re-pin requirements/app.txt from the current .venv
	@{ head -2 requirements/app.txt; .venv/bin/pip freeze --exclude-editable | sed 's/+cpu$$//'; } > requirements/app.txt.new
	@mv requirements/app.txt.new requirements/app.txt

clean: ## Remove environments, trained models, indexes and runtime data
	rm -rf .venv .venv-rasa bot/models var .mypy_cache .ruff_cache .pytest_cache
