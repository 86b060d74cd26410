"""Keep the core-banking mock on its own database alias, and everything else off it.

No other app's ORM can read or write the mock's tables: they live in another database, and
cross-database relations are refused. Other apps reach the mock only over HTTP (outbox/core_banking/client.py).
"""
CORE_APP_LABEL = "corebanking_mock"
CORE_DB_ALIAS = "core"


class CoreBankingRouter:
    """Route corebanking_mock models to `core`, every other model to `default`."""

    def db_for_read(self, model, **hints):
        return CORE_DB_ALIAS if model._meta.app_label == CORE_APP_LABEL else "default"

    def db_for_write(self, model, **hints):
        return self.db_for_read(model, **hints)

    def allow_relation(self, obj1, obj2, **hints):
        return (obj1._meta.app_label == CORE_APP_LABEL) == (obj2._meta.app_label == CORE_APP_LABEL)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == CORE_APP_LABEL:
            return db == CORE_DB_ALIAS
        return db == "default"
