"""user_issue_temporary_password and user_register(password=None) (the account-opening credentials, R33)."""
from __future__ import annotations

import logging

import pytest

from auth_app.models import LoginSession
from auth_app.services import user_issue_temporary_password, user_register


@pytest.mark.django_db
def test_login_is_created_without_usable_password_when_no_password_is_given():
    # when
    user = user_register(customer_id="CUST-777777", primary_account_id="0017777777", email="a@example.com",
                         password=None)

    # then
    assert user.username == "user-777777"
    assert not user.has_usable_password()
    assert user.must_change_password


@pytest.mark.django_db
def test_new_password_replaces_the_previous_one_when_issued_again(customer_user, login_token, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    login_token(customer_user)

    # when
    first = user_issue_temporary_password(user=customer_user)
    second = user_issue_temporary_password(user=customer_user)

    # then
    customer_user.refresh_from_db()
    assert len(second) >= 12 and first != second
    assert customer_user.check_password(second) and not customer_user.check_password(first)
    assert customer_user.must_change_password
    assert not LoginSession.objects.filter(user=customer_user, is_active=True).exists()
    assert first not in caplog.text and second not in caplog.text
