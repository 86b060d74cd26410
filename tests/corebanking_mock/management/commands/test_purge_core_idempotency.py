"""`manage.py purge_core_idempotency`: keeps records for at least the retention period."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from corebanking_mock.models import IdempotencyRecord

pytestmark = pytest.mark.django_db(databases=["default", "core"])


def _record(key: str, *, age_days: float, state: str = "applied") -> None:
    applied = state == "applied"
    IdempotencyRecord.objects.create(key=key, state=state, status_code=200 if applied else None,
                                     response_body={} if applied else None,
                                     created_at=timezone.now() - dt.timedelta(days=age_days))


def test_purge_deletes_only_records_older_than_the_retention_when_run(settings):
    # given
    settings.CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS = 7
    _record("recent", age_days=6.9)
    _record("old", age_days=8)
    _record("old-void", age_days=8, state="voided")
    # when
    call_command("purge_core_idempotency")
    # then
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def test_purge_keeps_more_when_days_is_above_the_setting(settings):
    # given
    settings.CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS = 7
    _record("eight-days", age_days=8)
    # when
    call_command("purge_core_idempotency", "--days", "30")
    # then
    assert IdempotencyRecord.objects.filter(pk="eight-days").exists()


def test_purge_is_refused_when_days_is_below_the_setting(settings):
    # given
    settings.CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS = 7
    _record("old", age_days=5)
    # when / then
    with pytest.raises(CommandError):
        call_command("purge_core_idempotency", "--days", "3")
    assert IdempotencyRecord.objects.filter(pk="old").exists()
