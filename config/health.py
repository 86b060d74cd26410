"""GET /healthz for both processes: database and broker reachability, 200 when all are up, else 503."""
from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.http import require_GET


def check_database(alias: str) -> str:
    """'ok' if `SELECT 1` succeeds on the alias, else a short error class name (no DSN, no message)."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return f"down ({type(exc).__name__})"


def check_broker() -> str:
    """'ok' if the Celery broker accepts a connection (filesystem: its folders are writable)."""
    if settings.BROKER_IS_FILESYSTEM:
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return "ok" if folder.is_dir() and _writable(folder) else "down (folder missing)"
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2,
                        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"down ({type(exc).__name__})"


def _writable(folder: Path) -> bool:
    probe = folder / f".healthz-{time.monotonic_ns()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _respond(service: str, checks: dict[str, str]) -> JsonResponse:
    healthy = all(value in ("ok", "not used") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "service": service, **checks},
                        status=200 if healthy else 503)


@require_GET
def web_healthz(request):
    """Health of the banking web process: its database and the Celery broker it publishes to."""
    return _respond("web", {"database": check_database("default"), "broker": check_broker()})


@require_GET
def core_healthz(request):
    """Health of the core-banking mock process: its own database (it uses no broker)."""
    return _respond("corebanking_mock", {"database": check_database("core"), "broker": "not used"})
