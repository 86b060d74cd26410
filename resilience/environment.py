"""A run's own world: fresh databases, a dedicated Redis db, free ports, random secrets and the environment every
child process gets. Shared by the resilience harness and the benchmarks (bench/ imports it from here).

Only the databases a caller names are created, flushed or dropped, and only the Redis db it names is flushed.
"""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = REPO_ROOT / ".venv" / "bin"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class WorldEnvironment:
    """Where a run's processes connect (its own two databases, Redis db and core-mock port), and the environment
    every child process gets."""

    bank_db: str
    core_db: str
    redis_db: int
    core_port: int
    batch_size: int
    settings_module: str
    var_dir: Path

    @property
    def bank_dsn(self) -> str:
        return f"{PG_SERVER}/{self.bank_db}"

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:6379/{self.redis_db}"

    def child_env(self, secret_values: dict[str, str]) -> dict[str, str]:
        """The process environment of the parent (after setup) and of every child."""
        keep = {name: value for name, value in os.environ.items() if name in INHERITED_ENV}
        return {
            **keep, **secret_values,
            "PATH": f"{VENV_BIN}:{keep.get('PATH', '/usr/bin:/bin')}",
            "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "DATABASE_URL": self.bank_dsn, "CORE_DATABASE_URL": f"{PG_SERVER}/{self.core_db}",
            "CELERY_BROKER_URL": self.broker_url,
            "CORE_BANKING_URL": f"http://127.0.0.1:{self.core_port}",
            "CORE_MOCK_FAULTS_ENABLED": "true",
            "OUTBOX_BATCH_SIZE": str(self.batch_size),
            "BANK_VAR_DIR": str(self.var_dir),
        }


# The only variables a run's processes take from the environment that started the run: the user's shell basics.
# Everything else (databases, broker, secrets, settings) is the run's own.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def random_secrets() -> dict[str, str]:
    """Fresh secrets for this run (production settings refuse to start without them)."""
    return {name: secrets.token_urlsafe(32)
            for name in ("SECRET_KEY", "JWT_SIGNING_KEY", "CORE_BANKING_API_KEY", "CORE_MOCK_CONTROL_KEY")}


def requirements_install(requirements: Path, *, modules: tuple[str, ...] = (),
                         executables: tuple[str, ...] = ()) -> None:
    """Install a tool's own requirements file into the venv when one of its `modules` cannot be found or one
    of its `executables` is missing from the venv's bin (never touches requirements.lock)."""
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    missing += [name for name in executables if not (VENV_BIN / name).exists()]
    if missing:
        subprocess.run([str(VENV_BIN / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(requirements)],
                       check=True)


def databases_recreate(names: tuple[str, ...]) -> None:
    """Drop and create the databases `names` (only those)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")


def django_prepare(env: dict[str, str]) -> None:
    """Point this process at the run's world, set Django up, migrate both databases and seed the core mock."""
    os.environ.clear()
    os.environ.update(env)
    Path(env["BANK_VAR_DIR"], "static").mkdir(parents=True, exist_ok=True)  # WhiteNoise warns without it
    sys.path.insert(0, str(REPO_ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="core", verbosity=0, interactive=False)
    call_command("seed_core", verbosity=0)


def redis_flush(broker_url: str) -> None:
    """Empty the run's own Redis db."""
    import redis

    redis.Redis.from_url(broker_url).flushdb()
