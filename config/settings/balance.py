"""Read side (balance app): sync and staleness."""
from config.env import env

# Answers carry `stale: true` when core postings were last synced longer ago than this.
BALANCE_STALE_AFTER_SECONDS = env.int("BALANCE_STALE_AFTER_SECONDS", default=120)
# How often beat imports new core postings, and how often it reconciles balances with core (R40).
BALANCE_SYNC_INTERVAL_SECONDS = env.int("BALANCE_SYNC_INTERVAL_SECONDS", default=30)
BALANCE_RECONCILE_INTERVAL_SECONDS = env.int("BALANCE_RECONCILE_INTERVAL_SECONDS", default=300)
# Page size of the history route: the first page without parameters returns this many (the original: 50).
BALANCE_HISTORY_PAGE_SIZE = env.int("BALANCE_HISTORY_PAGE_SIZE", default=50)
BALANCE_HISTORY_MAX_PAGE_SIZE = env.int("BALANCE_HISTORY_MAX_PAGE_SIZE", default=200)
# Each sync re-reads core postings from this long before the newest one it imported (late commits).
BALANCE_SYNC_OVERLAP_SECONDS = env.int("BALANCE_SYNC_OVERLAP_SECONDS", default=300)
