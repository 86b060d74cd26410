"""Delete login sessions that expired more than N days ago (default 30); schedule it daily."""
import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from auth_app.services import login_session_prune


class Command(BaseCommand):
    help = "Delete login sessions that expired more than --days days ago (their tokens are long dead)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, **options):
        deleted = login_session_prune(ended_before=timezone.now() - dt.timedelta(days=options["days"]))
        self.stdout.write(f"login sessions deleted: {deleted}")
