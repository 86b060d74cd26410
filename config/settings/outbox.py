"""Event store and transactional outbox: relay lease, batch, backoff and alert thresholds.

Every knob has a safe default; see outbox/relay.py for how they are used.
"""
from config.env import env

# How long a claimed message belongs to one worker. A worker that dies leaves its rows `processing`;
# the sweep gives them back once this lease has passed. Keep it well above the slowest delivery
# (core client: connect 2 s + read 5 s) times a few.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=60)
# Rows claimed per drain task. A full batch re-enqueues the drain so several workers share a backlog.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=50)
# One drain task claims batch after batch until a claim comes back empty, at most this many (then it wakes another
# drain, so a backlog is shared between worker processes instead of held by one task).
OUTBOX_DRAIN_MAX_BATCHES = env.int("OUTBOX_DRAIN_MAX_BATCHES", default=20)
# Full-jitter exponential backoff after a retryable/ambiguous outcome:
# delay = random(0, min(cap, base * 2 ** (attempt - 1))) seconds, added to the database clock.
OUTBOX_BACKOFF_BASE_SECONDS = env.float("OUTBOX_BACKOFF_BASE_SECONDS", default=1.0)
OUTBOX_BACKOFF_CAP_SECONDS = env.float("OUTBOX_BACKOFF_CAP_SECONDS", default=300.0)
# Circuit breaker around core banking (outbox/core_banking/breaker.py): after this many consecutive `core` deliveries
# without a usable answer (connection failure, timeout, 502/503/504) stop calling core for OUTBOX_BREAKER_OPEN_SECONDS,
# deferring rows without consuming attempts; then probe /core/health and pull waiting rows forward. 0 disables.
OUTBOX_BREAKER_FAILURES = env.int("OUTBOX_BREAKER_FAILURES", default=5)
OUTBOX_BREAKER_OPEN_SECONDS = env.float("OUTBOX_BREAKER_OPEN_SECONDS", default=5.0)
# The queue whose deliveries call core banking (R17): the breaker watches it.
OUTBOX_CORE_QUEUE = "core"
# The stuck detector warns when the oldest due `pending` row has waited longer than this.
OUTBOX_STUCK_THRESHOLD_SECONDS = env.int("OUTBOX_STUCK_THRESHOLD_SECONDS", default=60)
# A relay wake-up (Celery message) older than this is dropped by the worker: the sweep sends fresh ones.
OUTBOX_NUDGE_EXPIRES_SECONDS = 60
# The outbox queues (R17 bulkheads). A Celery queue of the same name carries each one's drain tasks.
OUTBOX_QUEUES = ("core", "notify")
# Domain part of the Message-ID of customer mails (`<notify_receipt-APP-…@this>`), stable per outbox row.
MAIL_MESSAGE_ID_DOMAIN = env.str("MAIL_MESSAGE_ID_DOMAIN", default="bank.example")
# How long a client's Idempotency-Key is remembered (R30: a repeat within 24 h gets the first answer).
IDEMPOTENCY_KEY_TTL_SECONDS = env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=86400)
# The outbox's staff API (/v1/admin/outbox, /v1/admin/stuck) authenticates with auth_app's classes, named
# here as dotted paths so the outbox package imports no business app (import contract in pyproject.toml).
OUTBOX_STAFF_AUTHENTICATION_CLASSES = "auth_app.authentication.STAFF_AUTHENTICATION_CLASSES"
OUTBOX_STAFF_PERMISSION_CLASS = "auth_app.permissions.IsStaffUser"
OUTBOX_STAFF_THROTTLE_CLASS = "auth_app.throttling.ReadRateThrottle"
