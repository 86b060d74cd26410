"""Settings of every benchmark process: production settings plus the bench app and the peer (django-celery-outbox).

Secrets, databases and the broker come from the environment that bench/relay.py builds for each child process.
"""
from config.settings.production import *  # noqa: F401,F403
from config.settings.production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_celery_outbox", "bench.apps.BenchConfig"]

# The peer relays through the project's own Celery app (a plain Celery instance); its metrics go nowhere.
CELERY_OUTBOX_APP = "config.celery.app"
MONITORING_METRICS_ENABLED = False
