"""auth_app.services.user_seed_demo: the original's demo logins, idempotent."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from auth_app.services import user_seed_demo

pytestmark = pytest.mark.django_db


def test_seed_creates_demo_customers_and_staff_when_missing_and_is_idempotent():
    # when
    first = user_seed_demo(staff_secret="staff-secret-xyz-1")
    second = user_seed_demo(staff_secret="staff-secret-xyz-1")
    # then
    assert first == ["user001", "user002", "staff"]
    assert second == []
    users = get_user_model().objects
    user001 = users.get(username="user001")
    assert (user001.public_id, user001.customer_id, user001.primary_account_id) == ("USER001", "CUST001",
                                                                                   "0011234567")
    assert not user001.must_change_password
    staff = users.get(username="staff")
    assert staff.is_staff and staff.public_id and staff.customer_id is None
