"""resilience/metrics.py: per-second and per-window aggregation of the request log, drain time."""
from resilience import metrics as m

T0 = 1_700_000_000.0


def _record(offset: float, endpoint: str, status: int, ms: float) -> dict:
    return {"t": T0 + offset, "e": endpoint, "s": status, "ms": ms}


def test_per_second_buckets_requests_by_endpoint_and_keeps_empty_seconds():
    # given
    records = [_record(0.1, "balance", 200, 10), _record(0.9, "balance", 500, 30), _record(2.5, "balance", 200, 20),
               _record(0.5, "transfer", 202, 40)]
    # when
    series = m.per_second(records, t0=T0, duration_s=3)
    # then
    assert [row["n"] for row in series["balance"]] == [2, 0, 1]
    assert series["balance"][0] == {"t": 0, "n": 2, "ok": 1, "availability": 0.5, "p50": 10, "p95": 30, "max": 30,
                                    "codes": {"200": 1, "500": 1}}
    assert series["balance"][1]["availability"] is None
    assert [row["ok"] for row in series["transfer"]] == [1, 0, 0]


def test_per_second_drops_requests_before_the_start_and_after_the_duration():
    # given
    records = [_record(-0.5, "balance", 200, 1), _record(5.0, "balance", 200, 1), _record(1.0, "balance", 200, 1)]
    # when
    series = m.per_second(records, t0=T0, duration_s=2)
    # then
    assert [row["n"] for row in series["balance"]] == [0, 1]


def test_window_stats_counts_availability_and_latency_percentiles_inside_the_window():
    # given
    records = [_record(float(i) / 10, "balance", 200 if i < 9 else 0, i + 1.0) for i in range(10)]
    records.append(_record(5.0, "balance", 503, 1))  # outside [0, 1)
    # when
    stats = m.window_stats(records, t0=T0, start_s=0, end_s=1)
    # then
    balance = stats["balance"]
    assert (balance["n"], balance["ok"], balance["availability"]) == (10, 9, 0.9)
    assert (balance["p50"], balance["p95"], balance["max"]) == (5.0, 10.0, 10.0)
    assert balance["codes"] == {"200": 9, "0": 1}


def test_percentile_is_nearest_rank_and_none_for_no_values():
    assert m.percentile([3, 1, 2, 4], 50) == 2
    assert m.percentile([3, 1, 2, 4], 95) == 4
    assert m.percentile([], 95) is None


def test_drain_seconds_waits_until_the_backlog_stays_at_the_baseline():
    # given: the backlog falls under the level at 33 s, bounces at 34 s and stays down from 35 s
    samples = [{"t": float(t), "outbox": {"open": value}}
               for t, value in zip(range(28, 40), [40, 40, 40, 30, 10, 1, 5, 1, 0, 0, 0, 0], strict=True)]
    # when
    drained = m.drain_seconds(samples, after_s=30, level=2)
    # then
    assert drained == 5.0


def test_drain_seconds_is_none_when_the_backlog_never_comes_back():
    samples = [{"t": float(t), "outbox": {"open": 50}} for t in range(10)]
    assert m.drain_seconds(samples, after_s=2, level=2) is None


def test_backlog_baseline_is_twice_the_median_before_the_fault_and_at_least_two():
    # given
    samples = [{"t": float(t), "outbox": {"open": value}} for t, value in enumerate([0, 3, 3, 10, 4, 100])]
    # then
    assert m.backlog_baseline(samples, before_s=5) == 6.0
    assert m.backlog_baseline(samples[:1], before_s=5) == 2.0


def test_outage_seconds_counts_seconds_with_requests_and_no_success():
    series = [{"t": 0, "n": 3, "ok": 3}, {"t": 1, "n": 2, "ok": 0}, {"t": 2, "n": 0, "ok": 0},
              {"t": 3, "n": 1, "ok": 0}]
    assert m.outage_seconds(series) == 2
    assert m.outage_seconds(series, start_s=2) == 1


def test_requests_load_skips_a_torn_last_line(tmp_path):
    # given
    path = tmp_path / "requests.jsonl"
    path.write_text('{"t": 1, "e": "balance", "s": 200, "ms": 3}\n{"t": 2, "e": "bal')
    # then
    assert m.requests_load(path) == [{"t": 1, "e": "balance", "s": 200, "ms": 3}]
