"""docs/requirements.md is the reader's key to the requirement ids cited in the code (issue 16).

The behaviour specifications (flows.md, api.md) live outside the repository, yet comments and docstrings cite them:
requirement ids `R1`…`R40`, invariants `I1`…`I8` (with sub-ids such as `I5.accounts`), experiments `E1`…`E18` (with
sub-runs such as `E4b`) and sections such as `api.md §4.1` or `flows.md §5.10`. These tests keep the key complete:

- every id the Python code cites (in a comment, docstring or string literal) has a row in docs/requirements.md;
- every module path and every `tests/…py::test_…` reference in that page exists;
- the citation patterns themselves are unit-tested on positive and negative examples.

How a citation is recognised (`citations_in`):

- Only comment and string tokens are read (Python's `tokenize`), so names such as `E402` in lint settings or a
  variable called `I18n` are never looked at, and neither is code.
- An id is `R`, `I` or `E` followed by one or two digits, on a word boundary on both sides: `R18`, `E16`; an invariant
  may carry a dotted lowercase part (`I5.accounts`); an experiment may carry one trailing `b` (`E4b`, the second run of
  E4). Longer numbers (`E402`, `E731` lint codes), letters or digits glued on either side (`I18n`, `E2E_RATE`,
  `0xE1`, `CUST-E16A…`), and regular-expression text such as `R\\d` are not ids.
- A section is `§` and a dotted number. Its specification is the nearest `api.md` / `flows.md` named before it in the
  same comment or string (`api.md §2.1, §2.2` are both api.md sections). When the nearest file named before it is
  another document (`docs/operations.md §0`) it is not a specification reference at all. A bare `§5.10` with no file
  named before it must be listed under either specification.
- Ranges (`R31–R37`, `I1–I8`, `api.md §2.3–2.5`, `§6.3–§6.5`) cite every id in between.
"""
from __future__ import annotations

import functools
import io
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "requirements.md"
SPECS = ("api.md", "flows.md")
# Directories that are not the project's own code (virtualenv, runtime data, caches).
SKIPPED_DIRS = {".venv", "var", "node_modules", "__pycache__", ".git", ".hypothesis", ".pytest_cache", "build", "dist"}
# Strings that look like ids but deliberately are not citations, with the reason; (path, id).
NOT_CITATIONS = {
    ("tests/resilience/test_experiments.py", "E99"): "an unknown experiment id, to prove the selector refuses it",
}

_ID = r"(?:R\d{1,2}|I\d(?:\.[a-z][a-z_]*)?|E\d{1,2}b?)"
ID_PATTERN = re.compile(
    rf"(?<![A-Za-z0-9_\\])(?P<first>{_ID})(?:\s*[–—-]\s*(?P<last>{_ID}))?(?![A-Za-z0-9])"
)
_NUMBER = r"\d+(?:\.\d+)*"
SECTION_PATTERN = re.compile(rf"§\s?(?P<first>{_NUMBER})(?:\s*[–—-]\s*§?\s?(?P<last>{_NUMBER}))?(?![\d])")
DOCUMENT_NAME = re.compile(r"(?<![\w/.-])(?:[\w.-]+/)*(?P<name>[\w.-]+\.md)\b")


@dataclass(frozen=True)
class Citation:
    path: str
    line: int
    key: str  # "R18", "I5.accounts", "E4b", "api.md §4.1", "flows.md §5.10", or "§5.10" when no file is named

    def __str__(self) -> str:
        return f"{self.path}:{self.line} cites {self.key}"


def _expand_ids(first: str, last: str | None) -> list[str]:
    """`R31`–`R37` → R31 … R37; a single id, or a range whose ends differ in kind, stays as written."""
    if not last:
        return [first]
    start, end = re.fullmatch(r"([RIE])(\d+)", first), re.fullmatch(r"([RIE])(\d+)", last)
    if not start or not end or start[1] != end[1] or int(start[2]) > int(end[2]):
        return [first, last]
    return [f"{start[1]}{number}" for number in range(int(start[2]), int(end[2]) + 1)]


