# The two quick-start commands: `make demo` and `make test`. Each sets up .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint typecheck unit fuzz browser qgis qgis-plugin docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,report,docs,dask]"
	touch $(STAMP)

setup: $(STAMP)

## demo: the batch report on the sample province (workbook, GeoPackage, HTML), per county too,
## the comparison of its farmland with the version before (output/compare/), and the 质检 of
## its sample delivery database (output/qc/)
demo: setup
	$(BIN)/geozones check sample_data/YJJBNT.shp sample_data/sanqusanxian.gpkg
	$(BIN)/geozones report sample_data/geozones.toml -o output --by county --overwrite
	$(BIN)/geozones compare sample_data/YJJBNT_before.shp sample_data/YJJBNT.shp --encoding GBK \
	  --id-field BSM --zones sample_data/sanqusanxian.gpkg --zones-layer XZQ \
	  -o output/compare --overwrite
	$(BIN)/geozones qc sample_data/delivery.gpkg --rules sample_data/delivery_rules.toml \
	  -o output/qc --overwrite

## test: the whole suite: ruff, the import contract (lint-imports), mypy, pytest (tests, doctests, notebooks, the docs build)
test: lint typecheck unit

## docs: the documentation site, offline, warnings as errors, into docs/_build/html
docs: setup
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

unit: setup browser qgis
	@# Bytecode written once: where PYTHONDONTWRITEBYTECODE is set, as on the CI machines, every
	@# process the tests start (commands, workers, kernels) compiled the package again (0.5 s),
	@# and every pytest worker rewrote the tests' asserts again (5 s).
	$(BIN)/python -m compileall -q geozones qgis_plugin
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n auto --dist loadgroup --hypothesis-profile=ci

## fuzz: the property tests (hypothesis) with fresh random examples; `make test` replays fixed ones
fuzz: setup
	$(BIN)/pytest -n auto --hypothesis-profile=fuzz -m hypothesis tests

## browser: Debian's chromium for the HTML report's browser test (skipped where it cannot install)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	    >/dev/null 2>&1 || echo "chromium could not be installed: the browser test will be skipped"; }

## qgis: Debian's QGIS for the QGIS plugin's tests (skipped where it cannot install)
qgis:
	@command -v qgis_process >/dev/null 2>&1 || command -v qgis_process.bin >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      qgis python3-qgis qgis-providers) \
	    >/dev/null 2>&1 || echo "QGIS could not be installed: the QGIS plugin's tests will be skipped"; }

## qgis-plugin: the zip QGIS's "Install from ZIP" accepts, into dist/
qgis-plugin:
	$(PYTHON) scripts/build_qgis_plugin.py --dist dist

clean:
	rm -rf $(VENV) output dist docs/_build .pytest_cache .mypy_cache .ruff_cache
