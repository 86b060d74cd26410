"""The report's text figures: number formats and one sentence of measured figures per experiment.
"""
from __future__ import annotations

from typing import Any


def fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def window_of(metrics: dict[str, Any], endpoint: str, window: str) -> dict[str, Any]:
    return ((metrics.get("endpoints") or {}).get(endpoint) or {}).get(window) or {}


def headline(result: dict[str, Any]) -> str:
    """One sentence of measured figures per experiment."""
    metrics = result.get("metrics") or {}
    if result["verdict"].startswith("NOT RUN"):
        return result["verdict"]
    code = result["id"]
    if code in SPECIFIC_HEADLINES:
        return SPECIFIC_HEADLINES[code](metrics)
    if result["kind"] == "static":
        shown = ", ".join(f"{key} = {fmt(value)}" for key, value in list(metrics.items())[:6]
                          if not isinstance(value, (dict, list)))
        return shown or "see notes"
    if code == "E5":
        parts = []
        for name in sorted(metrics):
            run = metrics.get(name) or {}
            if not isinstance(run, dict) or "endpoints" not in run:
                continue
            balance = ((run.get("endpoints") or {}).get("balance") or {})
            transfers = run.get("transfers") or {}
            spike = window_of(run, "spike_application", "fault")
            parts.append(f"run {name}: balance p95 {fmt(window_of(run, 'balance', 'baseline').get('p95'))} → "
                         f"{fmt(window_of(run, 'balance', 'fault').get('p95'))} ms "
                         f"({fmt(balance.get('p95_degradation_pct'))} %), transfer e2e p95 "
                         f"{fmt(transfers.get('e2e_p95_baseline_s'), 2)} → "
                         f"{fmt(transfers.get('e2e_p95_fault_s'), 2)} s, "
                         f"{fmt(spike.get('n'))} spike applications of which "
                         f"{fmt((spike.get('codes') or {}).get('429', 0))} "
                         f"answered 429, peak backlog {fmt((run.get('outbox') or {}).get('max_open'))} rows")
        return "; ".join(parts)
    transfers = metrics.get("transfers") or {}
    common = (f"lost {fmt(transfers.get('lost'))}, doubled {fmt(transfers.get('doubled'))}, conservation delta "
              f"{fmt((metrics.get('money') or {}).get('conservation_delta'))} yen, invariants failed "
              f"{fmt((metrics.get('invariants') or {}).get('failed'))}")
    if code == "E1":
        return (f"during the outage balance {pct(window_of(metrics, 'balance', 'fault').get('availability'))} 2xx, "
                f"transfer POST {pct(window_of(metrics, 'transfer', 'fault').get('availability'))} 2xx; "
                f"{fmt(transfers.get('delayed'))} transfers delayed, their accepted→terminal p50/p95/max "
                f"{fmt(transfers.get('delayed_e2e_s', {}).get('p50'))}/"
                f"{fmt(transfers.get('delayed_e2e_s', {}).get('p95'))}/"
                f"{fmt(transfers.get('delayed_e2e_s', {}).get('max'))} s; backlog peak "
                f"{fmt((metrics.get('outbox') or {}).get('max_open'))} rows, drained "
                f"{fmt((metrics.get('outbox') or {}).get('drain_s'))} s after recovery; {common}")
    if code == "E2":
        return (f"balance p95 {fmt(window_of(metrics, 'balance', 'baseline').get('p95'))} → "
                f"{fmt(window_of(metrics, 'balance', 'fault').get('p95'))} ms, transfer POST p95 "
                f"{fmt(window_of(metrics, 'transfer', 'baseline').get('p95'))} → "
                f"{fmt(window_of(metrics, 'transfer', 'fault').get('p95'))} ms; transfer e2e p95 "
                f"{fmt(transfers.get('e2e_p95_baseline_s'), 2)} → {fmt(transfers.get('e2e_p95_fault_s'), 2)} s; "
                f"failed/compensated {fmt(transfers.get('failed_or_compensated'))}; {common}")
    if code == "E3":
        mails = metrics.get("mails") or {}
        return (f"completions {fmt(transfers.get('completed_per_s_baseline'), 2)}/s before, "
                f"{fmt(transfers.get('completed_per_s_fault'), 2)}/s during the bug; "
                f"{fmt(mails.get('dead_lettered_during_bug'))} mail rows dead-lettered and replayed; completed "
                f"transfers without exactly one mail {fmt(mails.get('completed_without_exactly_one'))}; {common}")
    if code == "E4":
        e4 = metrics.get("e4") or {}
        return (f"{fmt(e4.get('worker_kills'))} core-worker kills; web master kill: restart "
                f"{fmt(e4.get('web_restart_s'))} s, "
                f"whole-application outage {fmt(e4.get('web_outage_s'))} s with {fmt(e4.get('web_failed_requests'))} "
                f"failed requests; database refusing connections {fmt(e4.get('db_block_s'))} s: outage "
                f"{fmt(e4.get('db_outage_s'))} s, {fmt(e4.get('db_failed_requests'))} failed requests; {common}")
    if code == "E4b":
        e4 = metrics.get("e4") or {}
        return (f"one of two instances killed for {fmt(e4.get('instance_down_s'))} s: "
                f"{fmt(e4.get('instance_failed_requests'))} of {fmt(e4.get('instance_requests_in_window'))} requests "
                f"failed ({pct(e4.get('instance_error_rate'))}), outage seconds "
                f"{fmt(e4.get('instance_outage_s'))}; {common}")
    if code == "E9":
        return (f"create_account stopped: balance p95 {fmt(window_of(metrics, 'balance', 'baseline').get('p95'))} → "
                f"{fmt(window_of(metrics, 'balance', 'fault').get('p95'))} ms, transfer completions "
                f"{fmt(transfers.get('completed_per_s_baseline'), 2)} → "
                f"{fmt(transfers.get('completed_per_s_fault'), 2)}/s, "
                f"applications left open after the restart "
                f"{fmt(((metrics.get('drain') or {}).get('left') or {}).get('applications_open'))}; {common}")
    if code == "E11":
        failed = {name: (window_of(metrics, name, 'all').get('n', 0) or 0)
                  - (window_of(metrics, name, 'all').get('ok', 0) or 0)
                  for name in (metrics.get('endpoints') or {})}
        return f"failed requests per endpoint over the whole run {failed}; {common}"
    if code == "E17":
        comp = transfers.get("compensated_e2e_s") or {}
        return (f"{fmt(transfers.get('received'))} transfers: by phase {transfers.get('by_phase')}; compensation "
                f"latency p95 {fmt(comp.get('p95'))} s; {common}")
    if code == "E18":
        dup = metrics.get("duplicates") or {}
        return (f"{fmt(dup.get('transfer_pairs'))} transfer pairs → "
                f"{fmt(dup.get('transfers_created'))} transfers for "
                f"{fmt(dup.get('transfer_keys_accepted'))} keys; "
                f"{fmt(dup.get('confirm_pairs'))} confirm pairs, answers "
                f"{dup.get('confirm_pair_statuses')}; extra create_account rows "
                f"{fmt(dup.get('applications_with_extra_create_rows'))}, extra core customers "
                f"{fmt(dup.get('extra_core_customers'))}; {common}")
    return common


