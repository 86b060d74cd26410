"""Event store and transactional outbox. Knows nothing about transfers or accounts.

Owning apps use (see each module for details):
  registry.register_aggregate / register_handler / register_projection   declare kinds (in AppConfig.ready)
  services.event_append(..., events=[NewEvent(...)])                     append with optimistic concurrency
  services.outbox_enqueue(key=..., kind=..., aggregate_id=...)           enqueue in the same transaction
  selectors.aggregate_load(aggregate_id=..., as_of=..., version=...)    fold state, time travel
  relay.drain(queue=...)                                                 claim → deliver → settle (sync)
Operators: Django admin, GET/POST /v1/admin/outbox…, manage.py outbox_status / outbox_replay /
rebuild_projections. PostgreSQL gives row locks and SKIP LOCKED; on SQLite run one relay worker process.
"""
