"""Server-rendered web UI (templates + htmx): static files, security headers, session cookies, CSP.

docs/configuration.md "## Web UI" lists the variables read here.
"""
from csp.constants import NONE, SELF

from config.env import BASE_DIR, env

_DEBUG = env.bool("DEBUG", default=False)

# Our own stylesheet, script and the vendored, pinned htmx (static/vendor/htmx-2.0.4.min.js).
STATICFILES_DIRS = [BASE_DIR / "static"]

# Cookies: HttpOnly + SameSite=Lax (base.py); Secure whenever DEBUG is off (HTTPS in production).
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not _DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not _DEBUG)
# A customer's web session ends after this many minutes without a request (sliding expiry).
SESSION_COOKIE_AGE = env.int("WEB_SESSION_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
LOGIN_URL = "web-login"

# This site's public address (scheme, host and port, no path), for links sent outside a request: the
# completion mail's login link. The default follows the port the run stack serves on (WEB_PORT, the same
# variable the Procfile binds to); behind a proxy in production set it to the address customers use
# (`manage.py check --deploy` warns while it points at a loopback address).
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('WEB_PORT', default=8000)}").rstrip("/")

# Content-Security-Policy (django-csp 4): only our own origin's scripts, styles, images; no inline code,
# no framing (X_FRAME_OPTIONS = "DENY" in base.py says the same to older browsers). The Swagger page
# (DEBUG only) loads its assets from a CDN, so it is left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# How often the transfer status page polls while the transfer is in flight (htmx, milliseconds).
WEB_TRANSFER_POLL_MS = env.int("WEB_TRANSFER_POLL_MS", default=1500)
# Rows per page of the web transaction history.
WEB_HISTORY_PAGE_SIZE = env.int("WEB_HISTORY_PAGE_SIZE", default=20)
# Timeout (seconds) of the staff fault panel's calls to the core mock's control API.
WEB_CORE_CONTROL_TIMEOUT = env.float("WEB_CORE_CONTROL_TIMEOUT", default=5.0)
# The support desk the footer and the error pages name. The default is a demo address under the reserved
# `.example` domain (nobody answers it): replace it before anyone outside the team uses the site.
WEB_SUPPORT_EMAIL = env.str("WEB_SUPPORT_EMAIL", default="support@bank.example")
