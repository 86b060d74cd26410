"""E14 debuggability: inject failures of five kinds into transfers of their own, then find each one's money state
and cause from the staff transfer timeline (GET /v1/admin/transfer-events/{transactionId}) and the JSON log lines
of the bank's processes filtered by its transaction id, and nothing else.

`diagnose` is the rule, written down: it reads only those two sources. The harness knows what it injected and reads
the core's postings for the truth; a probe is determined when the diagnosis names both.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from resilience.change_actions import ChangeActions

KINDS = ("withdraw_refused", "deposit_refused", "ambiguous_answer", "worker_killed", "mail_error")
PROBES_PER_KIND_FULL, PROBES_PER_KIND_QUICK = 4, 1
MONEY_STATES = ("untouched", "moved", "refunded", "debited_only")
PROBE_AMOUNT = 1_234
# Log messages (JSON `message` field) that say a core call of the transaction got no usable answer.
NO_ANSWER_MARKERS = ("no answer", "ambiguous", "timeout")
MAIL_KIND = "notify_transfer_completed"


def _processed(events: list[dict[str, Any]], event_type: str) -> bool | None:
    """Whether the leg's last PROCESSED event succeeded (None: no such event)."""
    results = [bool((event.get("payload") or {}).get("success")) for event in events if event["type"] == event_type]
    return results[-1] if results else None


def _longest_leg_seconds(events: list[dict[str, Any]]) -> float:
    """The longest time from a leg's PROCESSING_STARTED to its PROCESSED event, in seconds (0 without timestamps)."""
    started: dict[str, dt.datetime] = {}
    longest = 0.0
    for event in events:
        if not event.get("timestamp"):
            continue
        at = dt.datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
        if event["type"] == "PROCESSING_STARTED":
            started[event.get("leg") or ""] = at
        elif event["type"].endswith("_PROCESSED") and (event.get("leg") or "") in started:
            longest = max(longest, (at - started.pop(event.get("leg") or "")).total_seconds())
    return longest


def diagnose(timeline: dict[str, Any], log_lines: list[dict[str, Any]], *, lease_s: float = 60.0) -> dict[str, str]:
    """Money state and cause of one transfer from its timeline and its log lines only, with the rule that decided.
    `lease_s` is the relay's lease (OUTBOX_LEASE_SECONDS): a leg recorded a lease or more after it started was
    reclaimed, because the worker that held it stopped answering."""
    events = timeline.get("events") or []
    withdrawn, deposited = _processed(events, "WITHDRAW_PROCESSED"), _processed(events, "DEPOSIT_PROCESSED")
    refunded = _processed(events, "COMPENSATION_PROCESSED")
    if not withdrawn:
        money = "untouched"
    elif deposited:
        money = "moved"
    elif refunded:
        money = "refunded"
    else:
        money = "debited_only"
    starts = Counter(event.get("leg") for event in events if event["type"] == "PROCESSING_STARTED")
    messages = [str(line.get("message", "")).lower() for line in log_lines]
    no_answer = any(marker in message for message in messages for marker in NO_ANSWER_MARKERS)
    mail_failed = any(line.get("outbox_kind") == MAIL_KIND and "raised" in str(line.get("message", ""))
                      for line in log_lines)
    if withdrawn is False:
        error = next((event["payload"].get("error") or {} for event in events
                      if event["type"] == "WITHDRAW_PROCESSED"), {})
        return {"money": money, "cause": "withdraw_refused",
                "rule": f"timeline: WITHDRAW_PROCESSED success=false ({error.get('code', '?')})"}
    if deposited is False:
        return {"money": money, "cause": "deposit_refused",
                "rule": "timeline: DEPOSIT_PROCESSED success=false, then COMPENSATION_PROCESSED"}
    if no_answer:
        return {"money": money, "cause": "ambiguous_answer",
                "rule": "log: a core call of this transaction got no answer; timeline: the leg was started again "
                        "and processed once"}
    if any(count > 1 for count in starts.values()) or _longest_leg_seconds(events) >= 0.9 * lease_s:
        return {"money": money, "cause": "worker_killed",
                "rule": "timeline: a leg recorded a lease or more after it started (or started twice), nothing "
                        "logged by the first attempt: its worker died and the row was reclaimed after the lease"}
    if mail_failed:
        return {"money": money, "cause": "mail_error",
                "rule": "log: the transfer-completed mail handler raised; timeline: the money legs completed"}
    return {"money": money, "cause": "none", "rule": "nothing abnormal in the timeline or the log"}