def _expand_sections(first: str, last: str | None) -> list[str]:
    """`2.3`–`2.5` → 2.3, 2.4, 2.5 (same parent, last part counts up); anything else stays as written."""
    if not last:
        return [first]
    head_first, _, tail_first = first.rpartition(".")
    head_last, _, tail_last = last.rpartition(".")
    if head_first != head_last or int(tail_first) > int(tail_last):
        return [first, last]
    prefix = f"{head_first}." if head_first else ""
    return [f"{prefix}{number}" for number in range(int(tail_first), int(tail_last) + 1)]


def citations_in(text: str) -> list[tuple[int, str]]:
    """(line offset within `text`, key) of every id and section cited in one comment or string."""
    found: list[tuple[int, int, str]] = []  # (position in text, line offset, key), in reading order once sorted
    for match in ID_PATTERN.finditer(text):
        found += [(match.start(), text.count("\n", 0, match.start()), key)
                  for key in _expand_ids(match["first"], match["last"])]
    documents = [(match.start(), match["name"]) for match in DOCUMENT_NAME.finditer(text)]
    for match in SECTION_PATTERN.finditer(text):
        named_before = [name for position, name in documents if position < match.start()]
        document = named_before[-1] if named_before else None
        if document is not None and document not in SPECS:
            continue  # a section of one of the repository's own documents
        for number in _expand_sections(match["first"], match["last"]):
            key = f"{document} §{number}" if document else f"§{number}"
            found.append((match.start(), text.count("\n", 0, match.start()), key))
    found.sort(key=lambda citation: citation[0])  # stable: a range keeps its own order
    return [(line, key) for _, line, key in found]


def python_files() -> list[Path]:
    """The project's Python files, except this one (its strings are examples of what the patterns must find)."""
    this_file = Path(__file__).resolve()
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [name for name in subdirectories if name not in SKIPPED_DIRS and not name.startswith(".")]
        found += [Path(directory) / name for name in files if name.endswith(".py")]
    return sorted(path for path in found if path.resolve() != this_file)


def citations_of_file(path: Path, root: Path = ROOT) -> list[Citation]:
    """Every citation in the comments and string literals of one Python file, with its line number."""
    relative = str(path.relative_to(root))
    source = path.read_text(encoding="utf-8")
    citations = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.COMMENT, tokenize.STRING):
            continue
        for offset, key in citations_in(token.string):
            if (relative, key) not in NOT_CITATIONS:
                citations.append(Citation(relative, token.start[0] + offset, key))
    return citations


@functools.cache
def code_citations() -> tuple[Citation, ...]:
    """Every citation in the project's Python files, in file and line order (read once per test run)."""
    return tuple(citation for path in python_files() for citation in citations_of_file(path))


# --- the page ------------------------------------------------------------------------------------------------------

ROW_KEY = re.compile(rf"^\|\s*(?P<key>(?:(?:api|flows)\.md §{_NUMBER})|{_ID})\s*\|", re.M)


@dataclass(frozen=True)
class DocumentedIds:
    keys: set[str]

    def covers(self, key: str) -> bool:
        if key.startswith("§"):  # bare section: listed under either specification
            return any(f"{spec} {key}" in self.keys for spec in SPECS)
        return key in self.keys


def documented_ids() -> DocumentedIds:
    return DocumentedIds({match["key"] for match in ROW_KEY.finditer(DOC.read_text(encoding="utf-8"))})


