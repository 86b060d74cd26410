"""Staff admin: ending a login session goes through the logout service and kills its token."""
from __future__ import annotations

import pytest

from auth_app.models import LoginSession

pytestmark = pytest.mark.django_db


def test_admin_action_ends_sessions_when_staff_selects_them(client, customer_user, login_token, make_user):
    # given a superuser in the admin and a customer's live token
    admin_user = make_user("root", password="root-password-123", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    token = login_token(customer_user)
    session = LoginSession.objects.get(user=customer_user)
    # when
    response = client.post("/admin/auth_app/loginsession/", {"action": "end_sessions",
                                                              "_selected_action": [session.pk]})
    # then
    assert response.status_code == 302
    session.refresh_from_db()
    assert not session.is_active
    assert client.get("/v1/api/auth/verify", HTTP_AUTHORIZATION="Bearer " + token).status_code == 401
