"""Demo logins of the original sample (api.md §6.3): the two customers seeded in core banking, plus a staff user."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoLogin:
    user_id: str
    login_id: str
    secret: str
    customer_id: str
    primary_account_id: str
    email: str


# The original's two demo customers, with the shared demo password from the spec.
DEMO_CUSTOMERS = (
    DemoLogin("USER001", "user001", "password123", "CUST001", "0011234567", "user001@example.com"),
    DemoLogin("USER002", "user002", "password123", "CUST002", "0017654321", "user002@example.com"),
)
DEMO_STAFF_LOGIN = "staff"
