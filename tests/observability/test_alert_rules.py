"""The alert rules and the dashboard as files: promtool accepts the rules, each alert the issue asks for
exists with a runbook section in docs/operations.md, and the Grafana dashboard is valid JSON that plots only
families the bank defines (the live test checks them against a real /metrics)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "bank-overview.json"
OPERATIONS = ROOT / "docs" / "operations.md"
REQUIRED_ALERTS = {"BankOutboxBacklogOld", "BankOutboxDeadLetter", "BankCoreCircuitOpen", "BankReconciliationMismatch",
                   "BankInvariantFailure", "BankWebErrorRatio"}
DEFINED_IN = (ROOT / "config" / "observability" / "metrics.py", ROOT / "config" / "observability" / "collectors.py")


def _rules() -> list[dict]:
    # Each rule is a block starting with "- alert:"; a YAML parser is not a dependency of the project.
    rules = []
    for block in re.split(r"\n\s+- alert: ", RULES.read_text())[1:]:
        name = block.split("\n", 1)[0].strip()
        runbook = re.search(r'runbook_url: "([^"]+)"', block)
        rules.append({"alert": name, "runbook": runbook.group(1) if runbook else None, "text": block})
    return rules


@pytest.mark.skipif(not shutil.which("promtool"), reason="needs promtool (Debian's prometheus package; .ci/run "
                                                         "installs it)")
def test_promtool_accepts_the_rules_file():
    result = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_every_required_alert_exists_with_a_runbook_section_in_operations_md():
    rules = _rules()
    assert REQUIRED_ALERTS <= {rule["alert"] for rule in rules}
    operations = OPERATIONS.read_text(encoding="utf-8")
    for rule in rules:
        assert rule["runbook"] and rule["runbook"].startswith("docs/operations.md#"), rule["alert"]
        anchor = rule["runbook"].split("#", 1)[1]
        assert f'<a id="{anchor}"></a>' in operations, f"{rule['alert']}: no section {anchor}"
        assert f"#### {rule['alert']} " in operations, rule["alert"]


def test_the_backlog_alert_uses_the_stuck_detector_threshold():
    (backlog,) = [rule for rule in _rules() if rule["alert"] == "BankOutboxBacklogOld"]
    assert "bank_outbox_oldest_pending_age_seconds) > 60" in backlog["text"]


def test_dashboard_is_valid_json_plotting_only_defined_families():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    defined = set()
    for path in DEFINED_IN:
        defined |= set(re.findall(r'"(bank_[a-z_]+)"', path.read_text(encoding="utf-8")))
    plotted = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\b(bank_[a-z_]+)", target["expr"])}
    suffixes = ("_bucket", "_count", "_sum")
    unknown = {name for name in plotted if name not in defined and not (
        name.endswith(suffixes) and name.rsplit("_", 1)[0] in defined)}
    assert len(dashboard["panels"]) >= 5 and not unknown, unknown
    titles = " ".join(panel["title"].lower() for panel in dashboard["panels"])
    for topic in ("backlog", "delivery", "transfer", "breaker", "http"):
        assert topic in titles, topic
