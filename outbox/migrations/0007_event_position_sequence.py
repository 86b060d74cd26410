"""Event positions without a global lock (PostgreSQL only; SQLite keeps its counter row).

Until now every append took the next positions from the single row of `outbox_event_position`, whose lock every
event-writing transaction in the bank queued on until commit. PostgreSQL now takes them from a sequence, and each
event row records the transaction that wrote it (`transaction_id`, xid8), so that a reader can follow the log in
commit order behind a snapshot barrier (outbox/sql.py, `events_after`). The column is not on the Django model: the
database fills it and only that raw reader uses it.
"""
from django.db import migrations

FORWARD = """
CREATE SEQUENCE IF NOT EXISTS outbox_event_position_seq AS bigint;
SELECT setval('outbox_event_position_seq', GREATEST(
    (SELECT COALESCE(MAX(position), 0) FROM outbox_event),
    (SELECT COALESCE(MAX(value), 0) FROM outbox_event_position)) + 1, false);
ALTER TABLE outbox_event ADD COLUMN transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_event_commit_order_idx ON outbox_event (transaction_id, position);
"""

BACKWARD = """
DROP INDEX IF EXISTS outbox_event_commit_order_idx;
ALTER TABLE outbox_event DROP COLUMN IF EXISTS transaction_id;
INSERT INTO outbox_event_position (id, value) SELECT 1, COALESCE(MAX(position), 0) FROM outbox_event
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
DROP SEQUENCE IF EXISTS outbox_event_position_seq;
"""


def _run(sql: str):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("outbox", "0006_admin_verbose_names")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
