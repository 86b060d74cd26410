"""Who a staff action is recorded as, in events' metadata and in the operator action logs (admin pages and
staff API alike)."""
from __future__ import annotations


def actor_for_user(user) -> str:
    """The actor string stored for a staff user's action: `admin:<user id>`, stable if the login name changes (R12)."""
    return f"admin:{user.pk}"
