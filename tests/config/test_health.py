"""GET /healthz on both processes: 200 with database and broker status, 503 when one is down."""
import json

import pytest

pytestmark = pytest.mark.django_db(databases=["default", "core"])


def test_web_healthz_reports_database_and_broker_ok(client):
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ok", "service": "web", "database": "ok", "broker": "ok"}


def test_web_healthz_is_503_when_broker_unreachable(client, settings):
    # given a Redis broker URL on a port where nothing listens
    settings.BROKER_IS_FILESYSTEM = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["broker"].startswith("down")
    assert "127.0.0.1" not in json.dumps(body), "no connection details leak"


def test_core_healthz_is_served_only_by_the_core_urlconf(client, settings):
    # given the core process URLconf
    settings.ROOT_URLCONF = "config.urls_core"
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "corebanking_mock", "database": "ok", "broker": "not used"}


def test_core_api_routes_are_not_reachable_on_the_banking_host(client):
    # the web process must not expose the core mock's routes
    response = client.get("/api/accounts/0011234567")
    assert response.status_code == 404


def test_healthz_rejects_post(client):
    assert client.post("/healthz").status_code == 405
