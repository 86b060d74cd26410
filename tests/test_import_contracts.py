"""The import contracts of pyproject.toml ([tool.importlinter], flows.md §6.3 E7) hold: `make test` enforces them."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept_when_lint_imports_runs():
    # given the contracts in pyproject.toml and the lint-imports of this venv
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), "import-linter is a dev dependency (requirements.lock)"
    # when it checks the whole project
    completed = subprocess.run([str(lint_imports), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    # then every contract is kept
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "0 broken" in completed.stdout
