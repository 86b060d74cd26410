"""`manage.py rebuild_projections [--name N ...]`: reset projections and replay every event through them."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from outbox.eventstore.services import projections_rebuild


class Command(BaseCommand):
    help = "Rebuild read models from the event store (reset, then replay all events in position order)."

    def add_arguments(self, parser):
        parser.add_argument("--name", action="append", dest="names", help="Projection name (repeatable).")

    def handle(self, *args, **options):
        try:
            counts = projections_rebuild(names=options["names"])
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} event(s) applied")
        self.stdout.write(f"rebuilt {len(counts)} projection(s)")
