"""`manage.py outbox_status [--json]`: pending count and age, in-flight, dead letters, last-minute throughput."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from outbox.selectors import outbox_stats


class Command(BaseCommand):
    help = "Print the outbox relay's health: pending, oldest pending age, in flight, dead, throughput (1 min)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, **options):
        stats = outbox_stats()
        if options["json"]:
            self.stdout.write(json.dumps(stats.as_dict(), sort_keys=True))
            return
        lines = [
            f"pending:                {stats.pending} (due now: {stats.due})",
            f"oldest pending age:     {stats.oldest_pending_age_seconds:.1f} s",
            f"oldest due lag:         {stats.oldest_due_lag_seconds:.1f} s",
            f"in flight:              {stats.in_flight} (expired leases: {stats.expired_leases})",
            f"dead (failed):          {stats.dead} (needing attention: {stats.needs_attention})",
            f"completed last minute:  {stats.completed_last_minute}",
        ]
        self.stdout.write("\n".join(lines))
