# The two commands a newcomer needs: `make run` and `make test`. Everything else is for us.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(PYTHON) -m uv
VENV_PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never

# Test defaults: the local servers on their standard ports.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/stepwise
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: help run test install lint format bench clean

help:
	@echo "make run    install what is needed and serve Stepwise at http://127.0.0.1:8000 (PORT overrides)"
	@echo "make test   install what the tests need and run the whole suite on PostgreSQL and Redis"
	@echo "make lint   ruff and mypy;  make format  format the code;  make bench  run the benchmarks"

install: .venv/.installed static/build/.built

# Compiled once here, and the project's own modules before each run of it: every worker,
# timer loop and manage.py the tests start imports all of it afresh, and where
# PYTHONDONTWRITEBYTECODE is set (CI images often set it) each process compiled every module
# again, about 4 s of CPU a process.
.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --locked --quiet --compile-bytecode
	@touch $@

PROJECT_PACKAGES := config accounts engine designer monitoring tests bench
COMPILE := $(VENV_PY) -m compileall -q -j 0 $(PROJECT_PACKAGES) manage.py >/dev/null

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

CANVAS_SOURCES := $(wildcard static/canvas/src/*.ts static/canvas/src/*.tsx static/canvas/src/*.css) static/canvas/tsconfig.json
DASHBOARD_SOURCES := $(wildcard static/dashboards/src/*.ts) static/dashboards/tsconfig.json
ESBUILD := node_modules/.bin/esbuild --bundle --minify --log-level=warning \
	--define:process.env.NODE_ENV='"production"'

# The canvas island (React Flow), its auto-layout Web Worker (elkjs) and the dashboards' charts
# (uPlot, with its CSS as build/dashboards.css), rebuilt when a source changed; type-checking is
# `make lint`'s job, so a build never waits for it.
static/build/.built: node_modules/.package-lock.json $(CANVAS_SOURCES) $(DASHBOARD_SOURCES)
	@mkdir -p static/build
	cp node_modules/htmx.org/dist/htmx.min.js static/build/htmx.min.js
	@mkdir -p static/build/swagger-ui
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css static/build/swagger-ui/
	$(ESBUILD) static/canvas/src/canvas.tsx --format=iife --outfile=static/build/canvas.js
	$(ESBUILD) static/canvas/src/layout-worker.ts --format=iife --outfile=static/build/layout-worker.js
	$(ESBUILD) static/dashboards/src/dashboards.ts --format=iife --outfile=static/build/dashboards.js
	@touch $@

run: install
	@$(COMPILE)
	$(VENV_PY) manage.py migrate --noinput -v 0
	$(VENV_PY) manage.py load_demo
	exec $(VENV_PY) manage.py serve

# Two test processes (pytest-xdist), each with its own test database, queue and Redis prefix
# and its own worker, timer loop and Daphne: the suite mostly waits (on workers, timers,
# browsers), so two cut its time by a third on two cores. Four were no faster there and ran
# PostgreSQL out of connections (100 by default; two peaked at 65). A file's tests stay in one
# process (--dist loadfile), so a module's own workers start once. TEST_PROCESSES=0 runs the
# suite in this process alone (for --pdb or -x).
TEST_PROCESSES ?= 2

test: install
	@.ci/ensure-chromium
	@$(COMPILE)
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		$(VENV_PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy config accounts engine designer monitoring
	node_modules/.bin/tsc -p static/canvas/tsconfig.json
	node_modules/.bin/tsc -p static/dashboards/tsconfig.json

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# bench/flows.py only defines what bench/engine.py measures.
bench: install
	@for bench in $(filter-out bench/flows.py,$(wildcard bench/*.py)); do \
		echo "== $$bench"; $(VENV_PY) $$bench || exit 1; done

clean:
	rm -rf .venv node_modules static/build var .pytest_cache .mypy_cache .ruff_cache
