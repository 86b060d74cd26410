"""Beat housekeeping for logins: expired API login sessions past retention and expired web sessions go away."""
from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.utils import timezone

from auth_app.models import LoginSession
from auth_app.services import login_authenticate
from auth_app.tasks import login_sessions_prune
from tests.fixtures.auth import CUSTOMER_PASSWORD

pytestmark = pytest.mark.django_db


def _login():
    request = RequestFactory().post("/v1/api/auth/login", REMOTE_ADDR="192.0.2.1")
    return login_authenticate(request=request, login_id="user901", password=CUSTOMER_PASSWORD).session


def test_prunes_sessions_past_retention_and_expired_web_sessions_when_beat_runs_it(customer_user):
    # given a fresh API login session, one that expired just inside the retention, one past it
    fresh, recent, old = _login(), _login(), _login()
    now = timezone.now()
    retention = dt.timedelta(days=settings.LOGIN_SESSION_RETENTION_DAYS)
    LoginSession.objects.filter(pk=recent.pk).update(expires_at=now - retention + dt.timedelta(hours=1))
    LoginSession.objects.filter(pk=old.pk).update(expires_at=now - retention - dt.timedelta(hours=1))
    # and a live and an expired web UI session
    live_web, expired_web = SessionStore(), SessionStore()
    live_web["k"] = expired_web["k"] = "v"
    live_web.create()
    expired_web.create()
    Session.objects.filter(session_key=expired_web.session_key).update(expire_date=now - dt.timedelta(minutes=1))
    # when beat's housekeeping task runs
    deleted = login_sessions_prune()
    # then only the session past retention and the expired web session are gone
    assert deleted == 1
    assert set(LoginSession.objects.values_list("pk", flat=True)) == {fresh.pk, recent.pk}
    assert list(Session.objects.values_list("session_key", flat=True)) == [live_web.session_key]


def test_housekeeping_tasks_are_on_the_beat_schedule():
    # given the beat schedule, then both housekeeping tasks run on the configured interval
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["auth_app.login_sessions_prune"] == float(settings.HOUSEKEEPING_INTERVAL_SECONDS)
    assert schedule["outbox.idempotency_purge"] == float(settings.HOUSEKEEPING_INTERVAL_SECONDS)
