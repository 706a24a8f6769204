# RecordCheck Baltimore. Two commands matter: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-clock lint typecheck pytest install install-dev clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setup.py compiles these with mypyc (knowledge/compiled.py): an edit means a rebuild.
COMPILED := setup.py knowledge/compiled.py knowledge/engine.py webhooks/screen_csv.py

$(VENV)/.installed: pyproject.toml $(COMPILED) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(COMPILED) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, migrate the SQLite database under var/, load demo data when empty, serve.
run: install
	@mkdir -p var
	$(BIN)/recordcheck db upgrade
	$(BIN)/recordcheck demo-data --if-empty
	$(BIN)/recordcheck serve --host 127.0.0.1 --port 5000

## make test: lint, type-check and run every test (PostgreSQL too when reachable).
test: install-dev lint typecheck pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	@test -x /usr/bin/chromium || echo "make test: Chromium not found at /usr/bin/chromium; the console's browser tests will be skipped (apt-get install chromium to run them)"
	$(BIN)/pytest

## make test-clock: every test again (but the browser's) with the clock set by libfaketime to
## 03:30 UTC tomorrow, when UTC is a day ahead of Baltimore: a test that pins a time the code
## reads from the real clock fails here, not at some hour of a later CI run.
FAKETIME_LIB := $(firstword $(wildcard /usr/lib/*/faketime/libfaketimeMT.so.1))
CLOCK ?= $(shell date -u -d tomorrow +%F) 03:30:00

test-clock: install-dev
	@test -n "$(FAKETIME_LIB)" || { echo "make test-clock: libfaketime not found (apt-get install faketime)"; exit 1; }
	@# An offset, not a start time: every process the tests start sees the same clock.
	FAKETIME="+$$(( $$(date -u -d '$(CLOCK)' +%s) - $$(date -u +%s) ))" \
		FAKETIME_DONT_FAKE_MONOTONIC=0 LD_PRELOAD=$(FAKETIME_LIB) \
		$(BIN)/pytest -q -p no:cacheprovider \
		--deselect tests/console/test_browser_console.py --deselect tests/webhooks/test_try_browser.py \
		--deselect tests/console/test_accessibility.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build knowledge/compiled.json
	find . -path ./$(VENV) -prune -o -name '*.so' -print -exec rm -f {} +
