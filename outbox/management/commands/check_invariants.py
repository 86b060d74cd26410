"""`manage.py check_invariants`: run the bank invariants (flows.md §5.11); exit 1 on any violation."""
from django.core.management.base import BaseCommand

from outbox.invariants import invariants_check


class Command(BaseCommand):
    help = "Check the bank invariants I1–I8 registered by the apps; non-zero exit on any violation."

    def add_arguments(self, parser):
        parser.add_argument("--only", help="comma-separated codes, e.g. I4,I6")

    def handle(self, *args, **options):
        codes = set(options["only"].split(",")) if options["only"] else None
        results = invariants_check(codes=codes)
        for result in results:
            self.stdout.write(f"{'OK  ' if result.ok else 'FAIL'} {result.code} {result.title}")
            for violation in result.violations[:20]:
                self.stdout.write(f"       {violation}")
        failed = [result.code for result in results if not result.ok]
        self.stdout.write(f"{len(results) - len(failed)}/{len(results)} invariants hold")
        if failed:
            raise SystemExit(1)
