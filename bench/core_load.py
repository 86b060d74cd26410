"""The core mock's own ceiling: one closed-loop client (the app's own core_client) posting money movements.

Each request carries a fresh Idempotency-Key and moves 1 yen on the next account of the list (starting at
`offset`), so every call does the full work (no replays). Runs `seconds` after `go`, then reports its
successful and failed calls:

    DJANGO_SETTINGS_MODULE=bench.settings .venv/bin/python -m bench.core_load withdraw ACC1,ACC2 0 8 <key prefix>
"""
from __future__ import annotations

import sys
import time
import uuid

ROUTES = ("withdraw", "deposit")


def core_call(route: str, *, account_id: str, idempotency_key: str):
    """One 1-yen withdraw or deposit through outbox/core_banking/client.py."""
    from outbox.core_banking import client as core_client

    if route == "withdraw":
        return core_client.withdraw(account_id=account_id, amount=1, description="bench", target_account_id="",
                                    transfer_id="", idempotency_key=idempotency_key)
    return core_client.deposit(account_id=account_id, amount=1, description="bench", source_account_id="",
                               transfer_id="", idempotency_key=idempotency_key, transaction_type="ATM_DEPOSIT")


def main() -> None:
    import django

    django.setup()
    from bench.procs import child_report, child_wait_for_go

    route, accounts, offset = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    seconds, key_prefix = float(sys.argv[4]), f"{sys.argv[5]}-{uuid.uuid4().hex[:8]}"
    if route not in ROUTES:
        raise SystemExit(f"route must be one of {ROUTES}")
    for warm_up in range(5):  # open the pooled connection before the clock starts
        core_call(route, account_id=accounts[offset % len(accounts)], idempotency_key=f"{key_prefix}-warm-{warm_up}")
    child_wait_for_go()
    succeeded = failed = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        calls = succeeded + failed
        result = core_call(route, account_id=accounts[(offset + calls) % len(accounts)],
                           idempotency_key=f"{key_prefix}-{calls}")
        if result.ok:
            succeeded += 1
        else:
            failed += 1
    child_report({"succeeded": succeeded, "failed": failed, "seconds": time.perf_counter() - started})


if __name__ == "__main__":
    main()
