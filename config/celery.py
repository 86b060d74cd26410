"""The Celery app. Tasks are thin wrappers that call services; the beat schedule lives in settings."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("bank")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _prepare_filesystem_broker() -> None:
    """The filesystem transport needs its folders to exist; and it must not re-queue finished
    messages at shutdown (kombu restores unacked messages of the in-memory QoS, see docs/broker.md)."""
    from django.conf import settings

    if not getattr(settings, "BROKER_IS_FILESYSTEM", False):
        return
    from pathlib import Path

    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _on_after_configure(sender, **kwargs):  # pragma: no cover - exercised by the run stack
    _prepare_filesystem_broker()
