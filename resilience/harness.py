"""The resilience harness of flows.md §6.0: start the stack, drive W0 with Locust, apply each experiment's fault at
its time through the fault switch, sample every second, check the invariants, evaluate the criteria, tear down.

    .venv/bin/python -m resilience.harness [--experiments E1,E2] [--quick] [--out DIR]
    (normally through `manage.py resilience run …`)

Own world only: databases `bench_res_bank` / `bench_res_core` (dropped and created), Redis db 12 (flushed), free
127.0.0.1 ports, every child in its own session and stopped by its pid (resilience/processes.py), also on error
and Ctrl-C.
The core mock's fault switch is on only here (CORE_MOCK_FAULTS_ENABLED with a random control key per run).
Load goes only to 127.0.0.1 and is bounded by each experiment's duration.

The stack and world are resilience/stack.py, the fault actions resilience/fault_actions.py, one load experiment
resilience/load_run.py; this module runs the selected experiments and writes their verdicts.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from resilience import environment
from resilience import experiments as registry
from resilience.criteria import Experiment, criteria_evaluate, gate_failed, verdict
from resilience.load_run import Harness
from resilience.processes import Processes
from resilience.stack import (
    ACCOUNTS_PER_CUSTOMER,
    BANK_DB,
    CORE_CONCURRENCY,
    CORE_DB,
    CUSTOMERS,
    DEFAULT_OUT,
    NOTIFY_CONCURRENCY,
    REDIS_DB,
    REQUIREMENTS,
    W0_RATES,
    W0_RATES_QUICK,
    WEB_THREADS,
    WEB_WORKERS,
    ComponentError,
    log,
)


def static_run(experiment: Experiment, *, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Call the experiment's function (imported now); NOT RUN with the reason when it cannot be imported."""
    module_name, function_name = experiment.call.split(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        return {"error": f"{experiment.call} unavailable ({type(exc).__name__}: {exc})", "metrics": {}, "notes": []}
    kwargs = dict(experiment.call_kwargs_quick if quick and experiment.call_kwargs_quick else experiment.call_kwargs)
    if "out_dir" in function.__code__.co_varnames[:function.__code__.co_argcount + function.__code__.co_kwonlyargcount]:
        kwargs["out_dir"] = out_dir
    started = time.monotonic()
    try:
        result = function(**kwargs)
    except Exception as exc:  # noqa: BLE001 - reported as the experiment's error
        return {"error": f"{experiment.call} raised {type(exc).__name__}: {exc}", "metrics": {}, "notes": [],
                "traceback": traceback.format_exc()[-3000:]}
    return {"metrics": result.get("metrics", {}), "notes": result.get("notes", []), "error": "",
            "seconds": round(time.monotonic() - started, 1)}


# --- the run -----------------------------------------------------------------------------------------------------


def experiment_result(experiment: Experiment, *, runs: list[dict[str, Any]] | None = None,
                      static: dict[str, Any] | None = None, error: str = "") -> dict[str, Any]:
    """The record of one experiment: its data (hypothesis, method, …), runs, criteria and verdict."""
    if experiment.kind == "todo":
        error = error or "not implemented in this harness yet"
    metrics: dict[str, Any] = {}
    if runs:
        metrics = runs[0]["metrics"] if len(runs) == 1 else {run["variant"]: run["metrics"] for run in runs}
        error = error or "; ".join(run["error"] for run in runs if run.get("error"))
    if static is not None:
        metrics = static.get("metrics", {})
        error = error or static.get("error", "")
    criteria = [] if error else criteria_evaluate(experiment.criteria, metrics)
    return {"id": experiment.id, "title": experiment.title, "dimension": experiment.dimension,
            "kind": experiment.kind, "hypothesis": experiment.hypothesis, "method": experiment.method,
            "rollback": experiment.rollback, "original": experiment.original,
            "criteria": criteria, "verdict": verdict(criteria, error=error), "metrics": metrics,
            "runs": runs or [], "notes": (static or {}).get("notes", []), "error": error}


def print_verdicts(results: list[dict[str, Any]]) -> None:
    for result in results:
        print(f"{result['id']:<4} {result['verdict']:<6} {result['title']}")
        for criterion in result["criteria"]:
            value = criterion["value"]
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            kind = " [timing target]" if criterion.get("timing") else ""
            print(f"       {'PASS' if criterion['passed'] else 'FAIL'}  {criterion['label']}{kind}  (measured {shown})")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="resilience run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", help="comma-separated ids (default: the priority set, or the quick set)")
    parser.add_argument("--quick", action="store_true", help="short windows, smaller load (CI): E1, E16, E18")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results folder (default {DEFAULT_OUT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    selected = registry.experiments_select(args.experiments, quick=args.quick)
    environment.requirements_install(REQUIREMENTS, modules=("matplotlib",), executables=("locust",))
    started_at = dt.datetime.now(dt.UTC)
    stamp = f"{started_at:%Y%m%dT%H%M%SZ}"
    out_dir = args.out.resolve()
    run_dir = out_dir / f"run-{stamp}"
    (run_dir / "var" / "static").mkdir(parents=True, exist_ok=True)
    (run_dir / "flags").mkdir(exist_ok=True)
    # Experiments on the running stack: W0 load runs, and E6's own scaling measurement.
    load_experiments = [experiment for experiment in selected if experiment.kind in ("load", "scaling")]
    results: list[dict[str, Any]] = []
    wall = time.monotonic()
    secret_values = environment.random_secrets()
    from config.settings.outbox import OUTBOX_BATCH_SIZE

    world_env = environment.WorldEnvironment(
        bank_db=BANK_DB, core_db=CORE_DB, redis_db=REDIS_DB, core_port=environment.free_port(),
        batch_size=OUTBOX_BATCH_SIZE, settings_module="resilience.settings", var_dir=run_dir / "var")
    env = {**world_env.child_env(secret_values), "ALLOWED_HOSTS": "127.0.0.1,localhost",
           # The read throttle (per customer) is off like the login one: the load's 10 customers read far more
           # often than a person does, and a 429 there would measure the throttle, not the fault.
           "JWT_ACCESS_TOKEN_MINUTES": "600", "THROTTLE_LOGIN_RATE": "", "THROTTLE_READ_RATE": "",
           "LOG_LEVEL": "WARNING",
           "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
           "EMAIL_FILE_PATH": str(run_dir / "mail"), "RES_FLAG_DIR": str(run_dir / "flags"),
           "CELERY_BEAT_SCHEDULE_FILENAME": str(run_dir / "var" / "celerybeat-schedule")}
    log(f"resilience run {stamp}: {', '.join(experiment.id for experiment in selected)} "
        f"({'quick' if args.quick else 'full'}); databases {BANK_DB}, {CORE_DB}; redis db {REDIS_DB}; out {run_dir}")
    from resilience.run_facts import git_commit, machine_info

    result_path = out_dir / f"resilience-{stamp}{'-quick' if args.quick else ''}.json"
    record: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"), "quick": args.quick,
        "commit": git_commit(),
        "machine": machine_info(), "stack": {
            "web": f"gunicorn gthread {WEB_WORKERS} workers × {WEB_THREADS} threads, keep-alive 30 s",
            "workers": f"celery core -c {CORE_CONCURRENCY}; celery notify,default -c {NOTIFY_CONCURRENCY}; beat",
            "core_mock": "gunicorn gthread 2 × 8 (own process, fault switch on)",
            "w0": {"accounts": CUSTOMERS * ACCOUNTS_PER_CUSTOMER, "rates": W0_RATES_QUICK if args.quick else W0_RATES,
                   "load_tool": "Locust (headless subprocess, FastHttpUser)"}},
        "experiments": results}

    def record_write(*, partial: bool) -> None:
        """Written after every experiment, so an interrupted run keeps what it measured."""
        record["duration_s"] = round(time.monotonic() - wall)
        record["partial"] = partial
        result_path.write_text(json.dumps(record, indent=1, default=str))

    stack_error = ""
    if load_experiments:
        try:
            environment.databases_recreate((BANK_DB, CORE_DB))
        except Exception as exc:  # noqa: BLE001
            stack_error = f"could not start PostgreSQL databases {BANK_DB}/{CORE_DB}: {exc}"
        if not stack_error:
            try:
                environment.django_prepare(env)
                environment.redis_flush(world_env.broker_url)
            except Exception as exc:  # noqa: BLE001
                stack_error = f"could not prepare Django/Redis (migrate, seed_core, flush db {REDIS_DB}): {exc}"
    with Processes(log_dir=run_dir / "logs", env=env) as procs:
        harness = Harness(procs=procs, env=env, world_env=world_env, control_key=secret_values["CORE_MOCK_CONTROL_KEY"],
                          run_dir=run_dir, quick=args.quick)
        try:
            if load_experiments and not stack_error:
                try:
                    harness.core_mock_start()
                    harness.world_seed()
                    # The first run's stack at once (no restart before it when its variant differs from W0's).
                    harness.stack_start(load_experiments[0].variants[0].stack)
                    harness.login_all()
                except ComponentError as exc:
                    stack_error = str(exc)
                    log(f"!! {stack_error}")
            for experiment in load_experiments:
                if stack_error:
                    results.append(experiment_result(experiment, error=stack_error.splitlines()[0]))
                    continue
                runs = []
                try:
                    if experiment.kind == "scaling":
                        from resilience.scaling_run import scaling_run

                        runs.append(scaling_run(harness, quick=args.quick))
                    for variant in experiment.variants if experiment.kind == "load" else ():
                        runs.append(harness.run_load(experiment, variant))
                except ComponentError as exc:
                    log(f"!! {exc}")
                    results.append(experiment_result(experiment, runs=runs, error=str(exc).splitlines()[0]))
                    continue
                except Exception as exc:  # noqa: BLE001 - one broken experiment must not lose the others' results
                    log(f"!! {experiment.id} failed: {traceback.format_exc()}")
                    results.append(experiment_result(experiment, runs=runs,
                                                     error=f"harness error {type(exc).__name__}: {exc}"))
                    continue
                result = experiment_result(experiment, runs=runs)
                results.append(result)
                record_write(partial=True)
                print_verdicts([result])
                sys.stdout.flush()
        finally:
            procs.stop_all()
            if load_experiments and not stack_error:
                environment.redis_flush(world_env.broker_url)
    for experiment in selected:
        if experiment.kind in ("load", "scaling"):
            continue
        if experiment.kind == "todo":
            results.append(experiment_result(experiment))
            continue
        log(f"== {experiment.id}: {experiment.call}")
        results.append(experiment_result(experiment, static=static_run(experiment, quick=args.quick,
                                                                        out_dir=run_dir)))
        record_write(partial=True)
    record_write(partial=False)
    print("\n== verdicts")
    print_verdicts(results)
    print(f"\nresults: {result_path}\nwall time: {record['duration_s']} s")
    failed = [result["id"] for result in results if result["verdict"] != "PASS"]
    if failed:
        print(f"not passed: {', '.join(failed)}")
    # Quick mode is the CI gate: an experiment that could not run, an invariant violation or any failed
    # correctness criterion fails it; timing targets (drain, latency ratios) are reported, not gated, there.
    gate = [result["id"] for result in results if result["verdict"].startswith("NOT RUN")
            or gate_failed(result["criteria"], quick=args.quick)]
    if gate and args.quick:
        print(f"quick gate failed by: {', '.join(gate)}")
    return 1 if gate and args.quick else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every started process was stopped", file=sys.stderr)
        sys.exit(130)
