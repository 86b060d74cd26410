"""The "kill a worker and watch the money" scenario on the stack that `make run` starts, on both setups.

The embedded default (SQLite + filesystem broker) and, when the CI services are configured, PostgreSQL + Redis:
200 transfers from 8 clients while the core mock is flaky for 60 s and down for 8 s, and the process that runs
the relay's tasks is SIGKILLed three times (tests/fixtures/fault_scenario.py). Then every transfer is terminal
within 60 s of the faults stopping, no money is created or lost, each balance is its start plus the completed
transfers, the read model equals core, and `check_invariants` holds. About two and a half minutes per setup.
"""
from __future__ import annotations

import pytest

from tests.fixtures.fault_scenario import expected_balances, run_fault_scenario
from tests.fixtures.run_stack import RunStack

pytestmark = pytest.mark.slow


def test_every_transfer_ends_and_money_is_conserved_when_core_fails_and_workers_are_killed(stack_setup, tmp_path):
    # given a fresh `make run` stack with demo data
    stack = RunStack(var_dir=tmp_path / "var", log_path=tmp_path / "run.log", extra_env=stack_setup).start()
    try:
        stack.wait_healthy()
        # when 200 transfers run through core faults while the task process is killed three times
        result = run_fault_scenario(stack)
    finally:
        survivors = stack.stop()
    print(f"\nfault scenario ({'PostgreSQL + Redis' if stack_setup else 'embedded'}): {result.summary()}")
    # then every transfer was accepted and is terminal within 60 s of the faults stopping
    assert len(result.kills) == 3
    assert len(result.accepted) == 200, result.refused
    assert result.open_transfers == [], (result.summary(), stack.log_tail())
    # and no money was created or lost; each balance is its start plus its completed transfers
    assert sum(result.end_balances.values()) == sum(result.start_balances.values())
    assert result.end_balances == expected_balances(result)
    # and the read model equals core, and every invariant holds
    assert result.read_model_balances == result.end_balances
    assert result.invariants_exit == 0, result.invariants_output
    # and Ctrl-C left nothing behind
    assert survivors == []
