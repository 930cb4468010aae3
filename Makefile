# Two commands do all the set-up on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Settings refuse to start with DEBUG off and no SECRET_KEY. A local run reads a random key made once into
# var/secret_key (git-ignored); set SECRET_KEY or SECRET_KEY_FILE yourself to use another.
# (The tests use their own throw-away key: scripts/run-tests.sh.)
KEY_FILE := var/secret_key
ifeq ($(SECRET_KEY)$(SECRET_KEY_FILE),)
demo run bench bench-scale: export SECRET_KEY_FILE := $(CURDIR)/$(KEY_FILE)
endif

.PHONY: run test test-sqlite test-postgres lint bench bench-scale venv demo clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

$(KEY_FILE):
	@mkdir -p $(dir $@)
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@echo "Made a random SECRET_KEY in $@"

demo: venv $(KEY_FILE)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

## Start the platform with the Datong demo data on SQLite at http://127.0.0.1:8000, and its task worker
run: demo
	@echo "Serving at http://$(HOST):$(PORT)/ with a task worker (Ctrl+C stops both)"
	scripts/serve.sh $(HOST) $(PORT)

## Run every test: on SQLite, then on a throw-away PostgreSQL cluster; browser tests in Chromium
test: venv
	scripts/run-tests.sh

test-sqlite: venv
	scripts/run-tests.sh sqlite

test-postgres: venv
	scripts/run-tests.sh postgres

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: venv $(KEY_FILE)
	$(PY) -m benchmarks

## The 1,000,000-outfall benchmark on PostgreSQL (not in `make bench`: about 40 minutes with the first build)
bench-scale: venv $(KEY_FILE)
	$(PY) -m benchmarks scale

clean:
	rm -rf $(VENV) var staticfiles
