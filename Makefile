# One command to install and run, one to test. See README.md.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
MEDIAPIPE := mediapipe==0.10.21

.PHONY: install run test lint fmt bench load chaos gallery quality migrate schema docs-errors clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Idempotent: reinstalls only when the lock or pyproject changes. mediapipe is installed without its declared
# dependencies (jax, opencv-contrib, ... which it does not import at run time; docs/engines.md); the lock holds
# what it really needs.
$(STAMP): $(PY) requirements.lock pyproject.toml
	$(PIP) install --quiet -r requirements.lock
	$(PIP) install --quiet --no-deps $(MEDIAPIPE)
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

run: install
	$(PY) scripts/run.py

test: install
	$(VENV)/bin/ruff check --no-cache .
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/ruff format --check . || true

fmt: install
	$(VENV)/bin/ruff check --fix .

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.json

docs-errors: install
	$(PY) manage.py errors_doc

bench: install
	$(PY) scripts/bench_all.py

load: install
	$(PY) scripts/load.py

chaos: install
	$(PY) scripts/chaos.py

gallery: install
	$(PY) scripts/gallery.py

# The local engine judged on real photos (docs/benchmarks.md, "Quality bench"); DIR is read at run time, never
# copied into the project, and everything written goes to /tmp/quality. QUALITY_ARGS="--category tops --jobs 2" ...
DIR ?= ../shared/eval
quality: install
	$(PY) bench/quality.py --dir $(DIR) $(QUALITY_ARGS)

clean:
	rm -rf var/ .pytest_cache .ruff_cache
