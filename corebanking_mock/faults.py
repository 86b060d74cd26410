"""Fault injection for tests and resilience experiments (flows.md §6.0). Inert unless CORE_MOCK_FAULTS_ENABLED.

Settings live in the core database, one `FaultSetting` row per group, so every gunicorn worker sees the
same switch; a request reads them once (one query) and turns them into a `FaultPlan`. Groups:

- `customers`: /api/customers*          - `accounts`: /api/accounts* (reads and creates)
- `transactions`: withdraw, deposit, GET /api/transaction/{id}
- `idempotency`: /api/idempotency/*      - `all`: every /api route (and `down` also fails /core/health)

A request is affected by `all` and by its own group: `down` if either is down, the larger latency and rates,
and the hang time of the more specific group. Which requests fail is drawn from a `random.Random` per
process and group, seeded with the configured `seed` and re-seeded whenever the settings change, so a
seeded run fails the same requests every time. Before any `all` row is written the `all` group uses the
CORE_MOCK_FAULT_* environment baseline (off by default).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from config.api import iso_time
from config.rows import model_columns, model_from_row
from corebanking_mock.errors import InjectedFault
from corebanking_mock.models import CORE_DB, FaultSetting

GROUP_ALL = "all"
ROUTE_GROUPS = ("customers", "accounts", "transactions", "idempotency")
FAULT_GROUPS = (GROUP_ALL, *ROUTE_GROUPS)
FAULT_MODES = ("up", "down", "slow", "flaky", "blackhole_after_apply")
DEFAULT_SLOW_LATENCY_MS = 2000
DEFAULT_FLAKY_ERROR_RATE = 0.5
DEFAULT_BLACKHOLE_RATE = 1.0


@dataclass(frozen=True)
class FaultKnobs:
    """The fault settings of one group (from a row, or the environment baseline)."""

    down: bool = False
    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    blackhole_after_apply: float = 0.0
    hang_seconds: float = 10.0
    seed: int | None = None
    expires_at: dt.datetime | None = None
    revision: str = ""
    source: str = "db"

    @classmethod
    def from_row(cls, row: FaultSetting) -> FaultKnobs:
        return cls(down=row.down, latency_ms=row.latency_ms, error_rate=row.error_rate, timeout_rate=row.timeout_rate,
                   blackhole_after_apply=row.blackhole_after_apply, hang_seconds=row.hang_seconds, seed=row.seed,
                   expires_at=row.expires_at, revision=row.revision, source="db")

    def active_at(self, now: dt.datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    @property
    def quiet(self) -> bool:
        return not (self.down or self.latency_ms or self.error_rate or self.timeout_rate or self.blackhole_after_apply)

    def to_wire(self, *, now: dt.datetime) -> dict[str, Any]:
        return {
            "down": self.down, "latency_ms": self.latency_ms, "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate, "blackhole_after_apply": self.blackhole_after_apply,
            "hang_seconds": self.hang_seconds, "seed": self.seed,
            "expires_at": iso_time(self.expires_at) if self.expires_at else None,
            "active": self.active_at(now) and not self.quiet, "source": self.source,
        }


@dataclass(frozen=True)
class FaultPlan:
    """What fault injection does to one request, decided once when the request starts."""

    down: bool = False
    latency_ms: int = 0
    timeout: bool = False
    error: bool = False
    blackhole: bool = False
    hang_seconds: float = 0.0


NO_FAULTS = FaultPlan()

_rng_lock = threading.Lock()
_rngs: dict[str, tuple[tuple[str, ...], random.Random]] = {}


def _fresh_knobs() -> FaultKnobs:
    return FaultKnobs(hang_seconds=float(settings.CORE_MOCK_FAULT_HANG_SECONDS))


def _env_knobs() -> FaultKnobs | None:
    """The CORE_MOCK_FAULT_* baseline of the `all` group, or None when it injects nothing."""
    knobs = FaultKnobs(
        down=settings.CORE_MOCK_FAULT_DOWN, latency_ms=settings.CORE_MOCK_FAULT_LATENCY_MS,
        error_rate=settings.CORE_MOCK_FAULT_ERROR_RATE, timeout_rate=settings.CORE_MOCK_FAULT_TIMEOUT_RATE,
        blackhole_after_apply=settings.CORE_MOCK_FAULT_BLACKHOLE_RATE,
        hang_seconds=float(settings.CORE_MOCK_FAULT_HANG_SECONDS), seed=settings.CORE_MOCK_FAULT_SEED,
        revision="env", source="env",
    )
    return None if knobs.quiet else knobs


@functools.cache
def _settings_sql() -> str:
    quote = connections[CORE_DB].ops.quote_name
    return (f"SELECT {', '.join(model_columns(FaultSetting, alias=CORE_DB))} FROM "
            f"{quote(FaultSetting._meta.db_table)} WHERE {quote('group')} IN (%s, %s)")


def _stored_settings(group: str) -> list[FaultSetting]:
    """The rows of `all` and `group`: one statement, written out once (it runs on every core request)."""
    with connections[CORE_DB].cursor() as cursor:
        cursor.execute(_settings_sql(), [GROUP_ALL, group])
        return [model_from_row(FaultSetting, alias=CORE_DB, values=row) for row in cursor.fetchall()]


def _active_layers(group: str, *, now: dt.datetime) -> list[FaultKnobs]:
    """The active settings that apply to `group`, least specific (`all`) first; one query."""
    rows = {row.group: FaultKnobs.from_row(row) for row in _stored_settings(group)}
    all_layer = rows.get(GROUP_ALL)
    if all_layer is None or not all_layer.active_at(now):
        all_layer = _env_knobs()
    layers = [all_layer]
    if group != GROUP_ALL:
        layers.append(rows.get(group))
    return [layer for layer in layers if layer is not None and layer.active_at(now) and not layer.quiet]


def _draw(group: str, layers: list[FaultKnobs]) -> tuple[float, float, float]:
    """Three draws (error, timeout, blackhole) from the group's generator, re-seeded when the settings changed."""
    signature = tuple(layer.revision for layer in layers)
    seed = next((layer.seed for layer in reversed(layers) if layer.seed is not None), None)
    with _rng_lock:
        current = _rngs.get(group)
        if current is None or current[0] != signature:
            current = (signature, random.Random(seed))
            _rngs[group] = current
        generator = current[1]
        return generator.random(), generator.random(), generator.random()