def _e8(metrics: dict[str, Any]) -> str:
    e8 = metrics.get("e8") or {}
    return (f"the v2 swap is {fmt(len(e8.get('change_files') or []))} file(s), +{fmt(e8.get('change_insertions'))} "
            f"−{fmt(e8.get('change_deletions'))} lines, {fmt(e8.get('files_outside_adapter'))} outside the adapter, "
            f"{fmt(e8.get('test_files_changed'))} tests changed; unchanged tests: v1 {fmt(e8.get('v1_passed'))} "
            f"passed, v2 {fmt(e8.get('v2_passed'))} passed / {fmt(e8.get('v2_failed'))} failed, control (wrong "
            f"adapter) {fmt(e8.get('control_failed'))} failed")


def _e12(metrics: dict[str, Any]) -> str:
    e12 = metrics.get("e12") or {}
    windows = [window_of(metrics, name, "all") for name in (metrics.get("endpoints") or {})]
    failed = sum((window.get("n") or 0) - (window.get("ok") or 0) for window in windows)
    transfers = metrics.get("transfers") or {}
    changed = ", ".join(e12.get("release_files_changed") or [])
    return (f"release differing in {fmt(e12.get('release_file_count'))} file ({changed}) rolled out to the notify "
            f"workers in {fmt(e12.get('rollout_s'))} s at t = {fmt(e12.get('released_at_s'))} s; failed requests "
            f"{fmt(failed)}; transfers failed/compensated {fmt(transfers.get('failed_or_compensated'))}, lost "
            f"{fmt(transfers.get('lost'))}; {fmt(e12.get('released_template_mails'))} of "
            f"{fmt(e12.get('mails_after_release'))} mails after the rollout used the new template")


def _e14(metrics: dict[str, Any]) -> str:
    e14 = metrics.get("e14") or {}
    wrong = [f"{probe['kind']} → {probe['diagnosis']['cause']}/{probe['diagnosis']['money']} (truth "
             f"{probe['money']})" for probe in e14.get("detail") or []
             if (probe.get("diagnosis") or {}).get("cause") != probe["kind"]
             or (probe.get("diagnosis") or {}).get("money") != probe.get("money")]
    shown = (f"{fmt(e14.get('determined'))} of {fmt(e14.get('probes'))} injected failures ({e14.get('kinds')}) "
             "explained from the timeline and the log alone")
    return shown + (f"; not explained: {'; '.join(wrong)}" if wrong else "")


# Experiments whose headline does not follow the generic static or load form.
def _e6(metrics: dict[str, Any]) -> str:
    from resilience.report_scaling import e6_headline  # it formats with this module's fmt

    return e6_headline(metrics)


def _e19(metrics: dict[str, Any]) -> str:
    from resilience.report_bulkheads import e19_headline  # imported late: it builds on this module's formats

    return e19_headline(metrics)


SPECIFIC_HEADLINES = {"E6": _e6, "E8": _e8, "E12": _e12, "E14": _e14, "E19": _e19}
