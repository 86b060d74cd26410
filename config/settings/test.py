"""pytest settings: same code paths, test-only secrets, fast hashing, mail to files, file-based SQLite
test databases (so threads and subprocesses share them the way the run stack does)."""
import os
import tempfile

# Runtime files (filesystem broker, mail, beat schedule) of a test run go to a temporary directory.
os.environ.setdefault("BANK_VAR_DIR", tempfile.mkdtemp(prefix="bank-test-var-"))
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdef0123456789abcdef")
os.environ.setdefault("JWT_SIGNING_KEY", "test-only-jwt-signing-key-0123456789abcdef0123456789abcdef")
os.environ.setdefault("CORE_BANKING_API_KEY", "test-core-key")
os.environ.setdefault("CORE_MOCK_CONTROL_KEY", "test-core-control-key")
os.environ.setdefault("CORE_MOCK_FAULTS_ENABLED", "true")

from config.settings.base import *  # noqa: E402,F401,F403
from config.settings.database import DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# One process, so a local cache is shared by everything it runs (unless a test run sets CACHE_URL). The stacks
# the tests start (tests/fixtures/run_stack.py) use the run settings' shared cache.
if not CACHE_URL:  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STATIC_ROOT = None  # tests serve no collected static files
# The R18 circuit breaker is off in test settings: many tests script consecutive core failures and count the
# attempts they consume. tests/outbox/core_banking/test_breaker.py turns it on (production default: 5). A setting, not
# an environment default, so stacks the tests start with other settings (tests/test_run_stack.py) keep theirs.
OUTBOX_BREAKER_FAILURES = int(os.environ.get("OUTBOX_BREAKER_FAILURES", "0"))

_TEST_DB_DIR = os.environ.get("TEST_SQLITE_DIR") or os.environ["BANK_VAR_DIR"]
for _alias, _db in DATABASES.items():
    if _db["ENGINE"].endswith("sqlite3"):
        _db.setdefault("TEST", {})["NAME"] = os.path.join(_TEST_DB_DIR, f"test_{_alias}.sqlite3")

# Templates used only by tests (e.g. tests/templates/outbox_test/ for the mail handler tests).
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "tests" / "templates"]  # noqa: F405
