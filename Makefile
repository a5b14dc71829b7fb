# The two quick-start commands: `make demo` and `make test`. Each sets up .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint typecheck unit clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## demo: read the sample province, report what was repaired or guessed, write coverage to output/
demo: setup
	$(BIN)/python examples/coverage_demo.py sample_data output --overwrite

## test: the whole suite: ruff, mypy, pytest (with doctests)
test: lint typecheck unit

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

clean:
	rm -rf $(VENV) output .pytest_cache .mypy_cache .ruff_cache
