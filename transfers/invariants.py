"""Stuck-item checks (§5.10) and invariants I1, I2, I3, I5 (transfer part), I8 (§5.11) of transfers.

Registered in TransfersConfig.ready(); listed by `GET /v1/admin/stuck`, logged by the beat
`outbox.stuck_detector`, and run by `manage.py check_invariants`. Money invariants are checked on the
bank's read model (the postings each leg recorded), so the command needs no core connection.
"""
from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Sum

from balance.selectors import account_list_pending_debits, transaction_list_of_types
from outbox.eventstore.models import Event
from outbox.eventstore.selectors import aggregate_load
from outbox.invariants import StuckItem, register_invariant, register_stuck_check
from outbox.models import OutboxMessage, OutboxStatus
from transfers import events as ev
from transfers import saga
from transfers.models import Transfer
from transfers.projections import transfer_state_of_row
from transfers.selectors import transfer_in_suspense, transfer_list_needing_attention

TRANSFER_ENTRY_TYPES = ("TRANSFER_WITHDRAWAL", "TRANSFER_DEPOSIT", ev.CORE_TYPE_REFUND)
OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.PROCESSING, OutboxStatus.FAILED)
LIMIT = 100


def transfers_stuck() -> list[StuckItem]:
    """Transfers not terminal 5 min after RECEIVED (warning); critical once the withdrawal applied."""
    items = []
    for transfer in transfer_list_needing_attention()[:500]:
        suspense = transfer_in_suspense(transfer)
        items.append(StuckItem(
            check="transfers.not_terminal", aggregate_id=transfer.aggregate_id,
            severity="critical" if suspense else "warning",
            reason=("withdrawal applied but transfer not terminal: money in suspense" if suspense
                    else "transfer not terminal"),
            since=transfer.created_at,
            detail={"transactionId": transfer.transaction_id, "status": transfer.status, "leg": transfer.leg,
                    "phase": transfer.phase, "amount": transfer.amount}))
    return items


def _saga_entries():
    """Read-model postings of this bank's transfers (core's seed data also carries transfer ids: excluded)."""
    return transaction_list_of_types(types=TRANSFER_ENTRY_TYPES).filter(
        transfer_id__in=Transfer.objects.values("transaction_id"))


def _transfer_entries() -> dict[str, dict[tuple[str, str], int]]:
    """{transfer id: {(account, type): summed amount}} of the read model's transfer postings."""
    sums: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    rows = (_saga_entries()
            .values("transfer_id", "account_id", "type").annotate(total=Sum("amount")))
    for row in rows:
        sums[row["transfer_id"]][(row["account_id"], row["type"])] = int(row["total"])
    return sums


def conservation() -> list[str]:
    """I1: Σ transfer postings + Σ suspense (withdrawn, neither deposited nor refunded) = 0."""
    posted = _saga_entries().aggregate(total=Sum("amount"))["total"] or 0
    suspense = Transfer.objects.filter(phase__in=saga.SUSPENSE_PHASES).aggregate(total=Sum("amount"))["total"] or 0
    if posted + suspense != 0:
        return [f"transfer postings sum to {posted} yen with {suspense} yen in suspense (expected 0)"]
    return []


def all_or_nothing() -> list[str]:
    """I2: completed → (−a source, +a target); failed / compensated / rejected → zero net per account."""
    entries = _transfer_entries()
    violations = []
    for transfer in Transfer.objects.filter(terminal=True).iterator(chunk_size=2000):
        by_account: dict[str, int] = defaultdict(int)
        for (account, _type), total in entries.get(transfer.transaction_id, {}).items():
            by_account[account] += total
        if transfer.phase == saga.COMPLETED:
            expected = {transfer.source_account_id: -transfer.amount, transfer.target_account_id: transfer.amount}
        else:
            expected = {}
        actual = {account: total for account, total in by_account.items() if total}
        if actual != expected:
            violations.append(f"{transfer.transaction_id} {transfer.phase}: postings {actual}, expected {expected}")
            if len(violations) >= LIMIT:
                break
    return violations


def one_posting_per_key() -> list[str]:
    """I3: per transfer at most one withdrawal, one deposit, one refund posting."""
    doubles = (_saga_entries().values("transfer_id", "type").annotate(n=Count("id")).filter(n__gt=1)[:LIMIT])
    return [f"{row['transfer_id']}: {row['n']} {row['type']} postings" for row in doubles]


def one_open_row() -> list[str]:
    """I5 (transfers): each non-terminal transfer has exactly one open money-leg row; terminal ones none."""
    open_rows = dict(OutboxMessage.objects.filter(kind__in=ev.MONEY_KINDS, status__in=OPEN_STATUSES)
                     .values("aggregate_id").annotate(n=Count("id")).values_list("aggregate_id", "n"))
    violations = []
    for aggregate_id, terminal in Transfer.objects.values_list("aggregate_id", "terminal").iterator(chunk_size=5000):
        count = open_rows.get(aggregate_id, 0)
        if (terminal and count) or (not terminal and count != 1):
            violations.append(f"{aggregate_id} ({'terminal' if terminal else 'open'}): {count} open leg rows")
            if len(violations) >= LIMIT:
                break
    return violations


def projection_equals_replay() -> list[str]:
    """I8 (transfers): every Transfer row equals the fold of its events; holds equal open transfers' amounts."""
    violations = []
    rows = {row.aggregate_id: row for row in Transfer.objects.all()}
    aggregate_ids = set(Event.objects.filter(aggregate_type=ev.AGGREGATE_TYPE).values_list("aggregate_id", flat=True)
                        .distinct())
    for missing in sorted(aggregate_ids - set(rows))[:LIMIT]:
        violations.append(f"{missing}: events without a Transfer row")
    for extra in sorted(set(rows) - aggregate_ids)[:LIMIT]:
        violations.append(f"{extra}: Transfer row without events")
    for aggregate_id in sorted(aggregate_ids & set(rows)):
        loaded = aggregate_load(aggregate_id=aggregate_id, use_snapshot=False)
        if loaded is not None and loaded.state != transfer_state_of_row(rows[aggregate_id]):
            violations.append(f"{aggregate_id}: projection differs from replay")
        if len(violations) >= LIMIT:
            return violations
    holds: dict[str, int] = defaultdict(int)
    for row in rows.values():
        if row.phase in saga.HOLD_PHASES:
            holds[row.source_account_id] += row.amount
    for account_id, pending in account_list_pending_debits():
        if pending != holds.get(account_id, 0):
            violations.append(f"account {account_id}: pending_debits {pending}, open transfers hold "
                              f"{holds.get(account_id, 0)}")
    return violations


def register_transfer_checks() -> None:
    """Called from TransfersConfig.ready()."""
    register_stuck_check("transfers.not_terminal", transfers_stuck)
    register_invariant("I1", "conservation: transfer postings + suspense = 0", conservation)
    register_invariant("I2", "all-or-nothing per terminal transfer", all_or_nothing)
    register_invariant("I3", "at most one posting per transfer leg (idempotency key)", one_posting_per_key)
    register_invariant("I5", "exactly one open leg row per open transfer, none when terminal", one_open_row)
    register_invariant("I8", "read models equal a full replay (transfers)", projection_equals_replay)
