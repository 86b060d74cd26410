"""PostgreSQL triggers that make the event store (UPDATE, DELETE) and the attempt log (UPDATE) append-only.

SQLite (embedded default) gets no trigger: the models refuse changes there, and tests that prove the
database itself refuses them are marked `postgres`. TRUNCATE is deliberately not blocked: it is how test
databases are flushed and it needs table-owner rights, which the application role should not have.
"""
from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION outbox_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER outbox_event_append_only BEFORE UPDATE OR DELETE ON outbox_event
    FOR EACH ROW EXECUTE FUNCTION outbox_reject_change();
CREATE TRIGGER outbox_attempt_append_only BEFORE UPDATE ON outbox_attempt
    FOR EACH ROW EXECUTE FUNCTION outbox_reject_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS outbox_attempt_append_only ON outbox_attempt;
DROP TRIGGER IF EXISTS outbox_event_append_only ON outbox_event;
DROP FUNCTION IF EXISTS outbox_reject_change();
"""


def _run(sql: str):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
