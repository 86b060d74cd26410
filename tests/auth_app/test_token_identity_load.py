"""The token check loads the session and its user with one hand-written join: the instances must be the ones
the ORM would build (typed values, saved state), since logout and password change save them."""
import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from auth_app.models import LoginSession
from auth_app.selectors import user_get_by_token

pytestmark = pytest.mark.django_db


def _field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_session_and_user_equal_the_orm_rows_when_a_valid_token_is_resolved(customer_user, login_token):
    # given
    token = login_token(customer_user)
    # when
    with CaptureQueriesContext(connection) as queries:
        identity = user_get_by_token(raw_token=token)
    # then
    assert len(queries) == 1
    stored_session = LoginSession.objects.get(session_id=identity.session.session_id)
    stored_user = get_user_model().objects.get(pk=customer_user.pk)
    assert _field_values(identity.session) == _field_values(stored_session)
    assert _field_values(identity.user) == _field_values(stored_user)
    assert identity.session.user is identity.user
    assert identity.session.expires_at.tzinfo is not None and identity.session.is_active is True
    assert identity.user.is_active is True and identity.user.must_change_password is False
    assert not identity.session._state.adding and not identity.user._state.adding


def test_loaded_session_saves_in_place_when_it_is_ended(customer_user, login_token):
    # given
    identity = user_get_by_token(raw_token=login_token(customer_user))
    # when the session row is updated through the loaded instance
    identity.session.is_active = False
    identity.session.ended_at = identity.session.created_at + dt.timedelta(seconds=1)
    identity.session.save(update_fields=["is_active", "ended_at"])
    # then it updated the existing row instead of inserting one
    assert LoginSession.objects.filter(user=customer_user).count() == 1
    assert LoginSession.objects.get(pk=identity.session.pk).is_active is False
