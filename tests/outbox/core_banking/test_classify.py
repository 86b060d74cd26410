"""R23 outcome classes, as a table (no server)."""
import pytest

from outbox.core_banking.client import Outcome, classify


@pytest.mark.parametrize("http_status, body, expected", [
    (200, {"transactionId": "WTH1"}, Outcome.SUCCESS),
    (201, {"accountId": "0011234567"}, Outcome.SUCCESS),
    (200, None, Outcome.AMBIGUOUS),  # a 2xx that is not the core's JSON is no proof of an effect
    (400, {"error": "Insufficient balance"}, Outcome.DEFINITE),
    (404, {"error": "Account not found"}, Outcome.DEFINITE),
    (409, {"error": "Account is not active"}, Outcome.DEFINITE),
    (422, {"error": "Idempotency-Key was already used for a different request"}, Outcome.DEFINITE),
    (404, {"error": "Endpoint not found", "path": "/x", "method": "GET"}, Outcome.AMBIGUOUS),
    (404, None, Outcome.AMBIGUOUS),  # e.g. an HTML 404 from a proxy
    (400, {"message": "not the core's error shape"}, Outcome.AMBIGUOUS),
    (401, {"error": "Unauthorized"}, Outcome.AMBIGUOUS),
    (403, {"error": "Forbidden"}, Outcome.AMBIGUOUS),
    (429, {"error": "Too Many Requests"}, Outcome.AMBIGUOUS),
    (500, {"error": "Internal server error"}, Outcome.AMBIGUOUS),
    (502, None, Outcome.AMBIGUOUS),
    (503, {"error": "Service unavailable"}, Outcome.AMBIGUOUS),
    (504, {"error": "Gateway timeout"}, Outcome.AMBIGUOUS),
    (302, None, Outcome.AMBIGUOUS),
])
def test_outcome_follows_r23_when_classifying_an_answer(http_status, body, expected):
    assert classify(http_status=http_status, body=body) is expected