def fault_plan_for(*, group: str) -> FaultPlan:
    """Decide the injected faults of one request of `group` (one query; NO_FAULTS when injection is disabled)."""
    if not settings.CORE_MOCK_FAULTS_ENABLED:
        return NO_FAULTS
    layers = _active_layers(group, now=timezone.now())
    if not layers:
        return NO_FAULTS
    error_roll, timeout_roll, blackhole_roll = _draw(group, layers)
    return FaultPlan(
        down=any(layer.down for layer in layers),
        latency_ms=max(layer.latency_ms for layer in layers),
        timeout=timeout_roll < max(layer.timeout_rate for layer in layers),
        error=error_roll < max(layer.error_rate for layer in layers),
        blackhole=blackhole_roll < max(layer.blackhole_after_apply for layer in layers),
        hang_seconds=layers[-1].hang_seconds,
    )


def fault_core_is_down() -> bool:
    """True while the `all` group is down: what /core/health reports, so the bank's circuit breaker
    sees core as down (R18)."""
    return fault_plan_for(group=GROUP_ALL).down


def fault_raise_if_down(plan: FaultPlan) -> None:
    """503 for a group that is down (checked before authentication, like a stopped service)."""
    if plan.down:
        raise InjectedFault("Service unavailable", http_status=503, fault="down")


