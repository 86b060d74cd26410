"""Settings of the processes of `bench/transfers.py --embedded`: bench/settings_transfers.py's (production settings,
the bench app, `GET /bench/ping`) without the peer app (django-celery-outbox), which only bench/relay.py uses, so
the embedded run needs nothing beyond requirements.lock. Databases, broker and cache are the project's defaults:
no server URL is set."""
from config.settings.production import *  # noqa: F401,F403
from config.settings.production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.apps.BenchConfig"]
ROOT_URLCONF = "bench.urls_transfers"
