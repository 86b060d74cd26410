"""`manage.py outbox_replay <id|key> | --all-failed [--actor NAME]`: replay dead letters (audited)."""
from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from config.errors import ApplicationError
from outbox.models import OutboxMessage, OutboxStatus
from outbox.services import outbox_replay


class Command(BaseCommand):
    help = "Move dead-lettered outbox rows back to pending (same service as the admin action and the API)."

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", help="Outbox message id or key.")
        parser.add_argument("--all-failed", action="store_true", help="Replay every dead-lettered row.")
        parser.add_argument("--actor", default=None, help="Who is replaying (default: cli:<OS user>).")

    def handle(self, *args, **options):
        target, all_failed = options["target"], options["all_failed"]
        if bool(target) == bool(all_failed):
            raise CommandError("Give exactly one of: a message id or key, or --all-failed.")
        actor = options["actor"] or f"cli:{getpass.getuser()}"
        if all_failed:
            message_ids = list(OutboxMessage.objects.filter(status=OutboxStatus.FAILED).order_by("id")
                               .values_list("id", flat=True))
        else:
            lookup = {"id": int(target)} if target.isdigit() else {"key": target}
            message_ids = list(OutboxMessage.objects.filter(**lookup).values_list("id", flat=True))
            if not message_ids:
                raise CommandError(f"No outbox message {target!r}.")
        replayed = 0
        for message_id in message_ids:
            try:
                message = outbox_replay(message_id=message_id, actor=actor)
            except ApplicationError as exc:
                if not all_failed:
                    raise CommandError(exc.message) from exc
                continue
            replayed += 1
            self.stdout.write(f"replayed {message.id} {message.key}")
        self.stdout.write(f"{replayed} message(s) replayed by {actor}")
