"""E16's world and operations: customers with funded read-model accounts, and the operation each run performs
(chosen and parameterised in the parent, run in a forked child through the real services).
"""
from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CUSTOMERS = 6
OPENING_YEN = 5_000_000  # below TRANSFER_MAX_AMOUNT, so an "insufficient funds" request is still a valid one
LEASE_SECONDS = 3600  # claimed rows stay ours for the whole experiment (settles come in later runs)
# After a killed attempt the operation is run again to completion with this probability (as the relay retries a row
# whose worker died, or a client repeats a request), so the state moves on and later runs find legs to settle.
RETRY_PROBABILITY = 0.7


# Relative weights of the operations (only those with something to act on are drawn).
WEIGHTS = {"transfer_request": 4, "leg_claim": 3, "leg_start": 3, "leg_settle": 5, "application_submit": 1,
           "application_decide": 1, "provisioning_settle": 1, "mail_claim": 1, "mail_settle": 1}


# ====================================================================================================================
# the world: customers with funded read-model accounts
# ====================================================================================================================

def world_seed(*, customers: int = CUSTOMERS) -> list[str]:
    """Create `customers` logins with an ACTIVE read-model account each, funded by one opening posting
    (idempotent). Returns the account ids."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from balance.models import AccountBalance
    from balance.services import Posting, account_balance_open, posting_apply

    user_model = get_user_model()
    account_ids = []
    for index in range(1, customers + 1):
        customer_id, account_id = f"CUST-E16{index:03d}", f"00199{index:05d}"
        account_ids.append(account_id)
        if user_model.objects.filter(customer_id=customer_id).exists():
            continue
        with transaction.atomic():
            user = user_model(username=f"e16user{index:03d}", public_id=f"E16USER{index:03d}", customer_id=customer_id,
                              primary_account_id=account_id, email=f"e16user{index:03d}@example.com")
            user.set_unusable_password()
            user.save()
            account_balance_open(account_id=account_id, customer_id=customer_id)
            locked = AccountBalance.objects.select_for_update().get(account_id=account_id)
            posting_apply(account=locked, posting=Posting(
                core_transaction_id=f"E16-OPEN-{account_id}", account_id=account_id, type="ATM_DEPOSIT",
                amount=OPENING_YEN, timestamp=timezone.now(), description="E16 opening credit"))
    return account_ids


class NudgesOff:
    """Replace the after-commit nudges (Celery publish, balance sync) with no-ops while the runs last: the
    experiment drives the relay itself and must not reach the broker or core."""

    def __enter__(self):
        from balance import tasks as balance_tasks
        from outbox import tasks as outbox_tasks

        self.saved = [(outbox_tasks, "relay_nudge", outbox_tasks.relay_nudge),
                      (balance_tasks, "sync_account_soon", balance_tasks.sync_account_soon)]
        outbox_tasks.relay_nudge = lambda **kwargs: None
        balance_tasks.sync_account_soon = lambda **kwargs: None
        return self

    def __exit__(self, *exc):
        for module, name, value in self.saved:
            setattr(module, name, value)


# ====================================================================================================================
# operations (chosen and parameterised in the parent; run in a child)
# ====================================================================================================================

@dataclass
class Operation:
    name: str
    variant: str
    run: Callable[[], Any]


def _leg_result(*, success: bool, transaction_id: str, leg: str) -> Any:
    """The `Delivery.result` a money-leg handler builds from core's answer (transfers/outbox_handlers.py)."""
    from transfers.core_answers import LegResult

    if success:
        return LegResult(success=True,
                         core_transaction_id=f"E16-{leg[:3]}-{transaction_id[:16]}-{uuid.uuid4().hex[:6]}",
                         http_status=200)
    return LegResult(success=False, http_status=400, error={
        "code": "ACCOUNT_NOT_ACTIVE" if leg == "DEPOSIT" else "INSUFFICIENT_BALANCE",
        "message": "refused by core (E16)", "httpStatus": 400})


def _uncommitted(call: Callable[[], Any]) -> Callable[[], Any]:
    """`call`, which on PostgreSQL writes with no transaction open (one statement, atomic by itself: the claim, a
    leg's start), run inside a transaction here. A child is then killed before one of its statements or at COMMIT
    and never commits, like every other operation's child; a real process killed after that one statement has
    written all of it, which the statement's own atomicity guarantees."""
    def run() -> Any:
        from django.db import transaction

        with transaction.atomic():
            return call()
    return run


