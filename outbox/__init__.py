"""The `outbox` app: the event store, the transactional outbox and its relay, and what they carry. It knows nothing
about transfers or accounts; the owning apps register their kinds, handlers, projections and checks with it.

  eventstore/          append-only events, global positions, snapshots, projections (see its __init__)
  services.py          outbox_enqueue in the caller's transaction; replay, resolve, reclaim (operator and sweep writes)
  selectors.py         outbox stats, backlog, dead letters
  registry.py          register_handler: one handler per message kind, with its queue and retry budget
  relay.py, sql.py     claim → deliver → settle, and its vendor SQL (PostgreSQL row locks / SKIP LOCKED)
  tasks.py             Celery wake-ups, the beat sweep and housekeeping
  core_banking/        the HTTP client for the core-banking system, and the relay's circuit breaker around it
  mail.py              customer mail as outbox rows, sent at most once
  request_idempotency.py  clients' Idempotency-Key answers stored with the command they answered
  invariants.py        stuck-item and invariant checks that every app contributes to (manage.py check_invariants)

Operators: Django admin, GET/POST /v1/admin/outbox…, manage.py outbox_status / outbox_replay / rebuild_projections.
"""
