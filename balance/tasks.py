"""Celery tasks of the read side: thin wrappers around services."""
import logging

from celery import shared_task

from balance.services import account_sync_from_core, accounts_reconcile_all, accounts_sync_all

logger = logging.getLogger("bank.balance")


@shared_task(name="balance.sync_core", ignore_result=True)
def sync_core() -> int:
    """Import new core postings for every account (beat); returns how many accounts could not be synced."""
    failures = [result for result in accounts_sync_all() if not result.ok]
    if failures:
        logger.warning("core sync failed for %d account(s): %s", len(failures), failures[0].error)
    return len(failures)


@shared_task(name="balance.sync_account", ignore_result=True)
def sync_account(account_id: str) -> bool:
    """Import one account's new core postings now (e.g. the opening credit right after provisioning)."""
    return account_sync_from_core(account_id=account_id).ok


def sync_account_soon(*, account_id: str) -> None:
    """Publish a one-account sync (call it on commit). Never raises: the periodic sync covers a lost one."""
    try:
        sync_account.apply_async(args=(account_id,), expires=300, retry=False)
    except Exception as exc:  # noqa: BLE001
        logger.warning("balance sync nudge lost account=%s: %s", account_id, type(exc).__name__)


@shared_task(name="balance.reconcile", ignore_result=True)
def reconcile() -> int:
    """Compare every ledger balance with core (beat, every 5 minutes); returns the number of drifting accounts."""
    return sum(1 for run in accounts_reconcile_all() if run.outcome == "drift")


def _sync_soon_after_worker_start(**_kwargs) -> None:
    """A freshly started stack has empty read models: import core postings a few seconds after start
    (the core process starts alongside the worker), instead of waiting for the first beat interval."""
    sync_core.apply_async(countdown=3)


from celery.signals import worker_ready  # noqa: E402

worker_ready.connect(_sync_soon_after_worker_start, weak=False)
