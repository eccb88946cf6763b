# One command to install and run, one to test. See README.md.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# pip's own progress (one line per package, download bars on a terminal); INSTALL_FLAGS=--quiet silences it (not
# PIP_QUIET: make passes its variables to pip, which reads PIP_QUIET as its own setting).
INSTALL_FLAGS ?=
MEDIAPIPE := mediapipe==0.10.21

.PHONY: install install-dev run test lint fmt mypy bench load chaos gallery screenshots quality migrate schema docs-errors clean

# requires-python pins 3.11 (the locks are resolved and tested on it); a 3.11 under another name or path:
# make run PYTHON=/path/to/python3.
$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Idempotent: reinstalls only when the lock or pyproject changes. mediapipe is installed without its declared
# dependencies (jax, opencv-contrib, ... which it does not import at run time; docs/engines.md); the lock holds
# what it really needs.
# Two sets (pyproject.toml): the runtime (requirements.lock) for `make run` and the image, the development set
# (requirements-dev.lock = the runtime lock + test, lint and load tools) for `make test` and the benches.
$(STAMP): $(PY) requirements.lock pyproject.toml
	@echo "Installing the runtime dependencies into $(VENV) (first run only: a few minutes) ..."
	$(PIP) install $(INSTALL_FLAGS) -r requirements.lock
	$(PIP) install $(INSTALL_FLAGS) --no-deps $(MEDIAPIPE)
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock clients/python/pyproject.toml
	@echo "Installing the development dependencies into $(VENV) ..."
	$(PIP) install $(INSTALL_FLAGS) -r requirements-dev.lock
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

run: install
	$(PY) scripts/run.py

test: install-dev
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/ruff format --no-cache --check .
	$(VENV)/bin/mypy
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(VENV)/bin/pytest

# Fails on a lint finding, on a file `ruff format` would change, or on a type error (`make fmt` fixes the first two).
lint: install-dev
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/ruff format --no-cache --check .
	$(VENV)/bin/mypy

fmt: install-dev
	$(VENV)/bin/ruff format --no-cache .
	$(VENV)/bin/ruff check --no-cache --fix .

# The engines and every service and selector module ([tool.mypy] in pyproject.toml).
mypy: install-dev
	$(VENV)/bin/mypy

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --format openapi-json --file docs/openapi.json

docs-errors: install
	$(PY) manage.py errors_doc

bench: install-dev
	$(PY) scripts/bench_all.py

load: install-dev
	$(PY) scripts/load.py

chaos: install-dev
	$(PY) scripts/chaos.py

# The local engine's gallery (docs/engines.md) and the watermark preview's sample with its record (docs/watermark.md).
gallery: install
	$(PY) scripts/gallery.py
	$(PY) scripts/watermark_example.py

# Rewrites docs/dashboard/*.png: the dashboard's browser tests, run with Debian's Chromium, photograph each page.
screenshots: install
	DASHBOARD_SCREENSHOTS=1 $(VENV)/bin/pytest -q tests/dashboard/test_browser.py

# The local engine judged on real photos (docs/benchmarks.md, "Quality bench"); DIR is read at run time, never
# copied into the project, and everything written goes to /tmp/quality. QUALITY_ARGS="--category tops --jobs 2" ...
quality: install-dev
	@test -n "$(DIR)" || { echo "usage: make quality DIR=/path/to/photos (ootd/ and paired/ inside)"; exit 2; }
	$(PY) bench/quality.py --dir $(DIR) $(QUALITY_ARGS)

clean:
	rm -rf var/ .pytest_cache .ruff_cache
