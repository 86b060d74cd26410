"""docs/configuration.md must list every environment variable the code reads (it cannot rot silently)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# env.str("NAME", ...), env.bool("NAME"...), env.db_url("NAME"...), env_secret("NAME", ...), env("NAME")
ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']|\benv_secret\(\s*["']([A-Z][A-Z0-9_]+)["']""")
SOURCE_DIRS = ("config", "accounts", "transfers", "balance", "auth_app", "outbox", "corebanking_mock")


def _names_read_in_code() -> set[str]:
    names: set[str] = set()
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for match in ENV_READ.finditer(path.read_text(encoding="utf-8")):
                names.add(match.group(1) or match.group(2))
    return names


def test_every_environment_variable_read_in_code_is_documented():
    # given the documentation and every env read in the code
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`",
                                (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")))
    read = _names_read_in_code()
    # then each one is documented
    assert read, "the scan found the settings modules"
    missing = sorted(read - documented)
    assert not missing, f"undocumented environment variables: {missing}"
