"""`manage.py reconcile`: compare read-model balances with core; exit 1 on drift or when core is unreachable."""
from django.core.management.base import BaseCommand

from balance.services import account_reconcile, accounts_reconcile_all


class Command(BaseCommand):
    help = "Compare every ledger balance with core banking and report drift (never rewrites history)."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="only this account id")

    def handle(self, *args, **options):
        runs = [account_reconcile(account_id=options["account"])] if options["account"] else accounts_reconcile_all()
        for run in runs:
            self.stdout.write(f"{run.account_id}: {run.outcome} ledger={run.ledger_balance} "
                              f"core={run.core_balance} drift={run.drift} {run.note}".rstrip())
        if any(run.outcome in ("drift", "unreachable") for run in runs):
            raise SystemExit(1)
