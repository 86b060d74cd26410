"""Settings of every process of a resilience run: the production settings plus the harness app (E3's switchable
bug). Secrets, databases, broker and fault switch come from the environment the harness builds for each run."""
from config.settings.production import *  # noqa: F401,F403
from config.settings.production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.resilience.apps.ResilienceConfig"]
