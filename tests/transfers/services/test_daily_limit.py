"""The daily transfer limit, kept on the source's read-model row: counted at acceptance, taken off again when a
transfer fails or is compensated, started afresh each day (bank time zone)."""
import datetime as dt

import pytest
from django.utils import timezone

from balance.models import AccountBalance
from tests.fixtures.transfers import PAYER_ACCOUNT, core_refused, transfer_body
from transfers.models import Transfer

pytestmark = pytest.mark.django_db
LIMIT = 30_000


@pytest.fixture
def limit(settings):
    settings.TRANSFER_DAILY_LIMIT = LIMIT


def _today() -> dt.date:
    return timezone.localdate()


def _payer_row() -> AccountBalance:
    return AccountBalance.objects.get(account_id=PAYER_ACCOUNT)


def test_accepted_transfers_count_on_the_source_row_up_to_the_limit(limit, payer, payee, transfer_post, mock_core):
    # given two accepted transfers of 10,000 and 15,000 yen
    assert transfer_post(payer, transfer_body(10_000)).status_code == 202
    assert transfer_post(payer, transfer_body(15_000)).status_code == 202
    # when a third would pass the 30,000 yen limit, and a smaller one would not
    refused = transfer_post(payer, transfer_body(6_000))
    accepted = transfer_post(payer, transfer_body(5_000))
    # then the row counts today's 30,000 yen, the over-limit request was refused, the one that fits accepted
    assert refused.status_code == 400 and "daily" in refused.json()["message"]
    assert accepted.status_code == 202
    row = _payer_row()
    assert (row.daily_transfer_day, row.daily_transfer_total) == (_today(), 30_000)


def test_a_failed_transfer_no_longer_counts_against_the_limit(limit, payer, payee, transfer_post, saga_drain,
                                                              mock_core):
    # given a 30,000 yen transfer whose withdrawal core refuses
    mock_core.script["withdraw"] = [core_refused(400, "Insufficient balance")]
    assert transfer_post(payer, transfer_body(30_000)).status_code == 202
    # when it fails
    saga_drain()
    # then the day's total is back to 0 and the whole limit can be used again
    assert Transfer.objects.get().phase == "FAILED"
    assert _payer_row().daily_transfer_total == 0
    assert transfer_post(payer, transfer_body(30_000)).status_code == 202


def test_a_compensated_transfer_no_longer_counts_against_the_limit(limit, payer, payee, transfer_post, saga_drain,
                                                                   mock_core):
    # given a 30,000 yen transfer whose deposit core refuses (frozen target), so the payer is refunded
    mock_core.script["deposit"] = [core_refused(409, "Account is not active")]
    assert transfer_post(payer, transfer_body(30_000)).status_code == 202
    # when the saga compensates it
    saga_drain()
    # then the day's total is back to 0
    assert Transfer.objects.get().phase == "COMPENSATED"
    assert _payer_row().daily_transfer_total == 0


def test_a_new_day_starts_at_zero_and_yesterdays_failure_does_not_touch_it(limit, payer, payee, transfer_post,
                                                                          saga_drain, mock_core):
    # given the row counted 30,000 yen yesterday
    yesterday = _today() - dt.timedelta(days=1)
    AccountBalance.objects.filter(account_id=PAYER_ACCOUNT).update(daily_transfer_day=yesterday,
                                                                  daily_transfer_total=LIMIT)
    # when a transfer is accepted today
    response = transfer_post(payer, transfer_body(30_000))
    # then the limit counts today only
    assert response.status_code == 202
    row = _payer_row()
    assert (row.daily_transfer_day, row.daily_transfer_total) == (_today(), 30_000)


def test_a_row_that_does_not_keep_the_total_yet_counts_todays_transfers_once(limit, payer, payee, transfer_post,
                                                                             mock_core):
    # given a 20,000 yen transfer accepted today, and a row that does not keep the day's total (an account from
    # before the column existed)
    assert transfer_post(payer, transfer_body(20_000)).status_code == 202
    AccountBalance.objects.filter(account_id=PAYER_ACCOUNT).update(daily_transfer_day=None, daily_transfer_total=0)
    # when more than the rest of the limit is asked, then the rest
    refused = transfer_post(payer, transfer_body(15_000))
    accepted = transfer_post(payer, transfer_body(10_000))
    # then the transfers already accepted today were counted, and the row keeps the total from now on
    assert refused.status_code == 400 and accepted.status_code == 202
    row = _payer_row()
    assert (row.daily_transfer_day, row.daily_transfer_total) == (_today(), 30_000)
