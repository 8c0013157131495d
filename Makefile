# Two set-up commands on a fresh machine: `make demo` and `make test`.
# Each bootstraps the virtualenv it needs from a clean clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit e2e bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/followupd demo

lint: $(STAMP)
	$(BIN)/ruff check followupd tests bench
	$(BIN)/ruff format --check followupd tests bench
	$(BIN)/mypy --strict followupd

# Unit and contract tests: no real daemon process (tests/unit, tests/contract).
unit: $(STAMP)
	$(BIN)/pytest -q tests/unit tests/contract

# The real daemon against the sandbox: end to end, crashes, faults, the service.
e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

test: lint unit e2e

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
