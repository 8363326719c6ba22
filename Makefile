# One-command set-up for the PAIS rehab tracker. See README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# The web port for `make run`. honcho hands every process a PORT of its own (5000 unless told),
# so the port is passed to honcho rather than left to Procfile.dev's default.
PORT ?= 8000
# Links in emails (invitations, alerts) point at the port `make run` actually serves.
run seed: export PAIS_SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: install run test lint typecheck pytest migrate seed bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## run: install, migrate, load the demo data, then web + Celery worker + beat (Ctrl-C stops all)
run: seed
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho -f Procfile.dev start --port $(PORT)

## test: lint, type-check, then the whole test suite
test: lint pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

pytest: install
	$(BIN)/pytest

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
