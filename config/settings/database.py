"""Databases: the banking database (`default`) and the core-banking mock's own (`core`).

Defaults are SQLite files under var/ (no server needed); DATABASE_URL / CORE_DATABASE_URL select
PostgreSQL. The router in config/routers.py keeps every model on its own alias.
"""
from config.env import VAR_DIR, env

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'bank.sqlite3'}"),
    "core": env.db_url("CORE_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'core.sqlite3'}"),
}
DATABASE_ROUTERS = ["config.routers.CoreBankingRouter"]

_CONN_MAX_AGE = env.int("DB_CONN_MAX_AGE", default=60)


def tune_database(alias: str, settings_dict: dict) -> None:
    """Apply per-vendor options: WAL + IMMEDIATE transactions on SQLite, persistent connections on PostgreSQL."""
    engine = settings_dict["ENGINE"]
    options = settings_dict.setdefault("OPTIONS", {})
    if engine.endswith("sqlite3"):
        # Several processes (web, core, worker, beat) write to the same files: WAL lets readers run
        # beside the writer, IMMEDIATE takes the write lock at BEGIN so the busy timeout applies
        # instead of an instant "database is locked" on lock upgrade.
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 30)
        options.setdefault("init_command", "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;")
    else:
        settings_dict["CONN_MAX_AGE"] = _CONN_MAX_AGE
        settings_dict["CONN_HEALTH_CHECKS"] = True
        options.setdefault("connect_timeout", 5)


for _alias, _settings in DATABASES.items():
    tune_database(_alias, _settings)

DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
