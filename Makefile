# Two commands matter (see README): `make run` starts the whole system (under supervisord), `make test` runs the suite.
# Both create .venv with Python 3.11 and install the locked dependencies on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
WEB_PORT ?= 8000
CORE_PORT ?= 8001
# Process counts of the run stack (config/supervisord.conf): gunicorn workers of the web app and of the core
# mock, and the Celery worker's pool children. Sized for two cores; docs/deploy.md explains how to size them.
WEB_WORKERS ?= 2
CORE_WORKERS ?= 2
# Relay pool children: 2 with Redis (prefork; on two cores two processes drained a transfer backlog at 2.0× the rate
# of one, and 4 or 8 no faster: docs/performance.md, relay scaling), 1 on the embedded SQLite (one writer anyway).
CELERY_CONCURRENCY ?= $(if $(filter redis%,$(CELERY_BROKER_URL)),2,1)
# Runtime files of the embedded default (SQLite files, broker folders, mail, supervisord's socket and log).
BANK_VAR_DIR ?= $(CURDIR)/var
# Settings for the run stack: DEBUG on, embedded SQLite + filesystem broker unless DATABASE_URL etc. are set.
RUN_ENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DJANGO_SETTINGS_MODULE=config.settings.local PYTHONUNBUFFERED=1 \
	CORE_BANKING_URL=$${CORE_BANKING_URL:-http://127.0.0.1:$(CORE_PORT)} \
	CORE_MOCK_FAULTS_ENABLED=$${CORE_MOCK_FAULTS_ENABLED:-true} WEB_PORT=$(WEB_PORT) CORE_PORT=$(CORE_PORT) \
	WEB_WORKERS=$(WEB_WORKERS) CORE_WORKERS=$(CORE_WORKERS) CELERY_CONCURRENCY=$(CELERY_CONCURRENCY) \
	BANK_VAR_DIR=$(BANK_VAR_DIR) \
	EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}

.PHONY: install run status ctl prepare test lock clean-var messages screenshots

$(VENV)/.installed: requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock 2>&1 | grep -v "is ignored" || true
	@$(PY) -c "import django, celery, rest_framework, supervisor" # fail here if the install did not work
	@touch $@

install: $(VENV)/.installed

# Compile the committed translations (locale/*/LC_MESSAGES/django.po → .mo, git-ignored) with Babel:
# pure Python, so no system gettext is needed.
messages: install
	@$(VENV)/bin/pybabel -q compile -d locale -D django

# Migrate both databases, seed demo data, collect static files (idempotent; safe on every start).
prepare: install messages
	@$(RUN_ENV) $(PY) manage.py migrate --noinput -v 0
	@$(RUN_ENV) $(PY) manage.py migrate --database core --noinput -v 0
	@$(RUN_ENV) $(PY) manage.py seed_demo -v 0
	@$(RUN_ENV) $(PY) manage.py collectstatic --noinput -v 0

run: prepare
	@echo ""
	@echo "  サンプル銀行 is starting (Ctrl-C stops every process; a process that dies is restarted):"
	@echo "    web app        http://127.0.0.1:$(WEB_PORT)/        (customer site; API under /v1/, health /healthz)"
	@echo "    staff admin    http://127.0.0.1:$(WEB_PORT)/admin/  login: staff / $${DEMO_STAFF_PASSWORD:-staff-demo-pass}"
	@echo "    core banking   http://127.0.0.1:$(CORE_PORT)/healthz (mock, API key required for /api/*)"
	@echo "    demo customers user001 / password123   user002 / password123"
	@echo ""
	@mkdir -p $(BANK_VAR_DIR)
	@$(RUN_ENV) exec $(VENV)/bin/supervisord -c config/supervisord.conf

# supervisorctl for the stack `make run` started (it reads the same config/supervisord.conf).
SUPERVISORCTL := BANK_VAR_DIR=$(BANK_VAR_DIR) WEB_PORT=$(WEB_PORT) CORE_PORT=$(CORE_PORT) WEB_WORKERS=$(WEB_WORKERS) \
	CORE_WORKERS=$(CORE_WORKERS) CELERY_CONCURRENCY=$(CELERY_CONCURRENCY) \
	$(VENV)/bin/supervisorctl -c config/supervisord.conf

# While `make run` is up (in another terminal): each process's state, pid and uptime.
status:
	@$(SUPERVISORCTL) status

# While `make run` is up: any supervisorctl command, e.g. `make ctl CMD="restart worker"` (the worker finishes the
# drain it is running before it stops: a warm restart).
ctl:
	@$(SUPERVISORCTL) $(CMD)

test: install messages
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# Run the browser journeys and save their screenshots to docs/screenshots/ (committed; shown in docs/guide.md).
# Needs /usr/bin/chromium (Debian's chromium package); without BANK_SCREENSHOT_DIR the tests write no images.
screenshots: install messages
	BANK_SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest tests/web/test_browser_journeys.py -q

# Re-resolve requirements.lock after changing pyproject.toml (needs `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean-var:
	rm -rf var
