"""Seed the demo data of `make run` (idempotent): core-banking customers/accounts/postings, then the bank's logins."""
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from auth_app.demo import DEMO_CUSTOMERS
from auth_app.services import user_seed_demo
from balance.services import account_balance_open
from config.env import env


class Command(BaseCommand):
    help = "Seed demo data idempotently (DEBUG only): core-banking seed data and demo logins."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates demo logins with published passwords; it runs only with DEBUG on.")
        # The core mock owns its data; it is seeded through its own command (by name: no import of the mock).
        call_command("seed_core", verbosity=options["verbosity"])
        for demo in DEMO_CUSTOMERS:
            # The read-model rows; their postings arrive from core with the first sync (worker start, then beat).
            account_balance_open(account_id=demo.primary_account_id, customer_id=demo.customer_id)
        created = user_seed_demo(staff_secret=env.str("DEMO_STAFF_PASSWORD", default="staff-demo-pass"))
        self.stdout.write(f"demo logins created: {', '.join(created) if created else 'none (already seeded)'}")
