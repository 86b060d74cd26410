"""`manage.py seed_core`: create the demo customers, accounts and postings of api.md §6.3 where missing."""
from django.core.management.base import BaseCommand

from corebanking_mock.services import core_seed


class Command(BaseCommand):
    help = "Seed the core-banking mock with the demo data (idempotent: existing rows and balances are kept)."

    def handle(self, *args, **options) -> None:
        report = core_seed()
        self.stdout.write(f"core seed: {report.customers_created} customers, {report.accounts_created} accounts, "
                          f"{report.postings_created} postings created")
