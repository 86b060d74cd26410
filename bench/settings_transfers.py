"""Settings of the processes of bench/transfers.py: bench/settings.py (production settings + the bench app) with a
URL conf that adds one bench-only route, `GET /bench/ping` (a plain Django JSON view: the framework's ceiling)."""
from bench.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls_transfers"
