"""The Celery app. Tasks are thin wrappers that call services; the beat schedule lives in settings."""
import os

from celery import Celery

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
