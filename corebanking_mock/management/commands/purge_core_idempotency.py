"""`manage.py purge_core_idempotency`: delete idempotency records older than the retention period."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from corebanking_mock.services import idempotency_purge


class Command(BaseCommand):
    help = "Delete core-banking idempotency records (and voided tombstones) older than the retention period."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=None,
                            help="keep this many days (default and minimum: CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS)")

    def handle(self, *args, days: int | None = None, **options) -> None:
        retention_days = settings.CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS
        if days is not None and days < retention_days:
            raise CommandError(f"--days must be at least {retention_days} (CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS)")
        deleted = idempotency_purge(retention_days=days if days is not None else retention_days)
        self.stdout.write(f"purged {deleted} idempotency records")
