"""The balance routes are described in the OpenAPI schema, and a bounded schemathesis run finds no 500s."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wsgi_keeps_test_connection")]
BALANCE_PATHS = r"^/v1/api/(balance|accounts/\{account_id\}/transactions)$"

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler()).include(path_regex=BALANCE_PATHS)



@pytest.fixture
def owner_token(customer_user, login_token, open_account, post_entry):
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    post_entry(account, 1000, type="ATM_DEPOSIT")
    return login_token(customer_user)


def test_balance_routes_are_documented_with_their_response_shapes(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    balance = paths["/v1/api/balance"]["get"]
    assert balance["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/BalanceOutput")
    assert {"jwtAuth": [], "apiKey": []} in balance["security"]
    assert any(p["name"] == "accountId" and p["required"] for p in balance["parameters"])
    history = paths["/v1/api/accounts/{account_id}/transactions"]["get"]
    assert history["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/HistoryOutput")
    assert {"401", "404", "400"} <= set(history["responses"])


@schema.parametrize()
@hypothesis_settings(max_examples=40, derandomize=True, database=None, deadline=None,
                     suppress_health_check=list(HealthCheck))
def test_balance_routes_never_answer_500_when_fuzzed_with_a_valid_token(case, request):
    token = request.getfixturevalue("owner_token")
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                           checks=[not_a_server_error, response_schema_conformance])
