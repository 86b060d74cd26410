"""Contract: the test-only fault-control API (/core/_faults), guarded by a setting and X-Control-Key."""
import pytest

from corebanking_mock.models import Account, FaultSetting

pytestmark = pytest.mark.django_db(databases=["default", "core"])

CONTROL_KEY = "test-core-control-key"


def _control(core_api, path, body=None, *, key=CONTROL_KEY):
    headers = {} if key is None else {"X-Control-Key": key}
    if body is None and path.endswith("_faults"):
        return core_api.client.get(path, headers=headers)
    return core_api.post(path, body if body is not None else {}, api_key=None, headers=headers)


def test_control_api_is_endpoint_not_found_when_faults_are_disabled(core_api, settings):
    # given
    settings.CORE_MOCK_FAULTS_ENABLED = False
    # when
    response = _control(core_api, "/core/_faults", {"mode": "down"})
    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Endpoint not found", "path": "/core/_faults", "method": "POST"}
    assert FaultSetting.objects.count() == 0


@pytest.mark.parametrize("key", [None, "wrong", "test-core-key"])
def test_control_api_is_401_when_the_control_key_is_missing_or_wrong(core_api, key):
    # when
    response = _control(core_api, "/core/_faults", {"mode": "down"}, key=key)
    # then
    assert (response.status_code, response.json()) == (401, {"error": "Unauthorized"})
    assert FaultSetting.objects.count() == 0


def test_mode_is_stored_and_listed_when_posted(core_api):
    # when
    posted = _control(core_api, "/core/_faults", {"group": "transactions", "mode": "flaky", "error_rate": 0.25,
                                                  "duration_s": 60, "seed": 3})
    listed = _control(core_api, "/core/_faults")
    # then
    assert posted.status_code == 200
    body = posted.json()
    assert {k: body[k] for k in ("group", "error_rate", "seed", "active", "source")} == {
        "group": "transactions", "error_rate": 0.25, "seed": 3, "active": True, "source": "db"}
    assert body["expires_at"].endswith("Z")
    assert listed.json()["groups"]["transactions"]["error_rate"] == 0.25
    assert listed.json()["enabled"] is True


def test_down_mode_defaults_to_the_all_group_when_no_group_is_given(core_api):
    # when
    _control(core_api, "/core/_faults", {"mode": "down"})
    # then
    assert core_api.get("/core/health", api_key=None).status_code == 503


@pytest.mark.parametrize("body", [{}, {"group": "all"}, {"mode": "sideways"}, {"error_rate": 2},
                                  {"group": "payments", "mode": "down"}, {"latency_ms": -1}])
def test_settings_are_refused_when_invalid(core_api, body):
    # when
    response = _control(core_api, "/core/_faults", body)
    # then
    assert response.status_code == 400
    assert "fields" in response.json()
    assert FaultSetting.objects.count() == 0


def test_reset_removes_every_setting_when_posted(core_api):
    # given
    _control(core_api, "/core/_faults", {"mode": "down"})
    _control(core_api, "/core/_faults", {"group": "accounts", "mode": "slow"})
    # when
    response = _control(core_api, "/core/_faults/reset")
    # then
    assert (response.status_code, response.json()) == (200, {"enabled": True, "groups": {}})
    assert core_api.get("/core/health", api_key=None).status_code == 200


def test_account_is_frozen_and_deposits_refused_when_its_status_is_set(core_api, core_db):
    # when
    response = _control(core_api, "/core/_faults/accounts/0017654321", {"status": "FROZEN"})
    deposit = core_api.post("/api/transactions/deposit", {"accountId": "0017654321", "amount": 1},
                            idempotency_key="deposit-TRX-1")
    # then
    assert (response.status_code, response.json()["status"]) == (200, "FROZEN")
    assert Account.objects.get(pk="0017654321").status == "FROZEN"
    assert deposit.status_code == 409


def test_account_status_is_404_when_the_account_is_unknown(core_api, core_db):
    # when
    response = _control(core_api, "/core/_faults/accounts/0010000000", {"status": "FROZEN"})
    # then
    assert (response.status_code, response.json()) == (404, {"error": "Account not found",
                                                             "accountId": "0010000000"})


def test_account_status_is_refused_when_the_status_is_unknown(core_api, core_db):
    # when
    response = _control(core_api, "/core/_faults/accounts/0017654321", {"status": "CLOSED"})
    # then
    assert response.status_code == 400
    assert response.json()["error"] == "status must be ACTIVE, INACTIVE or FROZEN"
    assert Account.objects.get(pk="0017654321").status == "ACTIVE"
