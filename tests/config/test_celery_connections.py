"""Workers keep their DB connection across tasks (CELERY_DB_REUSE_MAX), but a broken one is dropped before
the next task (config/celery.py), as Django does before each request."""
import psycopg
import pytest
from celery.signals import task_prerun
from django.db import InterfaceError, OperationalError, connection

pytestmark = pytest.mark.django_db(transaction=True)


def _task_starts() -> None:
    task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})


def test_workers_reuse_connections_across_tasks(settings):
    from config.celery import app

    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX > 0


@pytest.mark.postgres
def test_a_healthy_connection_survives_task_start():
    connection.ensure_connection()
    raw = connection.connection
    _task_starts()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert connection.connection is raw, "kept (CONN_MAX_AGE > 0 on PostgreSQL)"


@pytest.mark.postgres
def test_a_connection_killed_by_a_database_restart_is_replaced_at_the_next_task():
    # given the worker's connection, killed on the server (as a PostgreSQL restart or failover does)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    # and the task that noticed it failed
    with pytest.raises((OperationalError, InterfaceError)):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    # when the next task starts
    _task_starts()
    # then it works on a fresh connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()
    assert new_pid != pid
