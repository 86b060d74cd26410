"""E16 internal atomicity (flows.md §6.6): abort the process at random points inside command and result
transactions, then prove that nothing half-written survived. The world and operations are in operations.py,
fork/count/kill in kill_points.py, the checks in checks.py, the runs and entry points in runner.py.

Each run forks a child from a set-up Django process. The child runs one operation through the real services:

- commands: `transfers.services.transfer_request`, `accounts.services.application_submit`,
  `application_approve` / `application_reject`;
- relay transactions (outbox/relay.py): `claim` of due rows, `start` of a claimed money leg (its `on_claim` hook
  appends PROCESSING_STARTED) and `settle` of a claimed row with a leg result, a provisioning result or a sent
  mail, which runs the registered handler's `on_success` / `on_failure` hook (transfers.services
  transfer_*_record, accounts.services.application_complete, outbox.mail) in the settle transaction.

Core banking is never called: the child settles a *result* (a Delivery the relay would have built from core's
answer), which is exactly the after-call transaction. A dry run of the same operation in a first child counts its SQL
statements up to COMMIT (and is killed before COMMIT, so it leaves nothing); the second child installs
`connection.execute_wrapper` and SIGKILLs itself right before statement k, k uniform in 1..n+1 (n+1 = at COMMIT).

The parent closes its own connections before every fork, so a child never shares a socket with it; the child
additionally drops (never closes) any connection object it inherited, and leaves only through SIGKILL or `os._exit`.
Afterwards: events without their outbox row, outbox rows without their event (the correspondence in checks.py, read from
transfers/services/ and accounts/services.py), read-model drift (the registered invariants, I8 among them,
ledger = Σ postings, and a projection rebuild that must change nothing).

PostgreSQL only: `e16_atomicity()` runs everything in a subprocess against its own databases
(`bench_e16_bank` / `bench_e16_core`, dropped and created); `atomicity_runs()` works on whatever database Django is
connected to (the tests use their PostgreSQL test database).
"""
