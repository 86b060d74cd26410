"""The event store: append-only events of every aggregate, their global order, snapshots and projections.

  registry.register_aggregate / register_projection   an app declares its aggregate kinds (AppConfig.ready)
  services.event_append(..., events=[NewEvent(...)])  append with optimistic concurrency, in the caller's transaction
  selectors.aggregate_load(aggregate_id=..., as_of=…) fold the state at a version or an instant (time travel)
  selectors.events_after(cursor=...)                  follow the whole log in commit order
  positions                                           the vendor SQL behind global positions and commit-order reads
"""
