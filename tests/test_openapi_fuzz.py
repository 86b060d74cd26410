"""Every operation in the OpenAPI schema, fuzzed without credentials, answers without a 500 and with a
documented status (bounded: a few deterministic examples per operation). Routes added later are covered
automatically because the schema lists them."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wsgi_keeps_test_connection")]

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())



@schema.parametrize()
@hypothesis_settings(max_examples=12, derandomize=True, database=None, deadline=None,
                     suppress_health_check=list(HealthCheck))
def test_every_operation_answers_without_500_when_fuzzed_without_credentials(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance])
