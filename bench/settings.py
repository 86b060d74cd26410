"""Settings of every benchmark process: production settings plus the bench app and the peer (django-celery-outbox).

Secrets, databases and the broker come from the environment that bench/relay.py builds for each child process.
"""
from config.env import env
from config.settings.production import *  # noqa: F401,F403
from config.settings.production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_celery_outbox", "bench.apps.BenchConfig"]

# The peer relays through the project's own Celery app (a plain Celery instance); its metrics go nowhere.
CELERY_OUTBOX_APP = "config.celery.app"
MONITORING_METRICS_ENABLED = False

# What-if rows only (bench/relay.py sets it for the worker of a row it labels "what-if"), never the measured
# configuration of the targets: Celery's Django fixup closes every DB connection before and after each task
# unless DB_REUSE_MAX is set, so each drain task opens a new PostgreSQL session; this keeps the connection.
if env.bool("BENCH_WHATIF_CELERY_DB_REUSE", default=False):
    CELERY_DB_REUSE_MAX = 1_000_000
