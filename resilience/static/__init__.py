"""Static experiments of the resilience comparator: E7 coupling (coupling.py), E10 test cost (suite_cost.py),
E13 inventory (inventory.py), E15 code size (code_size.py).

Every number is derived from the repository at run time (import graph, supervisord programs, settings, models,
source text), so the figures cannot drift from the code. Each experiment returns
`{"metrics": {...}, "notes": [...]}` (JSON-serialisable). The original's figures are the only constants.
"""
