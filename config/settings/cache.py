"""The Django cache: the request throttles' counters (and anything else cached) shared by every process.

DRF's throttles keep their counters in the default cache. A per-process cache (Django's LocMemCache default)
would give each gunicorn worker its own counters, so a client spread over N workers gets N times its rate.
CACHE_URL selects a server (production: `redis://host:6379/1`); without it the embedded default uses
Django's file-based cache under var/cache, which every process on the machine shares. Lockout counts do not
depend on this: django-axes keeps them in the database (config/settings/auth.py).
"""
from config.env import VAR_DIR, env

CACHE_URL = env.str("CACHE_URL", default="")

if CACHE_URL:
    CACHES = {"default": env.cache_url_config(CACHE_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("CACHE_FILE_DIR", default=str(VAR_DIR / "cache")),
            # A throttle key per client and route: far below this on one machine; past it the oldest third
            # of the entries is dropped on the next write.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

CACHE_IS_SHARED_ACROSS_HOSTS = bool(CACHE_URL)
