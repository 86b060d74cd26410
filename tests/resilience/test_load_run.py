"""resilience/load_run.py: the whole-application outage figures of E4 and the compact series (pure helpers, no
stack started)."""
from resilience.load_run import _compact_series, _e4_outages

T0 = 1_700_000_000.0


def test_web_outage_counts_seconds_where_no_endpoint_succeeded_and_the_failed_requests():
    # given: every endpoint fails in seconds 10 and 11 (master killed at 10 s, back after 1.5 s)
    records = []
    for second in range(8, 16):
        status = 0 if second in (10, 11) else 200
        records += [{"t": T0 + second + 0.1, "e": "balance", "s": status, "ms": 5.0},
                    {"t": T0 + second + 0.2, "e": "transfer", "s": 202 if status else 0, "ms": 9.0}]
    # when
    figures = _e4_outages(records, t0=T0, extra={"web_kill_t": 10.0, "web_restart_s": 1.5})
    # then
    assert figures["web_outage_s"] == 2
    assert figures["web_failed_requests"] == 4
    assert figures["web_requests_in_window"] == 12  # seconds 10 … 21 of the window hold 6 seconds of records
    assert figures["web_error_rate"] == 4 / 12
    assert "db_outage_s" not in figures


def test_compact_series_keeps_the_columns_the_charts_need():
    series = {"balance": [{"t": 0, "n": 2, "ok": 2, "p50": 1.0, "p95": 2.0, "max": 2.0, "availability": 1.0,
                           "codes": {"200": 2}}]}
    assert _compact_series(series) == {"balance": {"t": [0], "n": [2], "ok": [2], "p50": [1.0], "p95": [2.0]}}
