# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test install install-runtime lint migrations-check serve bench system-packages

# Two sets: what serving needs (requirements.txt, `make run`) and the test and lint tools on top
# of it (requirements-dev.txt, `make test` and `make lint`).
$(VENV)/.installed-runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

install-runtime: $(VENV)/.installed-runtime

# A developer's venv: the runtime set and the tools.
install: $(VENV)/.installed-dev

# A local .env with a random secret key, written once and kept.
.env:
	umask 077 && printf 'DJANGO_SECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env

run: install-runtime .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo_if_empty
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@umask 077 && $(PY) manage.py ensure_admin admin --password-file .admin-password
	@umask 077 && $(PY) manage.py ensure_lookup_token demo --token-file .lookup-token
	@echo "Try: curl -H \"Authorization: Bearer $$(cat .lookup-token)\" -d '{\"phoneNumber\":\"(555) 123-4567\"}' http://127.0.0.1:$(PORT)/api/customer/lookup"
	@# The jobs worker runs beside gunicorn; Ctrl-C reaches both (one process group), and the
	@# trap stops the worker when gunicorn exits for any other reason. gunicorn prints
	@# "Serving on ..." once it is bound (config/gunicorn.conf.py when_ready).
	@trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	$(PY) manage.py db_worker --no-reload --interval 0.5 --verbosity 0 & worker=$$!; \
	SERVING_MESSAGE="Serving on http://127.0.0.1:$(PORT)/admin/ (Ctrl-C stops the server and the jobs worker)" \
	$(VENV)/bin/gunicorn --config config/gunicorn.conf.py config.wsgi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

migrations-check: install
	DJANGO_SECRET_KEY=migrations-check $(PY) manage.py makemigrations --check --dry-run

# Debian packages the suite drives for real: installed when root, else the command is named.
system-packages:
	@bash scripts/system-packages.sh

test: system-packages lint migrations-check
	$(VENV)/bin/pytest

# Not part of `make test`: load benchmark beside the tutorial's Flask service (bench/README.md).
bench: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(PY) bench/run.py $(BENCH_ARGS)
