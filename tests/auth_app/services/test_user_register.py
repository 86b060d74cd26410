"""auth_app.services.user_register (used in-process by account opening) and its helpers."""
from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model

from auth_app.errors import CustomerExists, LoginIdExists, PasswordRejected
from auth_app.services import login_id_for_customer, temporary_password_generate, user_register

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("customer_id, login_id", [("CUST-482913", "user-482913"), ("CUST001", "user001"),
                                                   ("CUST-CUST1", "user-CUST1")])
def test_login_id_for_customer_drops_the_first_cust_when_deriving(customer_id, login_id):
    assert login_id_for_customer(customer_id=customer_id) == login_id


def test_temporary_password_is_random_letters_and_digits_when_generated():
    passwords = {temporary_password_generate() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) >= 12 and password.isalnum()
        assert any(c.isdigit() for c in password) and any(c.isalpha() for c in password)


def test_user_register_stores_only_a_hash_and_forces_a_change_when_creating(caplog):
    # given
    caplog.set_level(logging.DEBUG)
    password = temporary_password_generate()
    # when
    user = user_register(customer_id="CUST-100200", primary_account_id="0011002000", email="a@example.com",
                         password=password)
    # then
    stored = get_user_model().objects.get(pk=user.pk)
    assert stored.username == "user-100200"
    assert stored.must_change_password
    assert stored.check_password(password) and password not in stored.password
    assert len(stored.public_id) == 36
    assert password not in caplog.text


def test_user_register_refuses_a_second_login_when_customer_or_login_id_taken():
    user_register(customer_id="CUST-1", primary_account_id="0010000001", email="a@example.com",
                  password=temporary_password_generate())
    with pytest.raises(LoginIdExists):
        user_register(customer_id="CUST-2", primary_account_id="0010000002", email="b@example.com",
                      password=temporary_password_generate(), login_id="user-1")
    with pytest.raises(CustomerExists):
        user_register(customer_id="CUST-1", primary_account_id="0010000003", email="c@example.com",
                      password=temporary_password_generate(), login_id="someone-else")
    assert get_user_model().objects.count() == 1


def test_user_register_refuses_a_weak_password_when_validators_reject_it():
    with pytest.raises(PasswordRejected):
        user_register(customer_id="CUST-3", primary_account_id="0010000003", email="c@example.com",
                      password="password123")
    assert get_user_model().objects.count() == 0