def operation_choose(rng: random.Random, run_no: int, account_ids: list[str]) -> Operation:
    """Look at the current state and draw one operation that has something to act on."""
    from django.contrib.auth import get_user_model
    from django.db.models.functions import Now

    from accounts.models import Application, ApplicationStatus
    from balance.models import AccountBalance
    from outbox import registry, relay
    from outbox.models import OutboxMessage, OutboxStatus
    from outbox.registry import Delivery
    from transfers.models import Transfer

    def processing(kinds: tuple[str, ...]) -> list[OutboxMessage]:
        return list(OutboxMessage.objects.filter(status=OutboxStatus.PROCESSING, kind__in=kinds).order_by("id")[:50])

    def due(queue: str) -> bool:
        return OutboxMessage.objects.filter(status=OutboxStatus.PENDING, queue=queue,
                                            next_attempt_at__lte=Now()).exists()

    def settle_op(name: str, message: OutboxMessage, delivery: Delivery, variant: str) -> Operation:
        handler = registry.handler_find(message.kind)
        return Operation(name, f"{message.kind}:{variant}", lambda: relay.settle(
            message=message, delivery=delivery, handler=handler, worker_id=message.locked_by))

    money = processing(("withdraw", "deposit", "refund"))
    requested = {"withdraw": "WITHDRAW_REQUESTED", "deposit": "DEPOSIT_REQUESTED", "refund": "COMPENSATION_REQUESTED"}
    phases = dict(Transfer.objects.filter(aggregate_id__in=[message.aggregate_id for message in money])
                  .values_list("aggregate_id", "phase"))
    unstarted = [message for message in money if phases.get(message.aggregate_id) == requested[message.kind]]
    provisioning = processing(("create_account",))
    mails = processing(tuple(kind for kind in ("notify_receipt", "notify_completion", "notify_rejection",
                                                "notify_transfer_completed", "notify_transfer_failed")))
    pending_apps = list(Application.objects.filter(status=ApplicationStatus.PENDING).order_by("id")[:20])
    available = {"transfer_request": True, "application_submit": True, "leg_claim": due("core"),
                 "leg_start": bool(unstarted), "leg_settle": bool(money), "provisioning_settle": bool(provisioning),
                 "application_decide": bool(pending_apps), "mail_claim": due("notify"), "mail_settle": bool(mails)}
    names = [name for name, ok in available.items() if ok]
    name = rng.choices(names, weights=[WEIGHTS[name] for name in names])[0]

    if name == "transfer_request":
        from transfers.services import transfer_request

        source, target = rng.sample(account_ids, 2)
        user = get_user_model().objects.get(primary_account_id=source)
        available_yen = AccountBalance.objects.get(account_id=source).available_balance
        insufficient = rng.random() < 0.1
        amount = available_yen + rng.randint(1, 1000) if insufficient else rng.randint(1, 10_000)
        body = {"sourceAccountId": source, "targetAccountId": target, "amount": amount, "description": f"E16 {run_no}"}
        key = f"e16-{run_no}-{uuid.uuid4().hex[:8]}" if rng.random() < 0.5 else None
        return Operation(name, "insufficient" if insufficient else "accepted",
                         lambda: transfer_request(user=user, body=body, idempotency_key=key))
    if name in ("leg_claim", "mail_claim"):
        queue = "core" if name == "leg_claim" else "notify"
        batch = rng.randint(1, 3)
        return Operation(name, f"{queue}:batch{batch}", _uncommitted(lambda: relay.claim(
            queue=queue, worker_id=f"e16:{run_no}", batch_size=batch, lease_seconds=LEASE_SECONDS)))
    if name == "leg_start":
        # relay.start: the handler's on_claim hook (PROCESSING_STARTED and the projection row) before delivery.
        message = rng.choice(unstarted)
        handler = registry.handler_find(message.kind)
        return Operation(name, message.kind, _uncommitted(lambda: relay.start(message=message, handler=handler)))
    if name == "leg_settle":
        message = rng.choice(money)
        leg = {"withdraw": "WITHDRAW", "deposit": "DEPOSIT", "refund": "COMPENSATION"}[message.kind]
        success = message.kind == "refund" or rng.random() < (0.75 if message.kind == "withdraw" else 0.7)
        payload = _leg_result(success=success, transaction_id=message.payload["transactionId"], leg=leg)
        delivery = (Delivery.success(http_status=200, result=payload) if success else
                    Delivery.failed(error="refused by core (E16)", http_status=400, result=payload))
        return settle_op(name, message, delivery, "applied" if success else "refused")
    if name == "provisioning_settle":
        message = rng.choice(provisioning)
        if rng.random() < 0.85:
            number = f"{message.id:07d}"
            progress = {"customerId": f"CUST-E16A{message.id:06d}", "accountId": f"E16{number}",
                        "accountNumber": f"E16{number}", "branchCode": "E16"}
            return settle_op(name, message, Delivery.success(http_status=201, progress=progress), "created")
        return settle_op(name, message, Delivery.failed(error="core customer: refused (E16)", http_status=400,
                                                        progress={}, dead_letter=True), "refused")
    if name == "mail_settle":
        message = rng.choice(mails)
        delivery = Delivery.success(result={"recipient": "e16@example.com", "subject": f"E16 {message.kind}"})
        return settle_op(name, message, delivery, "sent")
    if name == "application_decide":
        from accounts.services import application_approve, application_reject

        application = rng.choice(pending_apps)
        approve = rng.random() < 0.8
        decide = application_approve if approve else application_reject
        return Operation(name, "approve" if approve else "reject", lambda: decide(
            transaction_id=application.transaction_id, actor="staff:e16", reviewer="e16", comment=f"E16 {run_no}"))
    # application_submit
    from accounts.services import application_submit
    from accounts.validation import application_input_parse

    body = {"customerInfo": {"fullName": "検証 太郎", "email": f"e16-{run_no}@example.com",
                             "phoneNumber": "090-1234-5678", "birthDate": "1990-01-01", "idType": "drivingLicense",
                             "idNumber": "123456789012"},
            "address": {"postalCode": "100-0001", "prefecture": "東京都", "city": "千代田区",
                        "streetAddress": "東京都千代田区千代田1-1"},
            "type": "普通預金", "initialBalance": 0}
    application_input = application_input_parse(body)
    key = f"e16-app-{run_no}" if rng.random() < 0.5 else None
    return Operation(name, "keyed" if key else "plain", lambda: application_submit(
        application_input=application_input, idempotency_key=key, request_fingerprint=f"e16-{run_no}"))
