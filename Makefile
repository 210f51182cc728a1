# The front door. `make run` runs a whole campaign locally; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test machine lint format bench screenshots db-reset schema lock clean

# The lock, not the ranges: everyone runs the versions deploys ship (exact, with hashes).
# First the installer itself (requirements-bootstrap.lock: Python's bundled pip cannot read the lock).
$(STAMP): requirements-dev.lock requirements-bootstrap.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-bootstrap.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m local.run

serve: $(STAMP)
	$(BIN)/python -m local.run --serve

# The Debian programs the tests drive (Chromium, SpamAssassin, Dovecot): installed when missing.
machine:
	@bash tests/prepare_machine.sh

test: $(STAMP) machine
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff, then mypy over shared/ and functions/ ([tool.mypy] in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

# The console's screenshots in docs/screenshots/, made by its browser tests from their demo data.
screenshots: $(STAMP)
	CONSOLE_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/acceptance/test_console_browser.py -q

db-reset: $(STAMP)
	$(BIN)/python -m local.migrate --reset

# supabase/schema.sql from a throwaway database with every migration (a few seconds).
schema: $(STAMP)
	$(BIN)/python -m local.schema

# Remake both locks from the ranges in requirements.txt and requirements-dev.txt.
LOCK = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes
lock: $(STAMP)
	$(LOCK) requirements.txt -o requirements.lock
	$(LOCK) requirements-dev.txt -o requirements-dev.lock

clean:
	rm -rf .data
