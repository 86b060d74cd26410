"""E6 scaling: the flattening rule, the curve summary, the criteria and the report, from recorded measurements
(no stack)."""
import pytest

from resilience import cpu as cpu_module
from resilience import report, scaling
from resilience.cpu import postgres_database_from_title
from resilience.criteria import criteria_evaluate, verdict
from resilience.experiments import EXPERIMENTS_BY_ID, QUICK, experiments_select


def cpu(busy, **groups):
    return {**groups, "machine_busy_pct": busy, "wall_s": 10.0, "interrupts": 0.1, "steal": 0.0}


def point(n, rate, *, busy=50.0, lock_share=0.0, lwlock_share=0.0, complete=True, units=600, **groups):
    groups = groups or {"core workers": 5.0, "core mock": 2.0, "postgres": 2.0}
    return {"n": n, "rate": rate, "units": units, "complete": complete, "cpu": cpu(busy, **groups),
            "pg": {"lock_wait_share": lock_share, "lwlock_wait_share": lwlock_share, "io_wait_share": 0.05}}


# --- the flattening rule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("measured", "cause"), [
    (point(4, 80, busy=95.0, **{"core workers": 6.0, "postgres": 2.0, "not this run": 4.0}), scaling.CAUSE_OTHER_LOAD),
    (point(4, 80, busy=95.0, **{"core workers": 4.0, "core mock": 4.0, "postgres": 2.0}), scaling.CAUSE_CORE_MOCK),
    (point(4, 80, busy=95.0, **{"core workers": 8.0, "core mock": 1.0, "postgres": 3.0}), scaling.CAUSE_CPU),
    (point(4, 80, busy=60.0, lock_share=0.4), scaling.CAUSE_LOCKS),
    (point(4, 80, busy=60.0, lock_share=0.05, lwlock_share=0.2), scaling.CAUSE_DB_WAITS),
    (point(4, 80, busy=60.0, lock_share=0.05, lwlock_share=0.1), scaling.CAUSE_UNIDENTIFIED),
])
def test_the_rule_names_the_cause_from_cpu_lock_waits_and_the_core_mock_share(measured, cause):
    # when
    result = scaling.flattening_cause(measured)
    # then
    assert result["cause"] == cause


def test_a_saturated_cpu_wins_over_lock_waits_and_both_signals_are_kept():
    # given: both cores busy and many backends waiting on locks
    measured = point(8, 80, busy=97.0, lock_share=0.5, **{"core workers": 9.0, "core mock": 1.0, "postgres": 2.0})
    # when
    result = scaling.flattening_cause(measured)
    # then
    assert result["cause"] == scaling.CAUSE_CPU
    assert result["signals"]["locks"] is True and result["signals"]["cpu_saturated"] is True
    assert result["signals"]["largest_group"] == "core workers"


def test_cpu_shares_leave_other_users_of_the_machine_out_of_this_runs_groups():
    # when
    shares = scaling.cpu_shares(cpu(90.0, web=3.0, postgres=1.0, **{"not this run": 2.0,
                                                                    "postgres (other databases)": 2.0}))
    # then
    assert shares["ours_s"] == 4.0 and shares["others_s"] == 4.0
    assert shares["share"] == {"web": 0.75, "postgres": 0.25}
    assert shares["others_share"] == 0.5


def test_pg_activity_summary_is_the_share_of_active_backend_samples_waiting_on_a_lock():
    # when
    summary = scaling.pg_activity_summary([{"active": 4, "lock": 1, "lwlock": 0, "io": 0},
                                           {"active": 6, "lock": 3, "lwlock": 1, "io": 2}],
                                          {"Lock:transactionid": 4, "LWLock:WALWrite": 1, "IO:WALSync": 2,
                                           "Client:ClientRead": 1})
    # then
    assert summary["lock_wait_share"] == 0.4 and summary["lwlock_wait_share"] == 0.1
    assert summary["io_wait_share"] == 0.2
    assert summary["active_mean"] == 5.0 and summary["lock_waiting_max"] == 3
    assert summary["top_wait_events"] == {"Lock:transactionid": 0.4, "IO:WALSync": 0.2, "LWLock:WALWrite": 0.1}


