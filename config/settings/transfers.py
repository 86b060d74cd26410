"""Transfers (saga): request limits and stuck-item thresholds."""
from config.env import env

# Largest single transfer, in yen (R5: a positive integer up to a limit).
TRANSFER_MAX_AMOUNT = env.int("TRANSFER_MAX_AMOUNT", default=10_000_000)
# Per source account and calendar day (TIME_ZONE): accepted transfers that are not failed, compensated or
# rejected count against it.
TRANSFER_DAILY_LIMIT = env.int("TRANSFER_DAILY_LIMIT", default=10_000_000)
# Longest `description` accepted (characters); longer → 400.
TRANSFER_DESCRIPTION_MAX_LENGTH = env.int("TRANSFER_DESCRIPTION_MAX_LENGTH", default=140)
# §5.10: a transfer not terminal this long after RECEIVED is listed at /admin/stuck (critical once withdrawn).
TRANSFER_STUCK_AFTER_SECONDS = env.int("TRANSFER_STUCK_AFTER_SECONDS", default=300)
