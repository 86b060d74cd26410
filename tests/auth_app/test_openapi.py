"""OpenAPI 3 at /api/schema/ (drf-spectacular) and a bounded schemathesis run against the auth routes."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wsgi_keeps_test_connection")]
AUTH_PATHS = r"^/v1/api/(auth|users)/"


def _schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3_when_requested(client):
    # when
    schema = _schema(client)
    # then it validates against the OpenAPI 3.0 JSON schema bundled with drf-spectacular
    validate_schema(schema)
    assert schema["openapi"].startswith("3.0")


def test_schema_describes_every_auth_route_with_its_error_families_when_generated(client):
    # when
    schema = _schema(client)
    # then
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path, method in [("/v1/api/auth/login", "post"), ("/v1/api/auth/verify", "get"),
                         ("/v1/api/auth/logout", "post"), ("/v1/api/auth/password", "post"),
                         ("/v1/api/users/register", "post")]:
        operation = paths[path][method]
        assert {"400", "403", "500"} <= set(operation["responses"]), path
        assert {"apiKey": []} in operation["security"] or any("apiKey" in s for s in operation["security"])
    login = paths["/v1/api/auth/login"]["post"]["responses"]
    assert login["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/AuthError")
    assert login["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/GatewayError")
    logout = paths["/v1/api/auth/logout"]["post"]
    assert logout["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/GatewayError")
    assert {"jwtAuth": [], "apiKey": []} in logout["security"]
    components = schema["components"]
    assert {"AuthError", "GatewayError", "QueryError", "RouterError"} <= set(components["schemas"])
    assert components["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    assert components["securitySchemes"]["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-Api-Key"}


# Loaded at collection (the schema view needs no database); schemathesis' lazy fixture loader does not
# work with pytest 9 (it sets the removed `Node._nodeid`).
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler()).include(path_regex=AUTH_PATHS)



@pytest.fixture(autouse=True)
def _demo_login(customer_user):
    """A real login exists, so fuzzed credentials can hit both the unknown-id and the wrong-password paths."""


@schema.parametrize()
@hypothesis_settings(max_examples=50, derandomize=True, database=None, deadline=None,
                     suppress_health_check=list(HealthCheck))
def test_auth_routes_never_answer_500_and_match_the_schema_when_fuzzed(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, response_schema_conformance])