def table_rows() -> list[list[str]]:
    """The cells of every id row of the page (`| key | meaning | implemented in | proved by |`)."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if ROW_KEY.match(line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


# --- (a) the page lists every id the code cites ---------------------------------------------------------------------


def test_every_cited_id_is_listed_when_code_cites_it():
    # given every citation in the project's Python files and the ids the page lists
    citations = code_citations()
    documented = documented_ids()
    assert len(citations) > 300, "the scan found the code's citations"
    # when the citations are checked against the page
    missing = [citation for citation in citations if not documented.covers(citation.key)]
    # then none is missing (the first few are named so the writer can find them)
    missing_keys = sorted({citation.key for citation in missing})
    assert not missing, (f"docs/requirements.md does not list {missing_keys}; first citations: "
                         + "; ".join(str(citation) for citation in missing[:10]))


def test_the_page_lists_no_id_the_code_does_not_cite():
    # given the page's rows and the code's citations
    cited = {citation.key for citation in code_citations()}
    cited_bare = {key for key in cited if key.startswith("§")}
    # then every row is cited somewhere (a stale row would send readers after something that no longer exists)
    stale = sorted(key for key in documented_ids().keys
                   if key not in cited and not any(key == f"{spec} {bare}" for spec in SPECS for bare in cited_bare))
    assert not stale, f"rows for ids no Python file cites: {stale}"


def test_a_missing_id_is_reported_with_its_location(tmp_path):
    # given a file citing an id the page does not list
    source = tmp_path / "example.py"
    source.write_text('"""Module."""\n\n# the breaker of R99 opens here\nVALUE = 1\n', encoding="utf-8")
    # when its citations are read
    citations = citations_of_file(source, tmp_path)
    # then the id and its line are found, and the page does not cover it
    assert [(citation.line, citation.key) for citation in citations] == [(3, "R99")]
    assert not documented_ids().covers("R99")
    assert str(citations[0]) == "example.py:3 cites R99"


# --- (b) every module and test the page names exists ----------------------------------------------------------------

MODULE_REFERENCE = re.compile(r"`(?P<path>(?:[\w.-]+/)*[\w.-]+\.py|(?:[\w-]+/)+)(?:::(?P<name>\w+))?`")
# A pytest node id: `tests/…py::test_…`, or `tests/…py::TestCaseClass::test_…` for a method.
TEST_REFERENCE = re.compile(r"`(?P<path>tests/[\w/]+\.py)::(?:(?P<case>[A-Z]\w*)::)?(?P<name>test_\w+)`")


def _defines(path: Path, name: str) -> bool:
    pattern = rf"^\s*(?:async\s+)?def {name}\(|^\s*class {name}\b|^{name}\s*[:=]"
    return bool(re.search(pattern, path.read_text(encoding="utf-8"), re.M))


def test_every_row_names_an_implementation_and_a_test():
    # given the rows of the page
    rows = table_rows()
    assert len(rows) > 100
    # then each has a meaning, at least one module and at least one test
    incomplete = [row[0] for row in rows
                  if len(row) != 4 or not row[1] or not MODULE_REFERENCE.search(row[2])
                  or not TEST_REFERENCE.search(row[3])]
    assert not incomplete, f"rows without a meaning, a module or a test: {incomplete}"


def test_every_referenced_module_exists():
    # given every `path.py`, `path.py::name` and `directory/` the page names
    text = DOC.read_text(encoding="utf-8")
    references = {(match["path"], match["name"]) for match in MODULE_REFERENCE.finditer(text)}
    assert len(references) > 50
    # then the file or directory exists and, when a name is given, defines it
    missing = [f"{path}::{name}" if name else path for path, name in sorted(references, key=str)
               if not (ROOT / path).exists() or (name and not _defines(ROOT / path, name))]
    assert not missing, f"docs/requirements.md names modules that do not exist: {missing}"


def _node_exists(path: str, case: str | None, name: str) -> bool:
    """The file defines the test: at module level, or as a method of `case` (so the node id runs as written)."""
    if not (ROOT / path).is_file():
        return False
    source = (ROOT / path).read_text(encoding="utf-8")
    if case is None:
        return bool(re.search(rf"^(?:async\s+)?def {name}\(", source, re.M))
    body = re.search(rf"^class {case}\b.*?(?=^\S|\Z)", source, re.M | re.S)
    return bool(body and re.search(rf"^\s+(?:async\s+)?def {name}\(", body.group(0), re.M))


def test_every_referenced_test_exists():
    # given every pytest node id (`tests/…py::test_…`, `tests/…py::Case::test_…`) in the page
    references = {(match["path"], match["case"], match["name"])
                  for match in TEST_REFERENCE.finditer(DOC.read_text(encoding="utf-8"))}
    assert len(references) > 50
    # then each one names a test that exists where the node id says (pytest could run it as written)
    missing = ["::".join(part for part in reference if part) for reference in sorted(references, key=str)
               if not _node_exists(*reference)]
    assert not missing, f"docs/requirements.md names tests that do not exist: {missing}"


# --- (c) the citation patterns --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("the breaker (R18) pulls the backlog forward", ["R18"]),
    ("R5: amounts are integer yen", ["R5"]),
    ("invariants I1, I3 and I5.accounts", ["I1", "I3", "I5.accounts"]),
    ("flows.md R31–R34", ["R31", "R32", "R33", "R34"]),
    ("after recovery I1–I8 hold.", ["I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8"]),
    ("E16 internal atomicity; E4b the second run", ["E16", "E4b"]),
    ('chart "E1.png"', ["E1"]),
    ("R20-R23", ["R20", "R21", "R22", "R23"]),
])
def test_id_pattern_finds_ids_when_cited(text, expected):
    # when the ids of the text are read / then they are exactly the cited ones
    assert [key for _, key in citations_in(text)] == expected


@pytest.mark.parametrize("text", [
    "ignore = E402, E731",  # lint codes
    "I18n and L10n",  # words with digits
    "E2E_RATE and CUST-E16A000001",  # letters glued on
    r"re.compile(r'R\d{1,2}')",  # regular-expression text
    "0xE1 and ABCR12",  # hex digits, a longer word
    "HTTP 404, 503; R&D; E-mail",  # status codes and letters without digits
    "R123 E100",  # three-digit numbers
])
def test_id_pattern_ignores_text_when_it_only_looks_like_an_id(text):
    assert citations_in(text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("(api.md §2.1, §2.2, §3.1, flows.md R10)", ["api.md §2.1", "api.md §2.2", "api.md §3.1", "R10"]),
    ("api.md §2.3–2.5", ["api.md §2.3", "api.md §2.4", "api.md §2.5"]),
    ("(api.md §6.2-6.4)", ["api.md §6.2", "api.md §6.3", "api.md §6.4"]),
    ("flows.md §6.3–§6.5: E7", ["flows.md §6.3", "flows.md §6.4", "flows.md §6.5", "E7"]),
    ("stuck (§5.10) and invariants (§5.11 I5, I7)", ["§5.10", "§5.11", "I5", "I7"]),
    ("see flows.md §1.3 and, below, the snapshot (§1.2)", ["flows.md §1.3", "flows.md §1.2"]),
    ("api.md §6 then flows.md §6", ["api.md §6", "flows.md §6"]),
])
def test_section_pattern_resolves_the_specification_when_one_is_named_before(text, expected):
    assert [key for _, key in citations_in(text)] == expected


def test_section_pattern_skips_sections_of_the_repositorys_own_documents():
    # given a section of a document inside the repository
    text = "The convention (docs/operations.md §0 repeats it for writers)"
    # then it is not a specification citation
    assert citations_in(text) == []


def test_citations_are_read_only_from_comments_and_strings(tmp_path):
    # given a file that has id-like names in code and real citations in a comment and a docstring
    source = tmp_path / "module.py"
    source.write_text('"""Relay (flows.md R13).\n\nClaim as in §5.4."""\nR2 = 1\nE16 = R2  # E16 only\n',
                      encoding="utf-8")
    # when its citations are read
    citations = citations_of_file(source, tmp_path)
    # then the names in code are not citations, the comment and docstring ones are, each on its own line
    assert [(citation.line, citation.key) for citation in citations] == [(1, "R13"), (3, "flows.md §5.4"), (5, "E16")]
