"""Concurrency of the money-moving services with real threads, each on its own database connection."""
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.db.models import Sum

from corebanking_mock import services
from corebanking_mock.errors import IdempotencyKeyAlreadyApplied, IdempotencyKeyVoided
from corebanking_mock.models import Account, IdempotencyRecord, Posting

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "core"])

SOURCE = "0011234567"
PATH = "/api/transactions/withdraw"


def _run_concurrently(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads released together; each thread closes its own connections."""
    barrier = threading.Barrier(count)

    def run(index: int) -> object:
        try:
            barrier.wait(timeout=10)
            try:
                return work(index)
            except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
                return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _withdraw(*, key: str, amount_yen: int) -> services.CoreReply:
    body = {"accountId": SOURCE, "amount": amount_yen}
    return services.transaction_withdraw(
        account_id=SOURCE, amount_yen=amount_yen, transaction_type="ATM_WITHDRAWAL", description="",
        target_account_id=None, transfer_id=None, idempotency_key=key,
        request_fingerprint=services.request_fingerprint(method="POST", path=PATH, body=body))


@pytest.mark.postgres
def test_balance_never_goes_below_zero_when_20_withdrawals_race_on_one_account(core_db):
    # given 10,000,000 yen and 20 withdrawals of 700,000 (only 14 fit)
    start_balance = Account.objects.get(pk=SOURCE).balance
    # when
    replies = _run_concurrently(20, lambda i: _withdraw(key=f"withdraw-race-{i}", amount_yen=700_000))
    # then
    assert not [reply for reply in replies if isinstance(reply, Exception)]
    succeeded = [reply for reply in replies if reply.status_code == 200]
    refused = [reply for reply in replies if reply.status_code == 400]
    final_balance = Account.objects.get(pk=SOURCE).balance
    assert len(succeeded) == 14 and len(refused) == 6
    assert final_balance == start_balance - sum(reply.body["amount"] for reply in succeeded) == 200_000
    assert {reply.body["error"] for reply in refused} == {"Insufficient balance"}
    assert sorted(reply.body["newBalance"] for reply in succeeded) == [200_000 + 700_000 * i for i in range(14)]
    assert Posting.objects.filter(account_id=SOURCE).aggregate(total=Sum("amount"))["total"] == final_balance
    assert IdempotencyRecord.objects.count() == 20


def test_key_is_applied_once_when_the_same_request_arrives_concurrently(core_db):
    # when
    replies = _run_concurrently(10, lambda _i: _withdraw(key="withdraw-TRX-same", amount_yen=1_000))
    # then
    assert not [reply for reply in replies if isinstance(reply, Exception)]
    assert {reply.status_code for reply in replies} == {200}
    assert len({reply.body["transactionId"] for reply in replies}) == 1
    assert sum(not reply.replayed for reply in replies) == 1
    assert Posting.objects.filter(idempotency_key="withdraw-TRX-same").count() == 1
    assert Account.objects.get(pk=SOURCE).balance == 10_000_000 - 1_000


def test_key_is_either_voided_or_applied_never_both_when_void_races_the_request(core_db):
    # when half the threads void the key while the other half send the request
    def work(index: int) -> object:
        if index % 2:
            return services.idempotency_void(key="withdraw-TRX-race")
        return _withdraw(key="withdraw-TRX-race", amount_yen=1_000)

    outcomes = _run_concurrently(10, work)
    # then
    record = IdempotencyRecord.objects.get(pk="withdraw-TRX-race")
    postings = Posting.objects.filter(idempotency_key="withdraw-TRX-race").count()
    unexpected = [o for o in outcomes if isinstance(o, Exception)
                  and not isinstance(o, (IdempotencyKeyVoided, IdempotencyKeyAlreadyApplied))]
    assert not unexpected
    if record.state == "voided":
        assert postings == 0
        assert Account.objects.get(pk=SOURCE).balance == 10_000_000
    else:
        assert postings == 1
        assert Account.objects.get(pk=SOURCE).balance == 9_999_000
