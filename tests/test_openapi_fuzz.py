"""Every operation in the OpenAPI schema, fuzzed without credentials, answers without a 500 and with a
documented status (bounded: a few deterministic examples per operation); and, fuzzed with credentials, refuses
hostile variants of its generated requests (too-deep JSON, oversized bodies, non-ASCII digits, impossible
date-times) with a 4xx in its error family and nothing written. Routes added later are covered automatically
because the schema lists them. tests/test_hostile_inputs.py has the fixed cases and the core mock's routes."""
from __future__ import annotations

import json

import pytest
import schemathesis
from django.conf import settings
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from schemathesis.transport.prepare import get_exclude_headers

from tests.fixtures.hostile import BAD_INSTANTS, assert_refused_unchanged, bank_family

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wsgi_keeps_test_connection")]

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


@schema.parametrize()
@hypothesis_settings(max_examples=12, derandomize=True, database=None, deadline=None,
                     suppress_health_check=list(HealthCheck))
def test_every_operation_answers_without_500_when_fuzzed_without_credentials(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance])


# --- hostile variants of the generated requests ----------------------------------------------------------------
# Each generated request is sent with real credentials and real path values (so that it reaches the code that
# reads its input), then turned hostile: its body nested thousands of levels deep, padded past the size limit,
# its integer query values rewritten in other scripts' digits, its date-time query values made impossible.
# Every variant must be refused in the route's error family with bank and core state unchanged.

BODY_METHODS = {"POST", "PUT", "PATCH"}
DIGIT_SCRIPTS = {"fullwidth": "０１２３４５６７８９", "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
                 "superscript": "⁰¹²³⁴⁵⁶⁷⁸⁹", "circled": "⓪①②③④⑤⑥⑦⑧⑨"}
NEST_LEVELS = 3000


def _query_parameters(case, *, kind: str) -> list[str]:
    names = []
    for parameter in case.operation.query:
        parameter_schema = parameter.definition.get("schema", {})
        if (kind == "integer" and parameter_schema.get("type") == "integer") or \
                (kind == "date-time" and parameter_schema.get("format") == "date-time"):
            names.append(parameter.name)
    return names


def _aimed(case, world) -> tuple[str, dict[str, str]]:
    """Point the case at real rows and give it the credentials its route needs; returns (path, headers)."""
    path = world.concrete(case.path)
    for template_part, value in zip(case.path.split("/"), path.split("/"), strict=False):
        if template_part.startswith("{"):
            case.path_parameters[template_part[1:-1]] = value
    headers = {key.removeprefix("HTTP_").title(): value for key, value in world.headers_for(path).items()}
    return path, headers


@schema.parametrize()
@hypothesis_settings(max_examples=3, derandomize=True, database=None, deadline=None,
                     suppress_health_check=list(HealthCheck))
@pytest.mark.django_db(databases=["default", "core"])
def test_every_operation_refuses_hostile_variants_of_generated_requests(case, wsgi_keeps_test_connection,
                                                                       hostile_world):
    method = case.method.upper()
    if method != case.operation.method.upper() or "authorization" in {name.lower() for name in
                                                                      get_exclude_headers(case)}:
        return  # unexpected-method and missing-credential cases: the fuzzing above covers those
    cache.clear()  # the throttles count in the cache: every example starts from zero, as every test does
    path, headers = _aimed(case, hostile_world)
    family = bank_family(path)

    generated = case.body if isinstance(case.body, (dict, list, str, int, float, bool)) else {}
    if method in BODY_METHODS:
        deep = "[" * NEST_LEVELS + json.dumps(generated) + "]" * NEST_LEVELS
        expected = {400, 403} if case.path == "/v1/api/users/register" else {400}
        assert_refused_unchanged(lambda: case.call(data=deep, headers={**headers, "Content-Type": "application/json"}),
                                 family=family, expected=expected)

    oversized = json.dumps({"generated": generated,
                            "padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    assert_refused_unchanged(lambda: case.call(data=oversized, headers={**headers,
                                                                        "Content-Type": "application/json"}),
                             family=family, expected={413})

    for name in _query_parameters(case, kind="integer"):
        ascii_value = str(case.query.get(name, "1")) if case.query else "1"
        if not any(character.isdigit() for character in ascii_value):
            ascii_value = "1"
        for _script, digits in DIGIT_SCRIPTS.items():
            rewritten = ascii_value.translate(str.maketrans("0123456789", digits))
            assert_refused_unchanged(lambda name=name, rewritten=rewritten: case.call(headers=headers,
                                                                                      params={name: rewritten}),
                                     family=family, expected={400})

    for name in _query_parameters(case, kind="date-time"):
        for instant in BAD_INSTANTS:
            assert_refused_unchanged(lambda name=name, instant=instant: case.call(headers=headers,
                                                                                  params={name: instant}),
                                     family=family, expected={400})
