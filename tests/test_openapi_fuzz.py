"""Every operation in the OpenAPI schema, fuzzed without credentials, answers without a 500 and with a
documented status (bounded: a few deterministic examples per operation). Routes added later are covered
automatically because the schema lists them."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


@pytest.fixture(autouse=True)
def _keep_test_connection_open():
    """The WSGI handler must not close the test's DB connection after each request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(max_examples=12, derandomize=True, database=None, deadline=None,
                     suppress_health_check=list(HealthCheck))
def test_every_operation_answers_without_500_when_fuzzed_without_credentials(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance])
