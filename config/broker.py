"""The embedded default's broker: kombu's filesystem transport, with atomic message files.

kombu's filesystem transport creates a message file under its final `*.msg` name and only then writes the body.
A consumer polling the folder in between moves the still-empty file away and fails to decode it; the worker's
consumer then dies on the JSON error (seen under CPU load). Here a message is written to a temporary name that
no consumer reads (it does not end in `.msg`), flushed, and renamed into place: a rename within one folder is
atomic, so a consumer sees either no file or the whole message.

A file that still cannot be decoded (a truncated write after a power loss, a stray file) is moved aside into
`broken/` with a warning instead of killing the consumer. Nothing of value is lost with it: Celery messages are
only wake-ups; the outbox table holds the work, and the beat sweep wakes the relay every second anyway.

Selected by CELERY_BROKER_TRANSPORT in config/settings/celery.py whenever the broker URL is `filesystem://`.
"""
from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger("bank.broker")

BROKEN_FOLDER = "broken"


class AtomicFilesystemChannel(filesystem.Channel):
    """A filesystem channel whose messages appear in the queue folder whole or not at all."""

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final_path = os.path.join(self.data_folder_out, name)
        temporary_path = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(temporary_path, "wb") as message_file:
                message_file.write(str_to_bytes(dumps(payload)))
                message_file.flush()
                os.fsync(message_file.fileno())
            os.replace(temporary_path, final_path)
        except OSError as exc:
            try:
                os.unlink(temporary_path)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {final_path!r} to directory") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            taken_folder = self.processed_folder if self.store_processed else self._taken_folder()
            taken_path = os.path.join(taken_folder, filename)
            try:
                # The move is how a consumer takes a message: only one of several consumers succeeds.
                shutil.move(os.path.join(self.data_folder_in, filename), taken_path)
            except OSError:
                continue
            try:
                with open(taken_path, "rb") as message_file:
                    payload = message_file.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read file {taken_path!r} from queue.") from exc
            try:
                message = loads(bytes_to_str(payload))
            except (ValueError, UnicodeDecodeError):
                self._set_aside(taken_path, filename, size=len(payload))
                continue
            if not self.store_processed:
                os.remove(taken_path)
            return message
        raise filesystem.Empty()

    def _taken_folder(self) -> str:
        """Where a taken message waits while it is read: beside the queue folder, so the move is a rename."""
        folder = Path(self.data_folder_in).parent / "taken"
        folder.mkdir(exist_ok=True)
        return str(folder)

    def _set_aside(self, taken_path: str, filename: str, *, size: int) -> None:
        broken = Path(self.data_folder_in).parent / BROKEN_FOLDER
        broken.mkdir(exist_ok=True)
        try:
            os.replace(taken_path, broken / filename)
        except OSError:
            pass
        logger.warning("broker message %s (%d bytes) is not valid JSON; moved to %s and skipped "
                       "(a lost wake-up: the outbox sweep delivers the work)", filename, size, broken)


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicFilesystemChannel

