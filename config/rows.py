"""Model instances from hand-written SELECTs, for hot read paths whose ORM query compilation (every request)
would cost more than the query itself.

`model_columns` lists a model's concrete columns in field order (quoted, optionally qualified by a table
alias); `model_from_row` turns those values back into an instance exactly as the ORM would: the backend's and
the field's converters run (SQLite hands back text datetimes and integer booleans), and the instance is marked
as loaded from the database, so saving it updates its row.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)


def model_columns(model: type[Model], *, alias: str, table_alias: str = "") -> list[str]:
    """The quoted concrete columns of `model`, in field order (`table_alias.` before each when given)."""
    quote = connections[alias].ops.quote_name
    prefix = f"{table_alias}." if table_alias else ""
    return [f"{prefix}{quote(field.column)}" for field in model._meta.concrete_fields]


def model_from_row(model: type[ModelT], *, alias: str, values: Sequence[Any]) -> ModelT:
    """An instance of `model` from the values of `model_columns`, converted as the ORM converts them."""
    connection = connections[alias]
    converted = []
    for field, value in zip(model._meta.concrete_fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(alias, None, converted)
