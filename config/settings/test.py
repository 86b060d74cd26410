"""pytest settings: same code paths, test-only secrets, fast hashing, mail to files, file-based SQLite
test databases (so threads and subprocesses share them the way the run stack does)."""
import os
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdef0123456789abcdef")
os.environ.setdefault("CORE_BANKING_API_KEY", "test-core-key")
os.environ.setdefault("CORE_MOCK_CONTROL_KEY", "test-core-control-key")
os.environ.setdefault("CORE_MOCK_FAULTS_ENABLED", "true")

from config.settings.base import *  # noqa: E402,F401,F403
from config.settings.database import DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

_TEST_DB_DIR = os.environ.get("TEST_SQLITE_DIR") or tempfile.mkdtemp(prefix="bank-test-db-")
for _alias, _db in DATABASES.items():
    if _db["ENGINE"].endswith("sqlite3"):
        _db.setdefault("TEST", {})["NAME"] = os.path.join(_TEST_DB_DIR, f"test_{_alias}.sqlite3")