# --- the curve ------------------------------------------------------------------------------------------------


def test_curve_efficiency_cpu_per_unit_and_where_it_flattens():
    # given: 45/s, 90/s (linear), then 92/s with both cores saturated
    points = [point(1, 45.0, busy=50.0), point(2, 90.0, busy=82.0),
              point(4, 92.0, busy=95.0, **{"core workers": 8.0, "core mock": 1.0, "postgres": 3.0})]
    # when
    summary = scaling.curve_summary(points, planned=(1, 2, 4))
    # then
    assert [row["efficiency"] for row in summary["points"]] == [1.0, 1.0, 0.511]
    assert summary["points"][0]["cpu_ms_per_unit"]["core workers"] == pytest.approx(8.33, abs=0.01)
    assert summary["flattens_at"] == 4 and summary["cause"] == scaling.CAUSE_CPU
    assert summary["all_points_measured"] == 1 and summary["cause_identified"] == 1
    assert summary["best_n"] == 4 and summary["best_rate"] == 92.0


def test_a_point_that_did_not_drain_is_not_measured_and_a_curve_that_never_flattens_answers_nothing():
    # given
    points = [point(1, 40.0), point(2, 79.0), point(4, 150.0, complete=False)]
    # when
    summary = scaling.curve_summary(points, planned=(1, 2, 4))
    # then
    assert summary["all_points_measured"] == 0
    assert [row["n"] for row in summary["points"]] == [1, 2]
    assert summary["flattens_at"] is None and summary["cause"] == scaling.NOT_FLAT
    assert summary["cause_identified"] == 0


def test_a_curve_flattened_by_other_users_of_the_machine_is_disturbed_and_its_cause_not_the_stacks():
    # given: another process took half of the busy CPU at the second point
    points = [point(1, 45.0), point(2, 46.0, busy=99.0, **{"core workers": 4.0, "not this run": 4.0})]
    # when
    summary = scaling.curve_summary(points, planned=(1, 2))
    # then
    assert summary["cause"] == scaling.CAUSE_OTHER_LOAD
    assert summary["cause_identified"] == 0
    assert summary["undisturbed"] == 0 and summary["max_others_share"] == 0.5


# --- the registry and the criteria -------------------------------------------------------------------------------


def recorded_metrics(*, web_cause=scaling.CAUSE_CPU):
    core = scaling.curve_summary([point(1, 45.0), point(2, 88.0, busy=85.0),
                                  point(4, 90.0, busy=96.0, **{"core workers": 8.0, "postgres": 3.0})],
                                 planned=(1, 2, 4))
    web = {**core, "cause": web_cause, "cause_identified": int(web_cause == scaling.CAUSE_CPU)}
    return {"e6": {"core": core, "web": web, "web_balance": web, "backlog": 300, "web_seconds": 3.0,
                   "web_threads": 4, "thresholds": scaling.THRESHOLDS, "seconds": 120.0},
            "transfers": {"lost": 0, "failed_or_compensated": 0, "doubled": 0}, "invariants": {"failed": 0}}


def test_e6_is_a_scaling_experiment_outside_the_ci_quick_set():
    # then
    assert EXPERIMENTS_BY_ID["E6"].kind == "scaling"
    assert "E6" not in QUICK
    assert [experiment.id for experiment in experiments_select("e6", quick=True)] == ["E6"]


def test_e6_passes_when_every_point_is_measured_and_both_causes_are_identified():
    # when
    results = criteria_evaluate(EXPERIMENTS_BY_ID["E6"].criteria, recorded_metrics())
    # then
    assert verdict(results) == "PASS"


