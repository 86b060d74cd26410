"""Celery: broker, at-least-once settings, queues (bulkheads) and the beat schedule.

Embedded default: kombu's filesystem transport under var/broker (no server; see docs/broker.md).
CELERY_BROKER_URL=redis://... selects Redis (production, CI).
"""
from pathlib import Path

from kombu import Exchange, Queue

from config.env import VAR_DIR, env
from config.settings.balance import BALANCE_RECONCILE_INTERVAL_SECONDS, BALANCE_SYNC_INTERVAL_SECONDS

# How often beat runs the housekeeping tasks (pruning expired sessions and old idempotency keys).
HOUSEKEEPING_INTERVAL_SECONDS = env.int("HOUSEKEEPING_INTERVAL_SECONDS", default=3600)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
BROKER_IS_FILESYSTEM = CELERY_BROKER_URL.startswith("filesystem://")

if BROKER_IS_FILESYSTEM:
    _broker_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder for in and out; processed messages are deleted (store_processed False).
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
        # The transport polls its folder; kombu's 1 s default adds up to a second per saga leg. A listing of
        # a small local folder every 0.1 s costs next to nothing.
        "polling_interval": env.float("CELERY_FILESYSTEM_POLLING_INTERVAL", default=0.1),
    }
    # kombu's filesystem transport, but with message files that appear whole (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:AtomicFilesystemTransport"
    # Every process that publishes (web nudges) or consumes needs the folders; creating them is idempotent.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    # A thread pool, not prefork. This transport polls, so the worker runs Celery's synchronous loop, which
    # hands tasks to prefork children through one shared pipe guarded by a lock. A child killed while it holds
    # that lock (SIGKILL, the OOM killer) leaves it held: every later child blocks on it, the one prefetched task
    # is never run, and the worker stops consuming while beat keeps sending (reproduced: 0 of 200 transfers
    # terminal three minutes after three child kills). With threads there is no child to lose: a killed worker
    # is one dead process, which the supervisor restarts, and leases hand its claimed rows to the next one.
    # Redis uses Celery's asynchronous loop, whose prefork pool gives each child its own pipe and survives this.
    CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="threads")
else:
    # Redis redelivers an unacked message after visibility_timeout: keep it far above the longest
    # task (CELERY_TASK_TIME_LIMIT below; a relay batch stops at 80 % of its lease) so nothing is
    # redelivered while still running. No task uses a long ETA/countdown (retries back off ≤ 10 s).
    CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="prefork")

CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4.0)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = env.str("TIME_ZONE", default="Asia/Tokyo")
# At-least-once: ack after the task ran, redeliver if the worker process dies, reserve one at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# Bounded everywhere: publishing retries briefly, then the caller gives up (outbox wake-ups are
# fire-and-forget; the beat sweep covers a lost one). Workers give up reconnecting after a while.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 1}
CELERY_BROKER_CONNECTION_MAX_RETRIES = 100
# On losing the broker connection, cancel running acks_late tasks so they are redelivered, not run twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Warm shutdown waits this long for running tasks before the cold stop (unacked messages then return).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10.0

# Bulkheads (R17): money-moving core calls and mail have their own queues, so workers can be sized
# per queue and slow mail never delays a withdrawal. `default` carries the relay's maintenance tasks.
# The outbox drain task is routed by its first argument (the outbox queue) in config/celery.py.
CELERY_TASK_DEFAULT_QUEUE = "default"
# Each queue has its own direct exchange and routing key (an implicit Queue(name) would be bound to the
# shared default exchange/key, delivering every message to every queue).
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name)
                           for name in ("default", "core", "notify"))
CELERY_TASK_ROUTES = ("config.celery.route_task",)

# Beat: the sweep drains due rows even if every on-commit wake-up was lost (R13) and reclaims expired
# leases (R16); the stuck detector warns on lag and dead letters (§5.10). Stale beats are dropped.
CELERY_BEAT_SCHEDULE = {
    "outbox-relay-sweep": {"task": "outbox.relay_sweep", "schedule": 1.0, "options": {"expires": 5}},
    "outbox-stuck-detector": {"task": "outbox.stuck_detector", "schedule": 60.0, "options": {"expires": 50}},
    # Read side: import new core postings (R39) and compare balances with core (R40).
    "balance-sync-core": {"task": "balance.sync_core", "schedule": float(BALANCE_SYNC_INTERVAL_SECONDS),
                          "options": {"expires": BALANCE_SYNC_INTERVAL_SECONDS}},
    "balance-reconcile": {"task": "balance.reconcile", "schedule": float(BALANCE_RECONCILE_INTERVAL_SECONDS),
                          "options": {"expires": BALANCE_RECONCILE_INTERVAL_SECONDS}},
    # Housekeeping: tables that would otherwise only grow (docs/operations.md, "Housekeeping").
    "auth-login-sessions-prune": {"task": "auth_app.login_sessions_prune",
                                  "schedule": float(HOUSEKEEPING_INTERVAL_SECONDS),
                                  "options": {"expires": HOUSEKEEPING_INTERVAL_SECONDS}},
    "outbox-idempotency-purge": {"task": "outbox.idempotency_purge", "schedule": float(HOUSEKEEPING_INTERVAL_SECONDS),
                                 "options": {"expires": HOUSEKEEPING_INTERVAL_SECONDS}},
}
# Workers log through Django's LOGGING (config/settings/base.py), where per-task chatter is turned down.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Keep a worker's database connection across tasks (Celery's Django fixup otherwise reconnects for every
# task: bench/relay.py measured 406 new PostgreSQL sessions per 20,000 rows and 0.49× the raw loop, against
# 2 sessions and 0.76× with reuse). config/celery.py drops a broken or over-age connection before each task,
# as Django does before each request, so a database restart costs one failed task, not many.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule"))