def money_truth(posting_types: list[str]) -> str:
    """The money state from the core's postings of the transfer (withdrawal, deposit, refund)."""
    kinds = set(posting_types)
    if "TRANSFER_WITHDRAWAL" not in kinds:
        return "untouched"
    if "TRANSFER_DEPOSIT" in kinds:
        return "moved"
    return "refunded" if "TRANSFER_REFUND" in kinds else "debited_only"


def log_lines_for(log_dir: Path, transaction_id: str) -> list[dict[str, Any]]:
    """The JSON log lines of every process of the run that carry `transaction_id` (one stream, in time order)."""
    lines = []
    for path in sorted(log_dir.glob("*.log")):
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if transaction_id not in raw or not raw.startswith("{"):
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line.get("transaction_id") == transaction_id:
                lines.append(line)
    return sorted(lines, key=lambda line: str(line.get("time", "")))


def e14_summary(probes: list[dict[str, Any]], *, expected: int) -> dict[str, Any]:
    """E14's figures from the probes (each with kind, truth money, diagnosis)."""
    determined = [probe for probe in probes if probe.get("diagnosis", {}).get("cause") == probe["kind"]
                  and probe.get("diagnosis", {}).get("money") == probe.get("money")]
    return {"expected": expected, "probes": len(probes), "determined": len(determined),
            "undetermined": len(probes) - len(determined), "missing": max(expected - len(probes), 0),
            "kinds": dict(Counter(probe["kind"] for probe in probes)),
            "rules": sorted({probe["diagnosis"]["rule"] for probe in probes if probe.get("diagnosis")})}


