"""Two concurrent approvals (flows.md §5.12 scenario 7): one wins, one core customer and account (PostgreSQL)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import Application
from accounts.services import application_approve
from config.errors import ApplicationError
from corebanking_mock.models import Account, Customer
from outbox.models import OutboxMessage
from outbox.relay import drain


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["default", "core"])
def test_one_approval_wins_when_two_staff_approve_at_the_same_time(core_db, core_server, submit_application):
    # given
    application = submit_application()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def approve(actor: str) -> None:
        try:
            barrier.wait(timeout=5)
            outcomes.append(application_approve(transaction_id=application.transaction_id, actor=actor).status)
        except ApplicationError as exc:
            outcomes.append(exc.http_status)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(f"admin:{n}",)) for n in (1, 2)]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    drain(queue="core")

    # then
    assert sorted(map(str, outcomes)) in (["400", "CONFIRMED"], ["409", "CONFIRMED"])
    assert OutboxMessage.objects.filter(kind="create_account").count() == 1
    assert Application.objects.get(pk=application.pk).status == "COMPLETED"
    customers = Customer.objects.filter(email="taro@example.com")
    assert customers.count() == 1
    assert Account.objects.filter(customer_id__in=customers.values("customer_id")).count() == 1
