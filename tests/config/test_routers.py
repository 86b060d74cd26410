"""The database router keeps the core-banking mock on its own alias and every other app off it."""
from django.apps import apps

from config.routers import CoreBankingRouter


def test_core_models_route_to_core_alias_and_bank_models_to_default():
    # given the router and one model of each side
    router = CoreBankingRouter()
    user_model = apps.get_model("auth_app", "User")
    core_models = list(apps.get_app_config("corebanking_mock").get_models())
    # then every core model reads and writes on `core`, bank models on `default`
    assert core_models, "the core-banking mock declares models"
    for model in core_models:
        assert router.db_for_read(model) == "core"
        assert router.db_for_write(model) == "core"
    assert router.db_for_read(user_model) == "default"


def test_migrations_are_confined_to_their_alias():
    router = CoreBankingRouter()
    assert router.allow_migrate("core", "corebanking_mock") is True
    assert router.allow_migrate("default", "corebanking_mock") is False
    for label in ("accounts", "transfers", "balance", "auth_app", "outbox", "auth", "admin"):
        assert router.allow_migrate("core", label) is False
        assert router.allow_migrate("default", label) is True


def test_relations_across_the_two_databases_are_refused():
    router = CoreBankingRouter()
    user_model = apps.get_model("auth_app", "User")
    core_model = next(iter(apps.get_app_config("corebanking_mock").get_models()))
    assert router.allow_relation(user_model(), core_model()) is False
    assert router.allow_relation(user_model(), user_model()) is True
