"""Account opening's contributions to the stuck list (§5.10) and the invariants (§5.11 I5, I7)."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from accounts import events as ev
from accounts.models import Application, ApplicationStatus
from outbox.invariants import StuckItem, register_invariant, register_stuck_check
from outbox.models import OutboxMessage, OutboxStatus

OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.PROCESSING, OutboxStatus.FAILED)


def applications_stuck() -> list[StuckItem]:
    """Applications CONFIRMED for longer than ACCOUNTS_STUCK_CONFIRMED_MINUTES without completing."""
    cutoff = timezone.now() - dt.timedelta(minutes=settings.ACCOUNTS_STUCK_CONFIRMED_MINUTES)
    rows = (Application.objects.filter(status=ApplicationStatus.CONFIRMED, confirmed_at__lt=cutoff)
            .order_by("confirmed_at")[:500])
    return [StuckItem(check="accounts.confirmed_not_completed", aggregate_id=row.application_id, severity="warning",
                      reason=f"CONFIRMED since {row.confirmed_at.isoformat()} without COMPLETED"
                             + (f" (provisioning failed: {row.provisioning_error[:200]})" if row.provisioning_error
                                else ""),
                      since=row.confirmed_at, detail={"transactionId": row.transaction_id})
            for row in rows]


def applications_open_rows() -> list[str]:
    """I5 (applications): CONFIRMED → exactly one open create_account row; COMPLETED/REJECTED → none."""
    open_rows = dict(OutboxMessage.objects.filter(kind=ev.KIND_CREATE_ACCOUNT, status__in=OPEN_STATUSES)
                     .values("aggregate_id").annotate(n=Count("id")).values_list("aggregate_id", "n"))
    violations = []
    for application_id, status in Application.objects.values_list("application_id", "status").iterator():
        count = open_rows.get(application_id, 0)
        if status == ApplicationStatus.CONFIRMED and count != 1:
            violations.append(f"{application_id} CONFIRMED with {count} open create_account rows")
        elif status in (ApplicationStatus.COMPLETED, ApplicationStatus.REJECTED) and count:
            violations.append(f"{application_id} {status} with {count} open create_account rows")
    return violations[:100]


def applications_one_of_each() -> list[str]:
    """I7: per application at most one create_account row and one login; no two applications share a core
    customer or account (the core's own ids are unique, so one customer/account per application follows)."""
    violations = [f"{aggregate_id}: {n} create_account rows" for aggregate_id, n in
                  OutboxMessage.objects.filter(kind=ev.KIND_CREATE_ACCOUNT).values("aggregate_id")
                  .annotate(n=Count("id")).filter(n__gt=1).values_list("aggregate_id", "n")[:100]]
    for column in ("customer_id", "account_id"):
        violations += [f"{value}: shared by {n} applications" for value, n in
                       Application.objects.exclude(**{column: ""}).values(column).annotate(n=Count("id"))
                       .filter(n__gt=1).values_list(column, "n")[:100]]
    completed = Application.objects.filter(status=ApplicationStatus.COMPLETED).values_list(
        "application_id", "customer_id", "login_id")
    logins = dict(get_user_model().objects.filter(customer_id__in=[row[1] for row in completed])
                  .values_list("customer_id", "username"))
    violations += [f"{application_id}: login {login_id} of {customer_id} missing"
                   for application_id, customer_id, login_id in completed if logins.get(customer_id) != login_id]
    return violations[:100]


def register_accounts_checks() -> None:
    """Called from AccountsConfig.ready()."""
    register_stuck_check("accounts.confirmed_not_completed", applications_stuck)
    register_invariant("I5.accounts", "each CONFIRMED application has exactly one open create_account row; "
                       "COMPLETED/REJECTED have none", applications_open_rows)
    register_invariant("I7", "per application at most one create_account row, core customer, core account, login",
                       applications_one_of_each)