def test_e6_fails_when_the_web_curve_flattens_for_no_measured_reason():
    # when
    metrics = recorded_metrics(web_cause=scaling.CAUSE_UNIDENTIFIED)
    results = criteria_evaluate(EXPERIMENTS_BY_ID["E6"].criteria, metrics)
    # then
    assert verdict(results) == "FAIL"
    assert [result["metric"] for result in results if not result["passed"]] == ["e6.web.cause_identified"]


# --- the report --------------------------------------------------------------------------------------------------


def e6_record():
    metrics = recorded_metrics()
    result = {"id": "E6", "title": "Scaling on one box", "dimension": "scalability", "kind": "scaling",
              "hypothesis": "h", "method": "m", "rollback": "r", "original": "o", "criteria": [], "verdict": "PASS",
              "metrics": metrics, "runs": [{"variant": "run", "variant_note": "", "kind": "scaling",
                                            "metrics": metrics, "error": ""}], "notes": [], "error": ""}
    return {"started_at": "2026-12-03T16:00:00+00:00", "quick": True, "duration_s": 200, "commit": "abc1234",
            "machine": {"nproc": 2}, "stack": {}, "experiments": [result], "_file": "resilience-e6.json"}


def test_report_renders_e6_curves_and_the_flattening_cause():
    # when
    markdown = report.render([e6_record()], make_charts=False)
    # then
    assert "| E6 | Scaling on one box | scalability | PASS (quick) | completed transfers/s 1: 45.0, 2: 88.0, " \
           "4: 90.0; best 90.0 at 4, flat from 4 (CPU (both cores saturated))" in markdown
    assert "| 4 | 90.0 | 0.50 | 96.0 % | 0.00 % | 0.000 | core workers 13.3, postgres 5.0 |" in markdown
    assert "The curve flattens at 4: **CPU (both cores saturated)**" in markdown


def test_report_draws_the_e6_chart(tmp_path):
    pytest.importorskip("matplotlib")
    # when
    report.render([e6_record()], charts_dir=tmp_path)
    # then
    assert (tmp_path / "E6.png").stat().st_size > 1000


@pytest.mark.parametrize(("title", "database"), [
    ("postgres: 15/main: postgres scale_bank 127.0.0.1(39094) idle", "scale_bank"),
    ("postgres: app bank_db [local] SELECT", ""),
    ("postgres: app bank_db 127.0.0.1(5) idle in transaction", "bank_db"),
    ("postgres: 15/main: checkpointer", ""),
    ("postgres: 15/main: background writer", ""),
    ("/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", ""),
])
def test_a_backends_database_is_read_from_its_process_title(title, database):
    # then
    assert postgres_database_from_title(title) == database


def test_an_exited_backend_of_this_runs_database_is_corrected_where_the_postmaster_counts_it(monkeypatch):
    # given: backend 11 (this run's database) lived 100 ticks before the window and exits in it; the postmaster
    # (pid 10, no database) reaps it, so its cutime grows by the backend's whole life (100 + 50 ticks)
    tables = iter([{10: ("postgres (other databases)", 1000), 11: ("postgres", 100), 12: ("postgres", 10)},
                   {10: ("postgres (other databases)", 1150), 12: ("postgres", 40)}])
    machines = iter([{"processes": 0, "interrupts": 0, "steal": 0, "total": 0},
                     {"processes": 400, "interrupts": 0, "steal": 0, "total": 800}])
    monkeypatch.setattr(cpu_module, "_labelled_ticks", lambda roots, own_databases: next(tables))
    monkeypatch.setattr(cpu_module, "_machine_ticks", lambda: next(machines))
    meter = cpu_module.CpuMeter({}, own_databases=("scale_bank",)).start()
    # when
    used = meter.stop()
    # then: never negative; the exited backend's 50 window ticks land with the postmaster's label
    ticks = cpu_module.CLOCK_TICKS
    assert used["postgres"] == round(30 / ticks, 2)
    assert used["postgres (other databases)"] == round(50 / ticks, 2)
    assert used["machine_busy_pct"] == 50.0
