# The two commands of the README: `make run` and `make test`. Each does its own set-up.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# The address `make run` listens on: this machine only, unless told otherwise
# (`make run HOST=0.0.0.0` for every interface, or one interface's address).
HOST ?= 127.0.0.1
# The address to print: a wildcard is no address a browser can open.
URL_HOST := $(if $(filter 0.0.0.0 :: [::],$(HOST)),$(shell hostname -f 2>/dev/null || hostname),$(if $(findstring :,$(HOST)),[$(HOST)],$(HOST)))
PYTEST_ARGS ?=

.PHONY: run test lint format bench bench-quick browser mail-servers clean-data help

help:
	@echo "make run    - set up, create/upgrade the schema, load demo data if empty, start the dashboard"
	@echo "make test   - lint and run every test (SQLite, PostgreSQL, browser)"
	@echo "make bench  - the 1,000,000-user benchmark (bench-quick: 100,000 users)"

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Chromium for the browser tests comes from Debian's packages (never a test tool's download).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Chromium from Debian's packages..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium is missing and cannot be installed here: browser tests will be skipped (they fail in CI)."; fi

# Dovecot for the mail-server tests (tests/mail) comes from Debian's packages as well.
MAIL_PACKAGES := dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond dovecot-auth-lua
mail-servers:
	@missing=$$(for p in $(MAIL_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing" $$missing "from Debian's packages..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "Dovecot is missing and cannot be installed here: mail-server tests will be skipped (they fail in CI)."; fi

run: $(VENV)/.runtime
	$(PY) -m core init
	$(PY) -m core seed --if-empty
	@echo ""
	@echo "  MAC Security Console: $(or $(MAC_PUBLIC_URL),http://$(URL_HOST):$(PORT))"
	@echo "  Listening on $(HOST) port $(PORT)$(if $(filter 127.0.0.1 ::1 localhost,$(HOST)), (this machine only; make run HOST=0.0.0.0 for every interface))"
	@echo "  Demo sign-in (demo data only): admin / admin-demo-pass; code: $(PY) -m core operators totp admin"
	@echo ""
	$(VENV)/bin/streamlit run server.py --server.address $(HOST) --server.port $(PORT) --server.headless true

test: $(VENV)/.dev browser mail-servers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.dev
	$(PY) -m bench --users 1000000 --brands 5000
	$(PY) -m bench.signin
	$(PY) -m bench.mail_auth --users 1000000 --brands 5000

bench-quick: $(VENV)/.dev
	$(PY) -m bench --users 100000 --brands 500

clean-data:
	rm -f data/mac.db data/mac.db-wal data/mac.db-shm
