"""Django settings shared by every environment. Integrations live in sibling modules imported at the end."""
from config.env import BASE_DIR, VAR_DIR, env, env_secret

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env_secret("SECRET_KEY", debug=DEBUG, dev_default="django-insecure-development-only-never-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "corsheaders",
    "axes",
    "drf_spectacular",
    "csp",
    "auth_app",
    "outbox",
    "accounts",
    "transfers",
    "balance",
    "corebanking_mock",
    # The project package itself: project-wide management commands (config/management/commands/).
    "config",
    # `manage.py resilience` (the resilience comparator; no models). Its fault switches are a separate app that
    # only the harness's own settings (resilience/settings.py) load.
    "resilience",
]

MIDDLEWARE = [
    # Outermost: times and counts every answer (early returns included) and scopes the request's log context
    # (config/observability/middleware.py). With tracing on, OpenTelemetry's middleware is put before it.
    "config.observability.middleware.HttpObservabilityMiddleware",
    # First, so every answer (errors and early returns included) carries CORS headers and preflights
    # are answered before any key or token check (api.md §1.6).
    "corsheaders.middleware.CorsMiddleware",
    # The original gateway's X-Api-Key check on /v1/ (auth_app/middleware.py).
    "auth_app.middleware.ApiKeyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (static files keep their cache headers): no-store on every dynamic answer, and 413
    # for an oversized body before CSRF or a view reads it (config/http_guards.py).
    "config.http_guards.NoStoreMiddleware",
    "config.http_guards.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy header (config/settings/web.py).
    "csp.middleware.CSPMiddleware",
    # Last: turns a django-axes lockout flag into the lockout answer (auth_app/lockout.py).
    "axes.middleware.AxesMiddleware",
]

# The web process serves config.urls; the core-banking mock process serves config.urls_core
# (see config/wsgi_core.py), so the mock's routes are never reachable on the banking host.
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# The original's clients call paths without a trailing slash; a redirect would break their POSTs.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # Filters and tags of the web UI (yen amounts, account numbers, the admin status panel).
            "libraries": {"bank": "config.templatetags.bank"},
        },
    },
]

AUTH_USER_MODEL = "auth_app.User"
# django-axes first: it refuses locked-out clients before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ja")
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="サンプル銀行 <no-reply@bank.example>")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# `json`: one JSON object per line, carrying the trace id and, where known, the transaction / application id and
# outbox key (config/observability/logs.py), so one transfer is one filter away. `plain`: human-readable lines.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.observability.logs.LogContextFilter"}},
    "formatters": {
        "plain": {"()": "config.observability.logs.PlainLogFormatter",
                  "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.observability.logs.JsonLogFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task received/succeeded, and per beat send (the sweep runs every second), is noise;
        # failures still log at WARNING/ERROR.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
        # The worker's "<name> ready." line at start-up stays visible whatever LOG_LEVEL says: supervisors, the
        # resilience harness and operators wait for it (Celery logs through this configuration, not its own).
        "celery.apps.worker": {"level": "INFO"},
        "httpx": {"level": "WARNING"},
        "bank.core_client": {"level": env.str("CORE_CLIENT_LOG_LEVEL", default="WARNING")},
    },
}

from config.settings.accounts import *  # noqa: E402,F401,F403
from config.settings.api import *  # noqa: E402,F401,F403
from config.settings.auth import *  # noqa: E402,F401,F403
from config.settings.balance import *  # noqa: E402,F401,F403
from config.settings.cache import *  # noqa: E402,F401,F403
from config.settings.celery import *  # noqa: E402,F401,F403
from config.settings.core_banking import *  # noqa: E402,F401,F403
from config.settings.database import *  # noqa: E402,F401,F403
from config.settings.observability import *  # noqa: E402,F401,F403
from config.settings.outbox import *  # noqa: E402,F401,F403
from config.settings.transfers import *  # noqa: E402,F401,F403
from config.settings.web import *  # noqa: E402,F401,F403
