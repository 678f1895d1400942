# Two commands on a fresh machine: `make run` (app with demo data) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Django 6 needs Python 3.12+: the first one found on PATH or under pyenv.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 \
	$$HOME/.pyenv/versions/3.1[2-9]*/bin/python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test install browser lint check clean bench bench-quick bench-deps

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The bench extra too: the suite tests the benchmarks' chart writer.
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

install: $(BIN)/.installed

# The development server speaks plain http: no HTTPS redirect, no secure cookies.
run: export DJANGO_SECURE ?= false
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py create_demo_admin --url http://$(HOST):$(PORT)/admin/
	@echo "Serving on http://$(HOST):$(PORT)/admin/ (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Browser tests drive Debian's chromium; as root, install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { \
		echo "Installing chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null; }

test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Benchmarks (docs/performance.md): PostgreSQL at BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432), the bench extra (Flagsmith's engine, matplotlib)
# and, as root, wrk for the API benchmark. `make bench-quick`: a few minutes.
bench-deps: $(BIN)/.installed
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { \
		echo "Installing wrk for the API benchmark"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq wrk >/dev/null; }
	@pg_isready -q -h 127.0.0.1 2>/dev/null || [ "$$(id -u)" != 0 ] || \
		! command -v service >/dev/null 2>&1 || service postgresql start || true

bench: bench-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-quick: bench-deps
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-*
