"""Resilience comparator harness (issue 9, flows.md §6): experiments under load, criteria as data, report."""