def fault_delay_or_fail(plan: FaultPlan) -> None:
    """Before the handler: add latency, then hang and answer 504 (timeout) or answer 500 (error); no effect applied."""
    if plan.latency_ms:
        time.sleep(plan.latency_ms / 1000)
    if plan.timeout:
        time.sleep(plan.hang_seconds)
        raise InjectedFault("Gateway timeout", http_status=504, fault="timeout")
    if plan.error:
        raise InjectedFault("Internal server error", http_status=500, fault="error")


def fault_hang_after_apply(plan: FaultPlan) -> bool:
    """After a committed effect: hang past the client's timeout when the plan says blackhole; True if it did."""
    if not plan.blackhole:
        return False
    time.sleep(plan.hang_seconds)
    return True


# --- control (POST /core/_faults) ------------------------------------------------------------------


def fault_settings_snapshot() -> dict[str, Any]:
    """Every group's stored setting (and the environment baseline of `all` while it has no row)."""
    now = timezone.now()
    groups = {row.group: FaultKnobs.from_row(row).to_wire(now=now) for row in FaultSetting.objects.all()}
    env_layer = _env_knobs()
    if GROUP_ALL not in groups and env_layer is not None:
        groups[GROUP_ALL] = env_layer.to_wire(now=now)
    return {"enabled": settings.CORE_MOCK_FAULTS_ENABLED, "groups": groups}


def fault_settings_update(*, group: str = GROUP_ALL, mode: str | None = None, duration_s: float | None = None,
                          **knobs: Any) -> dict[str, Any]:
    """Change one group's faults: `mode` is a preset, explicit knobs override; returns the group's new setting.

    `up` starts from "no faults"; other modes and bare knobs change only what they name. `duration_s` makes
    the whole setting expire (without it the setting stays until changed). Raises ValueError on bad names.
    """
    if group not in FAULT_GROUPS:
        raise ValueError(f"unknown fault group {group!r}")
    if mode is not None and mode not in FAULT_MODES:
        raise ValueError(f"unknown fault mode {mode!r}")
    settable = {field.name for field in dataclasses.fields(FaultKnobs)} - {"expires_at", "revision", "source"}
    unknown = set(knobs) - settable
    if unknown:
        raise ValueError(f"unknown fault knobs {sorted(unknown)}")
    now = timezone.now()
    with transaction.atomic(using=CORE_DB, durable=True):
        row = FaultSetting.objects.select_for_update().filter(pk=group).first()
        current = FaultKnobs.from_row(row) if row is not None and mode != "up" else _fresh_knobs()
        if not current.active_at(now):
            current = _fresh_knobs()
        preset: dict[str, Any] = {
            "down": {"down": True},
            "slow": {"latency_ms": knobs.get("latency_ms", DEFAULT_SLOW_LATENCY_MS)},
            "flaky": {"error_rate": knobs.get("error_rate", DEFAULT_FLAKY_ERROR_RATE)},
            "blackhole_after_apply": {"blackhole_after_apply": knobs.get("blackhole_after_apply",
                                                                         DEFAULT_BLACKHOLE_RATE)},
        }.get(mode or "", {})
        updated = dataclasses.replace(current, **preset, **{k: v for k, v in knobs.items() if k not in preset})
        expires_at = now + dt.timedelta(seconds=duration_s) if duration_s else None
        FaultSetting.objects.update_or_create(group=group, defaults={
            "down": updated.down, "latency_ms": updated.latency_ms, "error_rate": updated.error_rate,
            "timeout_rate": updated.timeout_rate, "blackhole_after_apply": updated.blackhole_after_apply,
            "hang_seconds": updated.hang_seconds, "seed": updated.seed, "expires_at": expires_at,
            "revision": uuid.uuid4().hex, "updated_at": now,
        })
    stored = FaultKnobs.from_row(FaultSetting.objects.get(pk=group))
    return {"group": group, **stored.to_wire(now=now)}


def fault_settings_reset() -> None:
    """Remove every stored fault setting (back to the environment baseline, which is off by default)."""
    with transaction.atomic(using=CORE_DB, durable=True):
        FaultSetting.objects.all().delete()
