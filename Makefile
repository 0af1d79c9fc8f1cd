# royalty-ledger. `make demo` and `make test` set themselves up on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help setup demo test chromium compiler lint bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# The native line splitting and split plan (ledger/_native.c) are built by pip; it needs a C compiler and Python's headers.
$(STAMP): pyproject.toml ledger/_native.c | compiler
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install the package with its dev tools

demo: $(STAMP) ## generate a month of sample logs, ingest, settle two schemes, compare (output in demo/)
	$(VENV)/bin/royalty demo --dir demo

test: $(STAMP) chromium ## lint, type-check and run the test suite (this is what CI runs)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

compiler: ## gcc and Python's headers from Debian, for the C extension (skipped when both are there)
	@command -v cc >/dev/null && $(PYTHON) -c "import os, sysconfig; \
		assert os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))" 2>/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq gcc libc6-dev python3-dev; }

chromium: ## Debian's headless Chromium for the report page tests (skipped when /usr/bin/chromium exists)
	@test -x /usr/bin/chromium || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; }

lint: $(STAMP) ## ruff and mypy only
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP) ## benchmarks side by side with GoAccess (from Debian); writes docs/benchmarks.md
	@command -v goaccess >/dev/null && test -x /usr/bin/time || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq goaccess time; }
	@# the bytecode an installed package has (pip compiles it; an editable install under
	@# PYTHONDONTWRITEBYTECODE never caches it, and each run would compile the sources: 0.05 s)
	$(PY) -m compileall -q ledger royalty reports crawler >/dev/null
	$(PY) bench/run.py

clean: ## remove the virtual environment, caches and demo output
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache *.egg-info
