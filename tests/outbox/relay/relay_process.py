"""A real relay process for the crash test: `python -m tests.outbox.relay.relay_process KIND QUEUE LEASE SLEEP`.

Registers an EffectHandler that sleeps after applying each effect (so a SIGKILL lands between the effect and
the settle), prints "ready" and drains until nothing is left. DATABASE_URL must point at the test database.
"""
from __future__ import annotations

import os
import sys


def main() -> None:
    kind, queue, lease_seconds, sleep_after_effect = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from outbox import registry, relay
    from tests.fixtures.outbox import EffectHandler

    registry.register_handler(kind, EffectHandler(queue=queue, sleep_after_effect=sleep_after_effect))
    print("ready", flush=True)
    relay.drain(queue=queue, batch_size=10, lease_seconds=lease_seconds, max_batches=None)
    print("drained", flush=True)


if __name__ == "__main__":
    main()
