# The two commands the README starts with:
#   make demo   set up everything, then serve the embedded demo on http://127.0.0.1:8000
#   make test   set up everything, then run the whole test suite (lint included)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint format messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
	$(PY) manage.py compile_translations

LOCALES := -l de -l fr -l es
# After changing user-facing text: extract it into the .po catalogues (needs GNU gettext).
messages: install
	$(PY) manage.py catalog_messages
	cd catalog && ../$(PY) ../manage.py makemessages $(LOCALES) --no-obsolete --no-location
	$(PY) manage.py makemessages $(LOCALES) --no-obsolete --no-location --ignore 'catalog/*' \
		--ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'var/*'

# No broker in the demo, so no beat: run_scheduled does beat's work (webhook retries, sweeps,
# health checks) beside runserver, and stops with it.
demo: export ONRAMP_PUBLIC_URL = http://$(HOST):$(PORT)
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py sync_catalog
	$(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT)
	$(PY) manage.py run_scheduled & scheduled=$$!; \
	trap 'kill $$scheduled 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(PY) -m pytest