class DebugActions(ChangeActions):
    """The E14 injection (a step) and its reading after the drain."""

    def _probe_transfer(self, source_owner: str, source: str, target: str) -> str:
        response = httpx.post(f"{self.web_url}/v1/api/transfer", timeout=30,
                              headers={"Authorization": f"Bearer {self.tokens[source_owner]}",
                                       "Idempotency-Key": f"e14-{time.time_ns()}"},
                              json={"sourceAccountId": source, "targetAccountId": target, "amount": PROBE_AMOUNT,
                                    "description": "resilience E14 probe"})
        response.raise_for_status()
        return response.json()["transactionId"]

    def _wait(self, check, *, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(0.3)
        return False

    def debug_probes(self) -> None:
        """Inject each kind of failure into transfers of its own, in a random order of kinds."""
        per_kind = PROBES_PER_KIND_QUICK if self.quick else PROBES_PER_KIND_FULL
        owners = sorted(self.accounts)
        rng = random.Random(14)
        self._probes: list[dict[str, Any]] = []
        self._probes_expected = per_kind * len(KINDS)

        def pairs() -> list[tuple[str, str, str]]:
            chosen = []
            for _ in range(per_kind):
                owner, other = rng.sample(owners, 2)
                chosen.append((owner, rng.choice(self.accounts[owner]), rng.choice(self.accounts[other])))
            return chosen

        from transfers.models import Transfer

        for kind in rng.sample(KINDS, len(KINDS)):
            ids = self._inject(kind, pairs())
            self._probes += [{"kind": kind, "transaction_id": tx} for tx in ids]
            self._record("debug_probes", kind=kind, transfers=ids)
            # The next kind's fault is global (a route group, a flag): it starts only when this batch is settled,
            # so each probe meets the one failure it is labelled with (a killed worker's rows wait for the lease).
            self._wait(lambda ids=ids: Transfer.objects.filter(transaction_id__in=ids, terminal=True).count()
                       == len(ids), timeout_s=150)

    def _inject(self, kind: str, batch: list[tuple[str, str, str]]) -> list[str]:
        """One kind of failure into `batch` (owner, source, target) transfers; returns their transaction ids."""
        from corebanking_mock.models import Posting
        from outbox.eventstore.models import Event
        from outbox.models import OutboxAttempt
        from transfers.models import Transfer

        def attempted(keys: list[str], **match: str) -> bool:
            """Every row of `keys` has an attempt matching `match` (the injection reached each probe)."""
            return (OutboxAttempt.objects.filter(message__key__in=keys, **match).values("message").distinct().count()
                    == len(keys))

        if kind in ("withdraw_refused", "deposit_refused"):
            frozen = [source if kind == "withdraw_refused" else target for _, source, target in batch]
            self.accounts_freeze(0, accounts=frozen)
            ids = [self._probe_transfer(*pair) for pair in batch]
            self._wait(lambda: Transfer.objects.filter(transaction_id__in=ids, terminal=True).count() == len(ids),
                       timeout_s=45)
            for account_id in frozen:
                self._core_control(f"/accounts/{account_id}", {"status": "ACTIVE"})
        elif kind == "ambiguous_answer":
            # On until core has applied every probe's withdrawal: each of those answers was lost (every applied POST of
            # the group hangs past the client's timeout while the fault is on; the breaker may defer some calls).
            self.core_fault(mode="blackhole_after_apply", group="transactions", duration_s=90)
            ids = [self._probe_transfer(*pair) for pair in batch]
            self._wait(lambda: Posting.objects.filter(idempotency_key__in=[f"withdraw-{tx}" for tx in ids]).count()
                       == len(ids), timeout_s=80)
            self.core_fault(mode="up", group="transactions")
        elif kind == "worker_killed":
            self.core_fault(mode="slow", group="transactions", latency_ms=4000, duration_s=12)
            ids = [self._probe_transfer(*pair) for pair in batch]
            aggregates = [f"transfer-{tx}" for tx in ids]
            self._wait(lambda: Event.objects.filter(aggregate_id__in=aggregates, type="PROCESSING_STARTED")
                       .values("aggregate_id").distinct().count() == len(ids), timeout_s=15)
            self._core_worker_kill_once()
        else:
            # On until every probe's mail attempt raised (a claim alone does not prove the handler saw the flag).
            self.mail_bug(on=True)
            ids = [self._probe_transfer(*pair) for pair in batch]
            self._wait(lambda: attempted([f"{MAIL_KIND}-{tx}" for tx in ids], error__icontains="InjectedBug"),
                       timeout_s=60)
            self.mail_bug(on=False)
        return ids

    def _core_worker_kill_once(self) -> None:
        """kill -9 the core worker's process group and start a new one (its rows come back after their lease)."""

        role = "shared" if "shared" in self.workers else "core"
        worker = self.workers[role]
        self.procs.kill(worker)
        self._record("kill_core_worker", pid=worker.pid)
        self.worker_start(role)

    def debug_finish(self) -> None:
        """After the drain: diagnose every probe from its timeline and log lines; compare with the core's postings."""
        if not getattr(self, "_probes", None):
            return
        from config.settings.outbox import OUTBOX_LEASE_SECONDS
        from corebanking_mock.models import Posting

        log_dir = self.procs.log_dir
        lease_s = float(self.env.get("OUTBOX_LEASE_SECONDS") or OUTBOX_LEASE_SECONDS)
        for probe in self._probes:
            tx = probe["transaction_id"]
            response = httpx.get(f"{self.web_url}/v1/admin/transfer-events/{tx}", timeout=30,
                                 headers={"Authorization": f"Bearer {self.staff_token}"})
            timeline = response.json() if response.status_code == 200 else {}
            probe["diagnosis"] = diagnose(timeline, log_lines_for(log_dir, tx), lease_s=lease_s)
            probe["money"] = money_truth(list(Posting.objects.filter(transfer_id=tx).values_list("type", flat=True)))
        self.extra["e14"] = {**e14_summary(self._probes, expected=self._probes_expected), "detail": self._probes}
        self._probes = []
