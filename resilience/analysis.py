"""Metrics of one load experiment: the pure aggregation of resilience/metrics.py over the request log and
the samples, plus database facts read after the drain (transfers, core postings, mails, duplicates).

`experiment_metrics` runs in the harness process (Django set up on the harness databases). The names it
produces are the dotted paths the criteria in resilience/experiments.py use.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from resilience import metrics as m
from resilience.criteria import Timing

TRANSFER_ENDPOINTS = ("transfer", "transfer_dup")


def endpoint_metrics(records: list[dict[str, Any]], *, t0: float, timing: Timing) -> dict[str, Any]:
    """Per endpoint: baseline / fault / after / all windows and the fault-vs-baseline latency ratios."""
    windows = {
        "baseline": (0.0, timing.fault_start_s),
        "fault": (timing.fault_start_s, timing.fault_end_s),
        "after": (timing.fault_end_s, timing.duration_s),
        "all": (0.0, timing.duration_s + 60),
    }
    by_window = {name: m.window_stats(records, t0=t0, start_s=start, end_s=end)
                 for name, (start, end) in windows.items()}
    endpoints: dict[str, Any] = {}
    for endpoint in sorted({record["e"] for record in records}):
        entry = {name: stats.get(endpoint) for name, stats in by_window.items()}
        baseline_p95 = (entry["baseline"] or {}).get("p95")
        fault_p95 = (entry["fault"] or {}).get("p95")
        entry["p95_ratio_fault_vs_baseline"] = m.ratio(fault_p95, baseline_p95)
        ratio = entry["p95_ratio_fault_vs_baseline"]
        entry["p95_degradation_pct"] = round((ratio - 1) * 100, 1) if ratio is not None else None
        endpoints[endpoint] = entry
    return endpoints


def transfer_rows(*, since: dt.datetime) -> list[dict[str, Any]]:
    """Transfers received since `since`: id, phase, terminal, received and last-event times."""
    from transfers.models import Transfer

    return list(Transfer.objects.filter(created_at__gte=since).values(
        "transaction_id", "aggregate_id", "phase", "terminal", "created_at", "updated_at", "source_account_id",
        "target_account_id", "amount"))


def transfer_metrics(rows: list[dict[str, Any]], *, start: dt.datetime, timing: Timing) -> dict[str, Any]:
    """Counts by phase, lost, delayed by the fault (with their end-to-end latency), completion rates and
    end-to-end p95 per window (pure: takes the rows of `transfer_rows`)."""
    def offset(moment: dt.datetime) -> float:
        return (moment - start).total_seconds()

    phases = Counter(row["phase"] for row in rows)
    completed = [row for row in rows if row["phase"] == "COMPLETED"]
    e2e = {row["transaction_id"]: offset(row["updated_at"]) - offset(row["created_at"]) for row in completed}
    recovery = timing.fault_end_s
    delayed = [row for row in rows if offset(row["created_at"]) < recovery
               and (not row["terminal"] or offset(row["updated_at"]) >= timing.fault_start_s)
               and offset(row["updated_at"]) >= recovery - 0.001 and timing.fault_end_s > timing.fault_start_s]
    delayed_latency = [offset(row["updated_at"]) - offset(row["created_at"]) for row in delayed if row["terminal"]]

    def completions_per_s(start_s: float, end_s: float) -> float | None:
        if end_s <= start_s:
            return None
        return sum(1 for row in completed if start_s <= offset(row["updated_at"]) < end_s) / (end_s - start_s)

    def e2e_p95(start_s: float, end_s: float) -> float | None:
        return m.percentile([e2e[row["transaction_id"]] for row in completed
                             if start_s <= offset(row["created_at"]) < end_s], 95)

    baseline_rate = completions_per_s(min(5.0, timing.fault_start_s), timing.fault_start_s)
    fault_rate = completions_per_s(timing.fault_start_s, timing.fault_end_s)
    baseline_p95 = e2e_p95(0, timing.fault_start_s)
    fault_p95 = e2e_p95(timing.fault_start_s, timing.fault_end_s)
    e2e_values = list(e2e.values())
    compensated = [offset(row["updated_at"]) - offset(row["created_at"]) for row in rows
                   if row["phase"] == "COMPENSATED"]
    return {
        "received": len(rows), "by_phase": dict(phases), "completed": len(completed),
        "lost": sum(1 for row in rows if not row["terminal"]),
        "failed_or_compensated": phases.get("FAILED", 0) + phases.get("COMPENSATED", 0),
        "delayed": len(delayed),
        "delayed_e2e_s": {"p50": m.percentile(delayed_latency, 50), "p95": m.percentile(delayed_latency, 95),
                          "max": max(delayed_latency, default=None)},
        "e2e_s": {"p50": m.percentile(e2e_values, 50), "p95": m.percentile(e2e_values, 95),
                  "max": max(e2e_values, default=None)},
        "compensated_e2e_s": {"p50": m.percentile(compensated, 50), "p95": m.percentile(compensated, 95),
                              "max": max(compensated, default=None)},
        "e2e_p95_baseline_s": baseline_p95, "e2e_p95_fault_s": fault_p95,
        "e2e_p95_ratio_fault_vs_baseline": m.ratio(fault_p95, baseline_p95),
        "completed_per_s_baseline": baseline_rate, "completed_per_s_fault": fault_rate,
        "completed_rate_ratio_fault_vs_baseline": m.ratio(fault_rate, baseline_rate),
    }


def doubled_postings(*, transaction_ids: list[str]) -> int:
    """Transfers with more than one core posting of the same type (I3: each leg applied at most once)."""
    from django.db.models import Count

    from corebanking_mock.models import Posting

    doubled = 0
    for chunk_start in range(0, len(transaction_ids), 1000):
        chunk = transaction_ids[chunk_start:chunk_start + 1000]
        doubled += (Posting.objects.using("core").filter(transfer_id__in=chunk).values("transfer_id", "type")
                    .annotate(n=Count("transaction_id")).filter(n__gt=1).count())
    return doubled


def core_balance_total(account_ids: list[str]) -> int:
    from django.db.models import Sum

    from corebanking_mock.models import Account

    return int(Account.objects.using("core").filter(account_id__in=account_ids)
               .aggregate(total=Sum("balance"))["total"] or 0)


def mail_metrics(*, completed_aggregates: list[str]) -> dict[str, Any]:
    from outbox.models import OutboxMessage, OutboxStatus, SentMail
    from transfers import events as ev

    sent = Counter(SentMail.objects.filter(kind=ev.KIND_MAIL_COMPLETED, aggregate_id__in=completed_aggregates)
                   .values_list("aggregate_id", flat=True))
    return {"completed_mails": sum(sent.values()),
            "completed_without_exactly_one": sum(1 for aggregate in completed_aggregates if sent[aggregate] != 1),
            "dead_left_after_replay": OutboxMessage.objects.filter(
                kind=ev.KIND_MAIL_COMPLETED, status=OutboxStatus.FAILED,
                aggregate_id__in=completed_aggregates).count()}


def duplicate_metrics(records: list[dict[str, Any]], *, since: dt.datetime) -> dict[str, Any]:
    """E18: pairs of transfer POSTs with the same key, pairs of concurrent confirms, rows they created."""
    from django.db.models import Count

    from accounts.models import Application
    from corebanking_mock.models import Customer
    from outbox.models import OutboxMessage
    from transfers.models import Transfer

    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record["e"] in TRANSFER_ENDPOINTS and record.get("k"):
            by_key[record["k"]].append(record)
    pairs = [items for items in by_key.values() if len(items) >= 2]
    different = sum(1 for items in pairs
                    if len({item.get("tx") for item in items if m.is_ok(item["s"]) and item.get("tx")}) > 1)
    accepted_keys = sum(1 for items in by_key.values() if any(item["s"] == 202 for item in items))
    # Transfers of this experiment: those whose accepting request stored its answer under one of this
    # experiment's keys, plus any created without a stored keyed answer at all (only a bypass of the key could do
    # that). A straggler of the previous experiment's load, committed after `since`, belongs to neither.
    from outbox.models import IdempotentRequest

    stored = {(body or {}).get("transactionId"): key for key, body in IdempotentRequest.objects.filter(
        scope="transfer", status_code=202).values_list("key", "response_body")}
    created = sum(1 for transaction_id in Transfer.objects.filter(created_at__gte=since).exclude(phase="REJECTED")
                  .values_list("transaction_id", flat=True)
                  if transaction_id not in stored or stored[transaction_id] in by_key)
    confirms: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record["e"] in ("confirm", "confirm_dup") and record.get("tx"):
            confirms[record["tx"]].append(record)
    confirm_pairs = [items for items in confirms.values() if len(items) >= 2]
    create_rows = (OutboxMessage.objects.filter(kind="create_account", created_at__gte=since)
                   .values("aggregate_id").annotate(n=Count("id")).filter(n__gt=1).count())
    completed_apps = Application.objects.filter(created_at__gte=since, status="COMPLETED").count()
    new_customers = Customer.objects.using("core").filter(created_at__gte=since, seeded=False).count()
    return {
        "transfer_pairs": len(pairs), "transfer_pairs_different_answer": different,
        "transfer_keys_accepted": accepted_keys, "transfers_created": created,
        "transfer_keys_with_two_transfers": max(0, created - accepted_keys),
        "confirm_pairs": len(confirm_pairs),
        "confirm_pairs_both_2xx": sum(1 for items in confirm_pairs if all(m.is_ok(item["s"]) for item in items)),
        "confirm_pair_statuses": dict(Counter("+".join(sorted(str(item["s"]) for item in items))
                                              for items in confirm_pairs)),
        "applications_with_extra_create_rows": create_rows,
        "completed_applications": completed_apps, "new_core_customers": new_customers,
        "extra_core_customers": max(0, new_customers - completed_apps),
    }


def experiment_metrics(*, records: list[dict[str, Any]], samples: list[dict[str, Any]], t0: float,
                       start: dt.datetime, timing: Timing, w0_accounts: list[str], balance_before: int,
                       duplicates: bool, extra: dict[str, Any]) -> dict[str, Any]:
    """Everything the criteria and the report need for one load run."""
    rows = transfer_rows(since=start)
    transfers = transfer_metrics(rows, start=start, timing=timing)
    transfers["doubled"] = doubled_postings(transaction_ids=[row["transaction_id"] for row in rows])
    completed_aggregates = [row["aggregate_id"] for row in rows if row["phase"] == "COMPLETED"]
    mails = mail_metrics(completed_aggregates=completed_aggregates)
    mails.update({key: value for key, value in extra.get("mails", {}).items()})
    baseline_level = m.backlog_baseline(samples, before_s=timing.fault_start_s) if timing.fault_start_s > 0 else 1.0
    outbox = {
        "baseline_open": baseline_level,
        "max_open": max((sample["outbox"]["open"] for sample in samples), default=0),
        "max_oldest_pending_age_s": max((sample["outbox"]["oldest_pending_age_s"] for sample in samples), default=0),
        "drain_s": m.drain_seconds(samples, after_s=timing.fault_end_s, level=baseline_level),
        "dead_at_end": samples[-1]["outbox"]["dead"] if samples else None,
    }
    metrics: dict[str, Any] = {
        "endpoints": endpoint_metrics(records, t0=t0, timing=timing),
        "transfers": transfers,
        "money": {"balance_before": balance_before, "balance_after": core_balance_total(w0_accounts),
                  "conservation_delta": core_balance_total(w0_accounts) - balance_before},
        "mails": mails, "outbox": outbox, "requests": len(records),
        **{key: value for key, value in extra.items() if key != "mails"},
    }
    if duplicates:
        metrics["duplicates"] = duplicate_metrics(records, since=start)
    return metrics
