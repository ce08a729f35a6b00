# zhizao — two commands from a fresh clone: `make run` and `make test`.
#
#   make run      set up, migrate the database, seed the demo, serve on http://127.0.0.1:8000
#   make test     set up, run the whole test suite (SQLite, and PostgreSQL when reachable)
#   make lint     ruff, mypy, import-linter
#   make install  set up only: .venv, Python packages, the PDF's system packages, compiled scoring
#   make bench    HTTP throughput beside the framework floor (wrk; both engines; a few minutes)
#   make clean    remove the virtualenv and caches (keeps the database in var/)
#   make lock     re-pin constraints.txt to the newest versions pyproject.toml allows

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Re-installs the project only when pyproject.toml or constraints.txt is newer than this stamp.
STAMP := $(VENV)/.zhizao-installed
# The exact versions installed (pyproject.toml says what is accepted; `make lock` re-pins).
CONSTRAINTS := constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# What `make test` runs: the whole suite unless narrowed, e.g. `make test TESTS=tests/migrations`.
TESTS ?= tests
# Two workers: this machine has two cores; every worker has its own databases.
# loadgroup: tests/multi (processes started once for the module) runs on one worker, in file
# order (tests/conftest.py, ONE_WORKER_DIRECTORIES); every other test is spread as with `load`.
TEST_WORKERS ?= 2
# System packages WeasyPrint's PDF reports need (design §10).
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-noto-cjk

.PHONY: help run test bench lint lint-ruff lint-format lint-types lint-imports install system-packages clean messages lock

help:
	@echo "make run      set up, migrate, seed the demo, serve on http://$(HOST):$(PORT)"
	@echo "make test     set up, run the whole test suite"
	@echo "make lint     ruff check, ruff format --check, mypy, import-linter, package cycles"
	@echo "make install  set up only (.venv, Python packages, PDF system packages, compiled scoring)"
	@echo "make bench    HTTP req/s, p50, p99 and the ratio to the floor (wrk, both engines)"
	@echo "make clean    remove .venv and caches (keeps the database in var/)"
	@echo "make lock     re-pin constraints.txt to the newest versions pyproject.toml allows"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	@touch $@

# Resolves pyproject.toml afresh in a throw-away virtualenv and pins what it installed; keeps
# the file's comment header. Review the diff and run `make test` before committing it.
lock:
	@lock_venv=$$(mktemp -d) \
	  && trap 'rm -rf "$$lock_venv"' EXIT \
	  && $(PYTHON) -m venv "$$lock_venv" \
	  && "$$lock_venv/bin/python" -m pip install --quiet -e ".[dev]" \
	  && { grep '^#' $(CONSTRAINTS); "$$lock_venv/bin/python" -m pip freeze --exclude-editable; } > $(CONSTRAINTS).new \
	  && mv $(CONSTRAINTS).new $(CONSTRAINTS) \
	  && echo "constraints.txt re-pinned; review 'git diff constraints.txt', then run make test"

# On Debian as root: install what is missing and say so. Elsewhere: print the command, carry on.
system-packages:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1; then \
	  for p in $(SYSTEM_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	  done; \
	else \
	  missing=" $(SYSTEM_PACKAGES)"; \
	fi; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ -f /etc/debian_version ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing system packages for PDF reports:$$missing (apt-get)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null; } \
	    && echo "Installed:$$missing" \
	    || echo "WARNING: apt-get could not install$$missing; PDF reports will be slow or lack Chinese glyphs."; \
	else \
	  echo "NOTE: PDF reports need system packages that are missing here:$$missing"; \
	  echo "      On Debian/Ubuntu run:  sudo apt-get install --no-install-recommends$$missing"; \
	  echo "      Carrying on; everything but fast, correct Chinese PDFs works without them."; \
	fi

# scoring's hot modules compiled by mypyc (scoring/_native.py says when they are used), rebuilt
# when a scoring source changes. Without a C compiler the engine runs as Python: slower, same results.
NATIVE := scoring/_native.json
$(NATIVE): $(wildcard scoring/*.py) tools/compile_scoring.py | $(STAMP)
	@$(BIN)/python -m tools.compile_scoring \
	  || echo "NOTE: scoring could not be compiled (a C compiler and Python's headers are needed); it runs as Python."

install: $(STAMP) system-packages $(NATIVE)

# Links in e-mails (invitations, resets) start with ZHIZAO_PUBLIC_URL: unless the environment or
# .env sets it, it is where this serves (on another PORT they pointed at port 8000).
run: install
	$(BIN)/zhizao db upgrade
	$(BIN)/zhizao seed-demo
	if [ -z "$${ZHIZAO_PUBLIC_URL:-}" ] && ! grep -qs '^ZHIZAO_PUBLIC_URL=' .env; then \
	  export ZHIZAO_PUBLIC_URL="http://$(HOST):$(PORT)"; fi; \
	exec $(BIN)/zhizao serve --host $(HOST) --port $(PORT)

# Includes the browser tests (tests/browser, Playwright driving Debian's chromium): they skip when
# chromium is missing, except under CI=true, where that fails the run.
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(TESTS) $(PYTEST_ARGS)

# One uvicorn worker pinned to core 0, wrk to core 1 (docs/benchmarks.md); e.g.
# `make bench BENCH_ARGS="--engines sqlite --duration 3 --only result,healthz"`.
BENCH_ARGS ?=
bench: install
	$(BIN)/python benchmarks/endpoints.py $(BENCH_ARGS)

# Separate steps so that `make -k lint` (as .ci/run does) reports every kind of problem at once.
lint: lint-ruff lint-format lint-types lint-imports

lint-ruff: $(STAMP)
	$(BIN)/ruff check .

lint-format: $(STAMP)
	$(BIN)/ruff format --check .

lint-types: $(STAMP)
	$(BIN)/mypy app scoring tools
	$(BIN)/mypy --strict scoring

# The floors, domain boundaries, scoring's purity and no package cycles (pyproject.toml); then
# the package-level cycles in app/ by name (none: docs/architecture.md).
lint-imports: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m tools.package_cycles

# UI strings: re-extract into app/kit/locale/messages.pot, merge into the zh_CN and en catalogs and
# compile the .mo files (committed; a test fails when they are stale). Translate new zh_CN entries.
messages: $(STAMP)
	$(BIN)/python -m tools.catalogs

# Keeps var/ (the development database): remove it yourself to start from scratch.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache \
	  htmlcov .coverage *.egg-info build scoring/*.so $(NATIVE)
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
