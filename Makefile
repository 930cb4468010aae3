# Two commands do all the set-up on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres lint bench venv demo clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

## Start the platform with the Datong demo data on SQLite at http://127.0.0.1:8000
run: demo
	@echo "Serving at http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	$(VENV)/bin/gunicorn outfalls.wsgi --bind $(HOST):$(PORT) --workers 3 --access-logfile -

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

bench: venv
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) var staticfiles
