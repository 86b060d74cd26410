"""Client Idempotency-Key (R30): first answer replayed, other body → 422, rollback releases, TTL, races."""
import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from outbox.models import IdempotentRequest
from outbox.request_idempotency import (
    IdempotencyKeyInvalidError,
    IdempotencyKeyReusedError,
    StoredAnswer,
    idempotency_key_validate,
    request_fingerprint,
    request_idempotency_claim,
    request_idempotency_store,
)

SCOPE, OWNER = "test_command", "USER901"


def _command(key: str, body: dict, *, fail: bool = False) -> StoredAnswer:
    """A command in the house pattern: claim, effects, store — one transaction."""
    with transaction.atomic(durable=True):
        replay = request_idempotency_claim(scope=SCOPE, owner=OWNER, key=key, fingerprint=request_fingerprint(body))
        if replay is not None:
            return replay
        if fail:
            raise RuntimeError("effects failed")
        answer = {"accepted": body["amount"]}
        request_idempotency_store(scope=SCOPE, owner=OWNER, key=key, status_code=202, body=answer)
        return StoredAnswer(202, answer)


@pytest.mark.django_db(transaction=True)
def test_repeat_with_same_body_gets_the_first_answer_and_other_body_gets_422():
    first = _command("k-1", {"amount": 100})
    again = _command("k-1", {"amount": 100})
    assert first == again == StoredAnswer(202, {"accepted": 100})
    assert IdempotentRequest.objects.count() == 1
    with pytest.raises(IdempotencyKeyReusedError) as refusal:
        _command("k-1", {"amount": 999})
    assert refusal.value.http_status == 422


@pytest.mark.django_db(transaction=True)
def test_failed_command_releases_its_key():
    with pytest.raises(RuntimeError):
        _command("k-2", {"amount": 5}, fail=True)
    assert not IdempotentRequest.objects.exists()
    assert _command("k-2", {"amount": 5}) == StoredAnswer(202, {"accepted": 5})


@pytest.mark.django_db(transaction=True)
def test_key_is_forgotten_after_the_ttl(settings):
    _command("k-3", {"amount": 1})
    IdempotentRequest.objects.update(created_at=IdempotentRequest.objects.get().created_at - dt.timedelta(
        seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS + 1))
    assert _command("k-3", {"amount": 2}) == StoredAnswer(202, {"accepted": 2}), "a new request after 24 h"


@pytest.mark.parametrize("raw", ["", "a" * 256, "with space", "日本"])
def test_invalid_keys_are_refused(raw):
    with pytest.raises(IdempotencyKeyInvalidError):
        idempotency_key_validate(raw)


def test_absent_header_means_no_idempotency():
    assert idempotency_key_validate(None) is None
    assert idempotency_key_validate("abc-123_XYZ") == "abc-123_XYZ"


def test_claim_refuses_to_run_outside_a_transaction(transactional_db):
    with pytest.raises(RuntimeError):
        request_idempotency_claim(scope=SCOPE, owner=OWNER, key="k", fingerprint="f")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_apply_once():
    # given 8 threads sending the same key at once
    answers, errors = [], []
    barrier = threading.Barrier(8)

    def send():
        try:
            barrier.wait()
            answers.append(_command("k-race", {"amount": 7}))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then every one got the same answer and one row exists
    assert not errors
    assert answers == [StoredAnswer(202, {"accepted": 7})] * 8
    assert IdempotentRequest.objects.filter(key="k-race").count() == 1
