# Everyday tasks. CI runs the README's test command: Debian's chromium, curl and jq, then the same steps as
# `make install lint test`.
PYTHON := .venv/bin/python

.PHONY: install test test-fast lint format bench

install:  ## the virtual environment with the runtime and test dependencies
	python3 -m venv .venv && .venv/bin/pip install -q -r requirements-dev.txt

test:  ## every test, the real model's training included
	$(PYTHON) -m pytest

test-fast:  ## the tests that train or load no network
	$(PYTHON) -m pytest -m "not slow"

lint:  ## what CI checks before the tests
	.venv/bin/ruff check && .venv/bin/ruff format --check

format:  ## fix what the linter and the formatter can
	.venv/bin/ruff check --fix && .venv/bin/ruff format

bench:  ## one benchmark, which prints its table of ratios: make bench NAME=startup runs bench/startup.py
	@test -n "$(NAME)" || { echo "Name a benchmark: make bench NAME=startup (one of: $$(ls bench | grep -v timing | sed 's/\.py//' | tr '\n' ' '))"; exit 2; }
	$(PYTHON) bench/$(NAME).py
