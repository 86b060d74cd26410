"""One-statement insert of a row that may already exist, without a savepoint.

`Model.objects.create()` inside `transaction.atomic()` costs three round trips (SAVEPOINT, INSERT, RELEASE) when the
caller must survive a unique-key clash, and PostgreSQL aborts the whole transaction on a clash without the savepoint.
`INSERT … ON CONFLICT DO NOTHING RETURNING …` does the same in one statement on PostgreSQL and SQLite: a clash returns
no row and leaves the transaction usable. Only unique clashes are ignored; a CHECK, NOT NULL or foreign-key violation
still raises IntegrityError. (Not Django's `ignore_conflicts`: on SQLite that is `INSERT OR IGNORE`, which also
silently drops rows that break a CHECK constraint, and it cannot tell whether the row was written.)
"""
from __future__ import annotations

from typing import Any

from django.db import router
from django.db.models import Field, Model
from django.db.models.sql import InsertQuery


def _compiled(obj: Model, *, using: str) -> tuple[str, list[Any], list[Field], Any]:
    """The insert-unless-exists statement for `obj`: SQL, parameters, the fields it returns and its compiler."""
    model = type(obj)
    meta = model._meta
    fields = [field for field in meta.concrete_fields
              if not field.generated and not (field is meta.pk and obj.pk is None)]
    query = InsertQuery(model)
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=using)
    returning = list(meta.db_returning_fields)
    compiler.returning_fields = returning
    [(sql, params)] = compiler.as_sql()
    values_end = sql.rindex(" RETURNING ")
    return f"{sql[:values_end]} ON CONFLICT DO NOTHING{sql[values_end:]}", list(params), returning, compiler


def insert_unless_exists_sql(obj: Model, *, using: str) -> tuple[str, list[Any]]:
    """The statement `insert_unless_exists` runs for `obj` (SQL and parameters), for a caller that embeds it in a
    larger statement (a PostgreSQL `WITH … AS (INSERT …)`)."""
    sql, params, _, _ = _compiled(obj, using=using)
    return sql, params


def insert_unless_exists(obj: Model, *, using: str | None = None) -> bool:
    """Insert `obj` unless a row with one of its unique values exists. True (and `obj`'s primary key and
    database-default fields filled in) when it was inserted; False when a unique value clashed (nothing written)."""
    meta = type(obj)._meta
    using = using or router.db_for_write(type(obj), instance=obj)
    sql, params, returning, compiler = _compiled(obj, using=using)
    with compiler.connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    converters = compiler.get_converters([field.get_col(meta.db_table) for field in returning])
    values = list(row)
    for index, (converter_list, expression) in converters.items():
        for converter in converter_list:
            values[index] = converter(values[index], expression, compiler.connection)
    for field, value in zip(returning, values, strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return True
