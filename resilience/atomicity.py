"""E16 internal atomicity (flows.md §6.6): abort the process at random points inside command and result
transactions, then prove that nothing half-written survived.

Each run forks a child from a set-up Django process. The child runs one operation through the real services:

- commands: `transfers.services.transfer_request`, `accounts.services.application_submit`,
  `application_approve` / `application_reject`;
- relay transactions (outbox/relay.py): `claim` of due rows, `start` of a claimed money leg (its `on_claim` hook
  appends PROCESSING_STARTED) and `settle` of a claimed row with a leg result, a provisioning result or a sent
  mail, which runs the registered handler's `on_success` / `on_failure` hook (transfers.services
  transfer_*_record, accounts.services.application_complete, outbox.mail) in the settle transaction.

Core banking is never called: the child settles a *result* (a Delivery the relay would have built from core's
answer), which is exactly the after-call transaction. A dry run of the same operation in a first child counts its SQL
statements up to COMMIT (and is killed before COMMIT, so it leaves nothing); the second child installs
`connection.execute_wrapper` and SIGKILLs itself right before statement k, k uniform in 1..n+1 (n+1 = at COMMIT).

The parent closes its own connections before every fork, so a child never shares a socket with it; the child
additionally drops (never closes) any connection object it inherited, and leaves only through SIGKILL or `os._exit`.
Afterwards: events without their outbox row, outbox rows without their event (the correspondence below, read from
transfers/services/ and accounts/services.py), read-model drift (the registered invariants, I8 among them,
ledger = Σ postings, and a projection rebuild that must change nothing).

PostgreSQL only: `e16_atomicity()` runs everything in a subprocess against its own databases
(`bench_e16_bank` / `bench_e16_core`, dropped and created); `atomicity_runs()` works on whatever database Django is
connected to (the tests use their PostgreSQL test database).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_SERVER = "postgres://postgres@127.0.0.1:5432"
DB_PREFIX = "bench_e16"
CUSTOMERS = 6
OPENING_YEN = 5_000_000  # below TRANSFER_MAX_AMOUNT, so an "insufficient funds" request is still a valid one
LEASE_SECONDS = 3600  # claimed rows stay ours for the whole experiment (settles come in later runs)
# After a killed attempt the operation is run again to completion with this probability (as the relay retries a row
# whose worker died, or a client repeats a request), so the state moves on and later runs find legs to settle.
RETRY_PROBABILITY = 0.7

# Which event enqueues which outbox row (kind; key = f"{kind}-{id}" with the transfer's transactionId or the
# application id), as written by transfers/services/ and accounts/services.py. The row carries the event's
# (aggregate_id, event_version, event_type).
EVENT_OUTBOX_KINDS: dict[tuple[str, str], str] = {
    ("transfer", "WithdrawRequested"): "withdraw",
    ("transfer", "DepositRequested"): "deposit",
    ("transfer", "CompensationRequested"): "refund",
    ("transfer", "TransferCompleted"): "notify_transfer_completed",
    ("transfer", "TransferFailed"): "notify_transfer_failed",
    ("transfer", "TransferCompensated"): "notify_transfer_failed",
    ("account_opening", "AccountOpeningApplicationCreated"): "notify_receipt",
    ("account_opening", "AccountOpeningApplicationConfirmed"): "create_account",
    ("account_opening", "AccountOpeningApplicationRejected"): "notify_rejection",  # when ACCOUNTS_REJECTION_MAIL
    ("account_opening", "AccountOpeningApplicationCompleted"): "notify_completion",
}
# Relative weights of the operations (only those with something to act on are drawn).
WEIGHTS = {"transfer_request": 4, "leg_claim": 3, "leg_start": 3, "leg_settle": 5, "application_submit": 1,
           "application_decide": 1, "provisioning_settle": 1, "mail_claim": 1, "mail_settle": 1}

_INHERITED: list[Any] = []  # connection objects a child inherited: kept referenced, never closed or collected


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


def _choose(rng: random.Random, run_no: int, account_ids: list[str]) -> Operation:
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
        return Operation(name, f"{queue}:batch{batch}", lambda: relay.claim(
            queue=queue, worker_id=f"e16:{run_no}", batch_size=batch, lease_seconds=LEASE_SECONDS))
    if name == "leg_start":
        # relay.start: the handler's on_claim hook (PROCESSING_STARTED) in its own transaction before delivery.
        message = rng.choice(unstarted)
        handler = registry.handler_find(message.kind)
        return Operation(name, message.kind, lambda: relay.start(message=message, handler=handler))
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


# ====================================================================================================================
# fork, count, kill
# ====================================================================================================================

def _child_connections_reset() -> None:
    """In a fresh child: forget (never close) every inherited connection, so the child opens its own and cannot
    disturb a socket the parent might still use. Closing would send the server a Terminate on the shared socket."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _INHERITED.append(connection.connection)
            connection.connection = None
        connection.in_atomic_block = False
        connection.savepoint_ids = []
        connection.run_on_commit = []
        connection.needs_rollback = False


