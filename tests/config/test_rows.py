"""config/rows.py: instances from hand-written SELECTs equal what the ORM loads (typed values, saved state)."""
import datetime as dt

import pytest
from django.db import connections
from django.utils import timezone

from config.rows import model_columns, model_from_row
from corebanking_mock.models import CORE_DB, FaultSetting

pytestmark = pytest.mark.django_db(databases=["default", "core"])


def test_instance_equals_the_orm_row_when_loaded_from_its_columns():
    # given a row with a datetime, a boolean, a float and a NULL
    stored = FaultSetting.objects.create(group="accounts", down=True, latency_ms=25, error_rate=0.25, seed=None,
                                         expires_at=timezone.now() + dt.timedelta(seconds=30), revision="r1")
    table = connections[CORE_DB].ops.quote_name(FaultSetting._meta.db_table)
    # when
    with connections[CORE_DB].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(model_columns(FaultSetting, alias=CORE_DB))} FROM {table}")
        loaded = model_from_row(FaultSetting, alias=CORE_DB, values=cursor.fetchone())
    # then
    orm = FaultSetting.objects.get(pk="accounts")
    assert {f.attname: getattr(loaded, f.attname) for f in FaultSetting._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in FaultSetting._meta.concrete_fields}
    assert loaded.down is True and loaded.expires_at == stored.expires_at and loaded.expires_at.tzinfo is not None
    assert loaded._state.adding is False and loaded._state.db == CORE_DB
