"""auth_app.services.login_authenticate / login_session_end: sessions and their expiry."""
from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from django.utils import timezone

from auth_app.errors import InvalidCredentials
from auth_app.models import LoginSession
from auth_app.selectors import user_get_by_token
from auth_app.services import login_authenticate, login_session_end
from tests.fixtures.auth import CUSTOMER_PASSWORD

pytestmark = pytest.mark.django_db


def _request(ip="192.0.2.1", **meta):
    return RequestFactory().post("/v1/api/auth/login", REMOTE_ADDR=ip, **meta)


def test_login_session_expires_with_the_configured_lifetime_when_created(customer_user, settings):
    # given
    settings.JWT_ACCESS_TOKEN_MINUTES = 5
    # when
    result = login_authenticate(request=_request(), login_id="user901", password=CUSTOMER_PASSWORD)
    # then
    assert result.session.expires_at - result.session.created_at == dt.timedelta(minutes=5)
    assert result.expires_at == result.session.expires_at
    assert user_get_by_token(raw_token=result.token).token.expires_at == \
        result.session.expires_at.replace(microsecond=0)


def test_login_records_the_forwarded_client_when_behind_a_trusted_proxy(customer_user, settings):
    # given one trusted proxy that appends the client address
    settings.BANK_TRUSTED_PROXY_COUNT = 1
    request = _request(ip="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23")
    # when
    result = login_authenticate(request=request, login_id="user901", password=CUSTOMER_PASSWORD)
    # then the spoofable left-most value is ignored
    assert result.session.ip_address == "198.51.100.23"


def test_login_session_end_deactivates_only_that_session_when_logging_out(customer_user):
    # given
    first = login_authenticate(request=_request(), login_id="user901", password=CUSTOMER_PASSWORD)
    second = login_authenticate(request=_request(), login_id="user901", password=CUSTOMER_PASSWORD)
    # when
    login_session_end(session=first.session)
    # then
    first.session.refresh_from_db()
    assert not first.session.is_active and first.session.ended_at <= timezone.now()
    assert LoginSession.objects.get(pk=second.session.pk).is_active


def test_login_creates_no_session_when_password_wrong(customer_user):
    with pytest.raises(InvalidCredentials):
        login_authenticate(request=_request(), login_id="user901", password="nope")
    assert LoginSession.objects.count() == 0


def test_login_session_prune_deletes_only_long_expired_sessions_when_run(customer_user):
    # given one fresh and one long-expired session
    from auth_app.services import login_session_prune

    fresh = login_authenticate(request=_request(), login_id="user901", password=CUSTOMER_PASSWORD)
    old = login_authenticate(request=_request(), login_id="user901", password=CUSTOMER_PASSWORD)
    LoginSession.objects.filter(pk=old.session.pk).update(expires_at=timezone.now() - dt.timedelta(days=31))
    # when
    deleted = login_session_prune()
    # then
    assert deleted == 1
    assert list(LoginSession.objects.values_list("pk", flat=True)) == [fresh.session.pk]
