"""Authentication, API client keys, CORS, lockout, throttling, OpenAPI (api.md §1, §4, §8).

Every knob comes from the environment; docs/configuration.md lists them.
"""
from datetime import timedelta

from corsheaders.defaults import default_headers

from config.env import env, env_secret
from config.settings.api import REST_FRAMEWORK as _BASE_REST_FRAMEWORK

_DEBUG = env.bool("DEBUG", default=False)

# --- Customer JWT (djangorestframework-simplejwt, api.md §4.4) ---------------------------------------
# HS256 signing key, dedicated (rotating SECRET_KEY must not log everyone out, nor the reverse).
# Required when DEBUG is off: the original's fallback to a hard-coded secret is one of the flaws (§8).
JWT_SIGNING_KEY = env_secret("JWT_SIGNING_KEY", debug=_DEBUG,
                             dev_default="dev-jwt-signing-key-not-for-production-0123456789abcdef")
# Access-token (= login session) lifetime in minutes; the original's is 15.
JWT_ACCESS_TOKEN_MINUTES = env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_TOKEN_MINUTES),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # The original's claim names: `userId` carries User.public_id (USER001 / a UUID).
    "USER_ID_FIELD": "public_id",
    "USER_ID_CLAIM": "userId",
    "UPDATE_LAST_LOGIN": False,
    "LEEWAY": 0,
}

# --- API client keys (api.md §1.4) -----------------------------------------------------------------
# The three keys the original frontend sends as X-Api-Key (published in /config.json). Any of them is
# accepted on any /v1/ route; all empty = the check is skipped (local development). Client ids only,
# never a credential.
BANK_API_KEY_CUSTOMER = env.str("BANK_API_KEY_CUSTOMER", default="")
BANK_API_KEY_ADMIN = env.str("BANK_API_KEY_ADMIN", default="")
BANK_API_KEY_AUTH = env.str("BANK_API_KEY_AUTH", default="")
# The API base URL published as REACT_APP_BANKING_API in /config.json (with trailing slash).
# Empty: built from the request (scheme + host + /v1/).
PUBLIC_API_BASE_URL = env.str("PUBLIC_API_BASE_URL", default="")

# --- Client address --------------------------------------------------------------------------------
# Number of trusted reverse proxies that append to X-Forwarded-For (0: use REMOTE_ADDR only). Used by
# the lockout per IP, the login throttle and the session record (auth_app/client_address.py).
BANK_TRUSTED_PROXY_COUNT = env.int("BANK_TRUSTED_PROXY_COUNT", default=0)

# --- CORS (django-cors-headers, api.md §1.6, §9) ---------------------------------------------------
# Origins of the SPA allowed to call the API (comma-separated). No cookies are used by the SPA.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=["http://localhost:3000", "http://127.0.0.1:3000"])
# `*` for any origin, as the original gateway answered (safe here: credentials are never allowed).
CORS_ALLOW_ALL_ORIGINS = env.bool("CORS_ALLOW_ALL_ORIGINS", default=False)
CORS_ALLOW_CREDENTIALS = False
CORS_URLS_REGEX = r"^/(v1/.*|config\.json)$"
CORS_ALLOW_HEADERS = (*default_headers, "x-api-key", "idempotency-key")
CORS_EXPOSE_HEADERS = ("Retry-After",)
CORS_PREFLIGHT_MAX_AGE = 86400

# Days an expired API login session is kept as a login record before the hourly housekeeping deletes it.
LOGIN_SESSION_RETENTION_DAYS = env.int("LOGIN_SESSION_RETENTION_DAYS", default=30)

# --- Lockout (django-axes, flows.md R33) -----------------------------------------------------------
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Failed logins before the lock; the lock lasts AXES_COOLOFF_MINUTES after the last counted failure.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Deliberately two independent counters: per login id (any address: guessing one account from many
# addresses) and per client address (any login id: one client spraying many accounts). Either
# reaching the limit locks. Behind a proxy set BANK_TRUSTED_PROXY_COUNT, or every client shares one address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Attempts during a lock are not counted, so the lock ends 15 minutes after the 5th failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Reset is done by the login service for the successful login id only (auth_app.services): axes' own
# reset would also clear the client address's counter, letting an attacker reset it with their own login.
AXES_RESET_ON_SUCCESS = False
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "auth_app.client_address.client_ip_address"
AXES_LOCKOUT_CALLABLE = "auth_app.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "loginId", "temporaryPassword",
                             "currentPassword", "newPassword"]
AXES_VERBOSE = False

# --- Throttling (DRF) --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    **_BASE_REST_FRAMEWORK,
    "DEFAULT_SCHEMA_CLASS": "config.api.BankAutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        # Login attempts per client address (on top of the lockout), DRF rate syntax `N/second|minute|hour|day`.
        "login": env.str("THROTTLE_LOGIN_RATE", default="30/min") or None,
        # Write calls (POST/PUT/PATCH/DELETE) per user, or per address when anonymous.
        "write": env.str("THROTTLE_WRITE_RATE", default="120/min") or None,
        # Read calls (GET) per user on the balance, history and staff list routes. A dashboard makes two
        # calls per visit and the SPA re-verifies on every mount, so the default leaves ample room for people
        # and stops a script scraping history pages or polling a balance in a tight loop.
        "read": env.str("THROTTLE_READ_RATE", default="300/min") or None,
    },
}

# --- OpenAPI (drf-spectacular) -----------------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "サンプル銀行 banking API",
    "DESCRIPTION": "Wire-compatible re-implementation of the original banking API (routes under /v1/). "
                   "Every /v1/ route needs `X-Api-Key` when keys are configured; customer routes need a "
                   "Bearer JWT from POST /v1/api/auth/login.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
    },
    "ENUM_NAME_OVERRIDES": {},
}
