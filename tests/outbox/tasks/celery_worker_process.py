"""A real Celery worker for the Redis delivery test: `python -m tests.outbox.tasks.celery_worker_process`.

Registers the test EffectHandler, then runs `celery worker` (solo pool) on the default, core and notify
queues. DATABASE_URL must point at the test database and CELERY_BROKER_URL at Redis.
"""
from __future__ import annotations

import os


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from config.celery import app
    from outbox import registry
    from tests.fixtures.outbox import EffectHandler

    registry.register_handler("test_effect", EffectHandler(queue="core"))
    app.worker_main(["worker", "--queues", "default,core,notify", "--pool", "solo", "--concurrency", "1",
                     "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "WARNING",
                     "--hostname", f"outbox-test-{os.getpid()}@%h"])


if __name__ == "__main__":
    main()