def _statement_label(sql: str) -> str:
    """`VERB table` of a statement (the statement a child was killed in front of)."""
    words = sql.split()
    if not words:
        return "?"
    verb = words[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb
    upper = [word.upper() for word in words]
    for index, word in enumerate(upper[:-1]):
        if word in ("INTO", "UPDATE", "FROM") and not (word == "UPDATE" and index and upper[index - 1] == "FOR"):
            table = words[index + 1].strip('"(').split('"')[0]
            if table and table.upper() not in ("SELECT", "(SELECT"):
                return f"{verb} {table}"
    return verb


def _run_child(operation: Operation, *, kill_at: int | None, write_fd: int) -> None:
    """Body of a forked child; never returns. kill_at=None: dry run (count statements, die at COMMIT);
    kill_at=k: SIGKILL right before statement k, or at COMMIT when k is past the last statement."""
    status = 0
    try:
        logging.disable(logging.ERROR)
        _child_connections_reset()
        from django.db import connections

        connection = connections["default"]
        count = 0

        def report_and_die(label: str) -> None:
            os.write(write_fd, json.dumps({"count": count, "label": label, "killed": True}).encode() + b"\n")
            os.kill(os.getpid(), signal.SIGKILL)

        def wrapper(execute, sql, params, many, context):
            nonlocal count
            count += 1
            if kill_at is not None and count == kill_at:
                count -= 1  # statements completed before the kill
                report_and_die(_statement_label(sql))
            return execute(sql, params, many, context)

        connection.ensure_connection()

        def commit_guard(*args, **kwargs):
            # Reached only when no statement k came first: the dry run ends here, and a kill run whose k lies
            # past the last statement dies here, so nothing is ever committed by a child.
            report_and_die("COMMIT")

        connection._commit = commit_guard
        with connection.execute_wrapper(wrapper):
            operation.run()
        os.write(write_fd, json.dumps({"count": count, "label": "", "killed": False}).encode() + b"\n")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        os.write(write_fd, json.dumps({"count": -1, "label": "", "killed": False,
                                       "error": f"{type(exc).__name__}: {str(exc)[:200]}"}).encode() + b"\n")
        status = 1
    finally:
        os._exit(status)


def _fork(operation: Operation, *, kill_at: int | None) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()  # the child must not inherit a live socket of ours
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _run_child(operation, kill_at=kill_at, write_fd=write_fd)
    os.close(write_fd)
    chunks = []
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, wait_status = os.waitpid(pid, 0)
    lines = b"".join(chunks).decode().strip().splitlines()
    report = json.loads(lines[-1]) if lines else {"count": -1, "label": "", "killed": False, "error": "no report"}
    report["signal"] = os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None
    report["exit"] = os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else None
    return report


def _bucket(kill_at: int, statements: int) -> str:
    if kill_at > statements:
        return "at COMMIT"
    share = (kill_at - 1) / max(statements, 1)
    return ("first quarter", "second quarter", "third quarter", "last quarter")[min(int(share * 4), 3)]


# ====================================================================================================================
# the checks
# ====================================================================================================================

def _transaction_or_application_id(aggregate_type: str, aggregate_id: str) -> str:
    return aggregate_id.removeprefix("transfer-") if aggregate_type == "transfer" else aggregate_id


def consistency_check() -> dict[str, Any]:
    """Events without their outbox row, outbox rows without their event, read-model drift (see module doc)."""
    from django.conf import settings
    from django.db.models import Sum

    from balance.models import AccountBalance, TransactionEntry
    from outbox.checks import invariants_check
    from outbox.models import Event, OutboxMessage

    rows = {row.key: row for row in OutboxMessage.objects.all()}
    events_without_outbox: list[str] = []
    expected_keys = set()
    for event in Event.objects.order_by("position"):
        kind = EVENT_OUTBOX_KINDS.get((event.aggregate_type, event.type))
        if kind is None or (kind == "notify_rejection" and not settings.ACCOUNTS_REJECTION_MAIL):
            continue
        key = f"{kind}-{_transaction_or_application_id(event.aggregate_type, event.aggregate_id)}"
        expected_keys.add(key)
        row = rows.get(key)
        if row is None or row.event_version != event.version or row.event_type != event.type \
                or row.aggregate_id != event.aggregate_id:
            events_without_outbox.append(f"{event.aggregate_id} v{event.version} {event.type}: no {key} row")
    events = set(Event.objects.values_list("aggregate_id", "version", "type"))
    outbox_without_event = [f"{row.key} (v{row.event_version} {row.event_type})" for row in rows.values()
                            if (row.aggregate_id, row.event_version, row.event_type) not in events]
    unexpected_rows = sorted(set(rows) - expected_keys)

    drift: list[str] = []
    invariants = {result.code: result.violations for result in invariants_check()}
    for code, violations in invariants.items():
        if code.startswith("I8"):
            drift += [f"{code}: {violation}" for violation in violations]
    ledger = dict(TransactionEntry.objects.values("account_id").annotate(total=Sum("amount"))
                  .values_list("account_id", "total"))
    for account_id, balance in AccountBalance.objects.values_list("account_id", "ledger_balance"):
        if balance != (ledger.get(account_id) or 0):
            drift.append(f"account {account_id}: ledger {balance} != Σ postings {ledger.get(account_id) or 0}")
    drift += _rebuild_changes()
    return {
        "events_without_outbox": len(events_without_outbox), "outbox_without_event": len(outbox_without_event),
        "read_model_drift": len(drift), "unexpected_outbox_rows": len(unexpected_rows),
        "invariant_violations": {code: len(violations) for code, violations in invariants.items()},
        "examples": {"events_without_outbox": events_without_outbox[:10],
                     "outbox_without_event": outbox_without_event[:10], "read_model_drift": drift[:10],
                     "unexpected_outbox_rows": unexpected_rows[:10],
                     "invariants": {code: violations[:5] for code, violations in invariants.items() if violations}},
    }


def _projection_rows() -> dict[str, dict[str, dict[str, Any]]]:
    from accounts.models import Application
    from transfers.models import Transfer

    tables = {}
    for model, key in ((Transfer, "aggregate_id"), (Application, "application_id")):
        tables[model._meta.db_table] = {
            getattr(row, key): {field.attname: getattr(row, field.attname) for field in model._meta.concrete_fields
                                if not field.primary_key}
            for row in model.objects.all()}
    return tables


def _rebuild_changes() -> list[str]:
    """Replay every event through the registered projections; list the rows the rebuild changed."""
    from outbox.services import projections_rebuild

    before = _projection_rows()
    projections_rebuild()
    after = _projection_rows()
    changes = []
    for table in before:
        for key in sorted(set(before[table]) | set(after[table])):
            if before[table].get(key) != after[table].get(key):
                changes.append(f"{table} {key}: rebuild changed the row")
    return changes


# ====================================================================================================================
# the experiment
# ====================================================================================================================

def atomicity_runs(*, runs: int, seed: int | None = None, progress: Callable[[int], None] | None = None
                   ) -> dict[str, Any]:
    """Run `runs` killed operations on the current (PostgreSQL) database, then check it. Returns the E16 result."""
    from django.db import connection, connections

    connection.ensure_connection()
    if connection.vendor != "postgresql":
        raise RuntimeError("E16 needs PostgreSQL (SQLite file locks and fork make the kill points meaningless)")
    if connection.in_atomic_block:
        raise RuntimeError("E16 commits for real and reconnects around each fork: run it in autocommit "
                           "(pytest: transactional_db), not inside a transaction")
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    started = time.monotonic()
    kills: Counter[str] = Counter()
    kills_by_bucket: dict[str, Counter[str]] = defaultdict(Counter)
    kills_by_statement: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    statements: dict[str, list[int]] = defaultdict(list)
    errors: list[str] = []
    refusals: Counter[str] = Counter()
    with NudgesOff():
        account_ids = world_seed()
        for run_no in range(1, runs + 1):
            operation = _choose(rng, run_no, account_ids)
            label = f"{operation.name}[{operation.variant}]"
            dry = _fork(operation, kill_at=None)
            if dry.get("error") or dry["count"] < 0:
                # The operation refuses in this state (e.g. a lost race with a previous run's leftovers):
                # nothing was written; count it and go on.
                outcomes["refused_in_dry_run"] += 1
                errors.append(f"run {run_no} {label}: {dry.get('error')}")
                continue
            total = dry["count"]
            statements[operation.name].append(total)
            kill_at = rng.randint(1, total + 1)
            report = _fork(operation, kill_at=kill_at)
            if report["signal"] == signal.SIGKILL and report.get("killed"):
                outcomes["killed"] += 1
                kills[operation.name] += 1
                kills_by_bucket[operation.name][_bucket(kill_at, total)] += 1
                kills_by_statement[report["label"]] += 1
            elif report.get("error"):
                outcomes["error"] += 1
                errors.append(f"run {run_no} {label} k={kill_at}/{total}: {report['error']}")
            else:
                outcomes["completed"] += 1
            if rng.random() < RETRY_PROBABILITY:
                outcomes["retried_to_commit"] += 1
                try:
                    operation.run()  # in this process, committed for real
                except Exception as exc:  # noqa: BLE001 - a refusal (e.g. insufficient funds) is an answer
                    outcomes["retry_refused"] += 1
                    refusals[type(exc).__name__] += 1
            if progress:
                progress(run_no)
        connections.close_all()
        checked = consistency_check()
    metrics = {
        "runs": runs, "seed": seed, "seconds": round(time.monotonic() - started, 1),
        "events_without_outbox": checked["events_without_outbox"],
        "outbox_without_event": checked["outbox_without_event"],
        "read_model_drift": checked["read_model_drift"],
        "unexpected_outbox_rows": checked["unexpected_outbox_rows"],
        "invariant_violations": checked["invariant_violations"],
        "outcomes": dict(outcomes), "kills": sum(kills.values()), "kills_by_operation": dict(sorted(kills.items())),
        "kills_by_operation_and_bucket": {name: dict(sorted(buckets.items()))
                                          for name, buckets in sorted(kills_by_bucket.items())},
        "kills_by_statement": dict(kills_by_statement.most_common()),
        "statements_per_operation": {name: {"min": min(counts), "max": max(counts),
                                            "mean": round(sum(counts) / len(counts), 1)}
                                     for name, counts in sorted(statements.items())},
        "state": _state_counts(),
        "examples": checked["examples"],
        "retry_refusals": dict(refusals),
        "errors": errors[:20],
    }
    notes = [
        f"{runs} runs (seed {seed}): each forked a child that ran one operation and SIGKILLed itself right before "
        "SQL statement k (k uniform over the statements counted by a dry run, or at COMMIT); "
        f"{metrics['kills']} were killed, {outcomes['completed']} completed, {outcomes['refused_in_dry_run']} "
        "refused by the service before writing. After a kill the same operation was run to commit with probability "
        f"{RETRY_PROBABILITY} ({outcomes['retried_to_commit']} times), as a relay retry or client repeat would, so the "
        "state moves through every saga phase.",
        "Checks: every event that enqueues work has its outbox row (key, version, type) and every outbox row its "
        "event; read-model drift = I8 violations + ledger != Σ postings + rows a full projection rebuild changes.",
    ]
    return {"metrics": metrics, "notes": notes}


def _state_counts() -> dict[str, Any]:
    from django.db.models import Count

    from accounts.models import Application
    from outbox.models import Event, OutboxMessage
    from transfers.models import Transfer

    return {"events": Event.objects.count(), "outbox_rows": OutboxMessage.objects.count(),
            "transfers_by_phase": dict(Transfer.objects.values_list("phase").annotate(n=Count("id"))),
            "applications_by_status": dict(Application.objects.values_list("status").annotate(n=Count("id"))),
            "outbox_by_status": dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")))}


# ====================================================================================================================
# entry points: the harness function and the subprocess main
# ====================================================================================================================

def _pg_server() -> str:
    """The PostgreSQL server to create the E16 databases on: E16_PG_SERVER, else DATABASE_URL's server when it is
    PostgreSQL, else the local default."""
    explicit = os.environ.get("E16_PG_SERVER")
    if explicit:
        return explicit.rstrip("/")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url.rsplit("/", 1)[0]
    return DEFAULT_PG_SERVER


def databases_recreate(server: str, names: tuple[str, ...]) -> None:
    """Drop and create the named databases (only those)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")


def databases_drop(server: str, names: tuple[str, ...]) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def e16_atomicity(runs: int = 1000, out_dir: Path | str | None = None, *, db_prefix: str = DB_PREFIX,
                  seed: int | None = None, keep_databases: bool = True, timeout: float = 3600) -> dict[str, Any]:
    """E16: `runs` killed operations against fresh databases `<db_prefix>_bank` / `<db_prefix>_core`, in a
    subprocess (so the caller's Django setup is untouched). Writes `e16.json` (and the child's log) to `out_dir`;
    the databases are left for inspection unless keep_databases=False."""
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="bench-e16-"))
    out.mkdir(parents=True, exist_ok=True)
    result_path = out / "e16.json"
    server = _pg_server()
    env = {name: value for name, value in os.environ.items()
           if name not in ("DATABASE_URL", "CORE_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_ADDOPTS")}
    env.update({"DATABASE_URL": f"{server}/{db_prefix}_bank", "CORE_DATABASE_URL": f"{server}/{db_prefix}_core",
                "DJANGO_SETTINGS_MODULE": "config.settings.test", "CELERY_BROKER_URL": "memory://",
                "BANK_VAR_DIR": tempfile.mkdtemp(prefix="bench-e16-var-"), "PYTHONPATH": str(REPO_ROOT),
                "DB_CONN_MAX_AGE": "0"})
    command = [sys.executable, "-m", "resilience.atomicity", "--runs", str(runs), "--out", str(result_path),
               "--server", server, "--db-prefix", db_prefix]
    if seed is not None:
        command += ["--seed", str(seed)]
    if not keep_databases:
        command.append("--drop-after")
    with open(out / "e16.log", "w", encoding="utf-8") as log:
        completed = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   timeout=timeout)
    if completed.returncode != 0 or not result_path.exists():
        tail = (out / "e16.log").read_text(encoding="utf-8")[-3000:]
        return {"metrics": {"runs": runs, "error": f"exit {completed.returncode}"},
                "notes": [f"E16 subprocess failed; log tail:\n{tail}"]}
    result = json.loads(result_path.read_text(encoding="utf-8"))
    where = server.rsplit("@", 1)[-1]
    kept = "left for inspection" if keep_databases else "dropped at the end"
    result["notes"].append(f"Databases {db_prefix}_bank / {db_prefix}_core on {where} (dropped and created at start, "
                           f"{kept}).")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--db-prefix", default=DB_PREFIX)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--drop-after", action="store_true")
    args = parser.parse_args(argv)
    databases_recreate(args.server, (f"{args.db_prefix}_bank", f"{args.db_prefix}_core"))
    sys.path.insert(0, str(REPO_ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="core", verbosity=0, interactive=False)

    def progress(run_no: int) -> None:
        if run_no % 100 == 0:
            print(f"E16 run {run_no}/{args.runs}", flush=True)

    result = atomicity_runs(runs=args.runs, seed=args.seed, progress=progress)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(json.dumps(result["metrics"], ensure_ascii=False, default=str)[:2000], flush=True)
    if args.drop_after:
        from django.db import connections

        connections.close_all()
        databases_drop(args.server, (f"{args.db_prefix}_bank", f"{args.db_prefix}_core"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
