"""Test-suite root: fixture modules per domain (pytest_plugins) and the marker-based skips.

`@pytest.mark.postgres` tests need PostgreSQL (row locks, SKIP LOCKED, triggers: SQLite ignores them);
`@pytest.mark.redis` tests need a reachable Redis broker; `@pytest.mark.browser` tests need Debian's
/usr/bin/chromium (apt-get install chromium). Each is skipped with a stated reason otherwise.
"""
from __future__ import annotations

import functools
import os

import pytest
from django.conf import settings

pytest_plugins = [
    "tests.fixtures.corebanking",
    "tests.fixtures.core_faults",
    "tests.fixtures.outbox",
    "tests.fixtures.auth",
    "tests.fixtures.balance",
    "tests.fixtures.transfers",
    "tests.fixtures.accounts",
    "tests.fixtures.web",
    "tests.fixtures.hostile",
    "tests.fixtures.run_stack",
]

CHROMIUM = "/usr/bin/chromium"


@functools.cache
def redis_broker_available() -> bool:
    """True when CELERY_BROKER_URL is a redis:// URL that answers PING."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def pytest_collection_modifyitems(config, items):
    no_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://… "
                                    "(SQLite ignores row locks / SKIP LOCKED / triggers)")
    no_redis = pytest.mark.skip(reason="needs a Redis broker: set CELERY_BROKER_URL=redis://… (real Celery delivery)")
    no_chromium = pytest.mark.skip(reason=f"needs {CHROMIUM}: apt-get install -y chromium fonts-ipafont-gothic "
                                          "(Playwright drives the system Chromium; never `playwright install`)")
    has_chromium = os.access(CHROMIUM, os.X_OK)
    for item in items:
        if "postgres" in item.keywords and not settings.DATABASE_IS_POSTGRES:
            item.add_marker(no_pg)
        if "redis" in item.keywords and not redis_broker_available():
            item.add_marker(no_redis)
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(no_chromium)


@pytest.fixture
def wsgi_keeps_test_connection():
    """For tests that call the real WSGIHandler (schemathesis): like Django's test client, the handler must
    not close the test's database connection at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)
