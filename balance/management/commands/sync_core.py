"""`manage.py sync_core`: import new core postings into the read model now."""
from django.core.management.base import BaseCommand

from balance.services import account_sync_from_core, accounts_sync_all


class Command(BaseCommand):
    help = "Import core-banking postings not seen yet into the balance read model."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="only this account id")

    def handle(self, *args, **options):
        results = ([account_sync_from_core(account_id=options["account"])] if options["account"]
                   else accounts_sync_all())
        for result in results:
            state = f"imported {result.imported}" if result.ok else f"FAILED: {result.error}"
            self.stdout.write(f"{result.account_id}: {state}")
        if any(not result.ok for result in results):
            raise SystemExit(1)
