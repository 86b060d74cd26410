"""Beat housekeeping for client Idempotency-Key answers: rows older than the TTL are deleted, newer ones kept."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from outbox.models import IdempotentRequest
from outbox.tasks import idempotency_purge

pytestmark = pytest.mark.django_db


def test_purges_answers_older_than_the_ttl_when_beat_runs_it(settings):
    # given one answer inside the TTL and one past it
    settings.IDEMPOTENCY_KEY_TTL_SECONDS = 3600
    kept = IdempotentRequest.objects.create(scope="transfer", owner="U1", key="new", fingerprint="f")
    old = IdempotentRequest.objects.create(scope="transfer", owner="U1", key="old", fingerprint="f")
    IdempotentRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(seconds=3601))
    # when beat's housekeeping task runs
    deleted = idempotency_purge()
    # then only the old answer is gone
    assert deleted == 1
    assert list(IdempotentRequest.objects.values_list("pk", flat=True)) == [kept.pk]
