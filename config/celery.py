"""The Celery app. Tasks are thin wrappers that call services; the beat schedule lives in settings."""
import os

from celery import Celery
from celery.signals import task_prerun

from config.observability.celery_hooks import celery_hooks_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

OUTBOX_DRAIN_TASK = "outbox.relay_drain"


def route_task(name, args, kwargs, options, task=None, **kw):
    """Route the outbox drain to the Celery queue named like its outbox queue (`core` / `notify`, R17
    bulkheads); every other task goes to the default queue unless the caller chose one."""
    if name == OUTBOX_DRAIN_TASK:
        queue = (args[0] if args else None) or (kwargs or {}).get("queue")
        if queue:
            return {"queue": queue}
    return None


app = Celery("bank")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# JSON logs, metric files of pool children, span flush (config/observability/celery_hooks.py).
celery_hooks_connect()


@task_prerun.connect
def _database_connections_like_a_request(**_kwargs) -> None:
    """Before each task, drop a database connection that is broken or older than CONN_MAX_AGE (with
    CONN_HEALTH_CHECKS it is pinged on reuse): with CELERY_DB_REUSE_MAX Celery itself never checks."""
    from django.db import close_old_connections

    close_old_connections()
