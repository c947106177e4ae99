"""Renders tests/e2e/assumptions.py: the reference part of docs/api-gateway-assumptions.md, and the table of results
`make e2e` prints after its run. The e2e tests are linked to the registry by their `assumption` marker alone.

    python -m tests.support.assumption_report --write    # regenerates the docs page's reference
"""

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.e2e import test_api_gateway_assumptions
from tests.e2e.assumptions import ASSUMPTIONS, Assumption

MARKER = (
    "<!-- Generated from tests/e2e/assumptions.py by `python -m tests.support.assumption_report --write`: "
    "edit there. -->"
)
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "api-gateway-assumptions.md"
ASSUMPTION_MARKER = "assumption"  # pytest's @pytest.mark.assumption("Axx") on an e2e test
_WIDTH = 120
# A line that starts with one of these would start a list, a quote, a heading, a table row or a code fence.
_BLOCK_START = re.compile(r"[-+*>#|=]|\d+[.)]|```|~~~")


def _md(text: str, table_cell: bool = False) -> str:
    """Markdown for `text`: `code spans` stay code, Markdown's characters elsewhere show as written."""
    parts = text.split("`")
    for index in range(0, len(parts), 2):  # outside code spans
        for character in ("\\", "*", "_", "<"):
            parts[index] = parts[index].replace(character, "\\" + character)
    marked = "`".join(parts)
    return marked.replace("|", "\\|") if table_cell else marked  # a table cell ends at any unescaped |


def _wrap(text: str, first: str, indent: str) -> list[str]:
    """`first` + `text` in lines of at most _WIDTH characters (a longer word gets a line of its own), each later line
    starting with `indent` and never with a character that would open a Markdown block."""
    lines: list[list[str]] = [[]]
    for word in text.split():
        prefix = first if len(lines) == 1 else indent
        if lines[-1] and len(prefix) + len(" ".join([*lines[-1], word])) > _WIDTH:
            carried = [word]
            while _BLOCK_START.match(carried[0]) and len(lines[-1]) > 1:
                carried.insert(0, lines[-1].pop())
            lines.append(carried)
        else:
            lines[-1].append(word)
    return [(first if number == 0 else indent) + " ".join(words) for number, words in enumerate(lines)]


def _evidence(assumption: Assumption) -> list[str]:
    items = [f'AWS docs: "{_md(doc.quote)}" ([source]({doc.url}))' for doc in assumption.docs]
    items += [
        f"LocalStack, validated against AWS {test.validated}: `{test.test}`: {_md(test.asserts)}"
        for test in assumption.localstack
    ]
    if assumption.unverified:
        items.append(f"**Not yet verified:** {_md(assumption.unverified)}")
    if assumption.note:
        items.append(f"Note: {_md(assumption.note)}")
    return items


def markdown_reference(tests: Mapping[str, str]) -> str:
    """What follows MARKER in DOCUMENT: a summary table, then each assumption with its evidence and e2e test
    (`tests`: id -> test name). No line is longer than 160 characters."""
    lines = [
        "## Summary",
        "",
        "| Id | Assumption | IntegrationMode | Evidence |",
        "| --- | --- | --- | --- |",
        *(
            f"| [{item.id}](#{item.id.lower()}) | {_md(item.short, table_cell=True)} | {', '.join(item.modes)} "
            f"| {item.evidence_kind} |"
            for item in ASSUMPTIONS
        ),
    ]
    lines += ["", "## Each assumption, its evidence and its e2e test"]
    for assumption in ASSUMPTIONS:
        lines += [
            "",
            f"### {assumption.id}",
            "",
            *_wrap(f"{_md(assumption.claim)} ({', '.join(assumption.modes)})", "", ""),
        ]
        lines.append("")
        for item in _evidence(assumption):
            lines += _wrap(item, "- ", "  ")
        lines += ["", f"e2e test: `{tests.get(assumption.id, '(none)')}`"]
    return "\n".join(lines) + "\n"


def linked_tests(module: ModuleType = test_api_gateway_assumptions) -> dict[str, list[str]]:
    """Each assumption id -> the tests of `module` whose `assumption` marker names it (exactly one, a unit test
    checks)."""
    linked: dict[str, list[str]] = {}
    for name in dir(module):
        function = getattr(module, name)
        if name.startswith("test_") and callable(function):
            for marker in getattr(function, "pytestmark", []):
                if marker.name == ASSUMPTION_MARKER:
                    linked.setdefault(str(marker.args[0]), []).append(name)
    return linked


def write_document() -> None:
    """Replaces what follows MARKER in DOCUMENT with the reference generated from this list."""
    text = DOCUMENT.read_text(encoding="utf-8")
    head = text.split(MARKER, 1)[0]
    generated = markdown_reference({key: names[0] for key, names in linked_tests().items()})
    DOCUMENT.write_text(f"{head}{MARKER}\n\n{generated}", encoding="utf-8")


# ---- The table `make e2e` prints ----


@dataclass(frozen=True)
class Outcome:
    result: str
    observed: str = ""


def assumption_outcomes(stats: dict[str, list[Any]]) -> dict[str, Outcome]:
    """Each assumption id's result: a failure in any phase wins over a skip, a skip over a pass."""
    outcomes: dict[str, Outcome] = {}
    rank = {"pass": 0, "skipped": 1, "FAIL": 2}
    for reports in stats.values():
        for report in reports:
            properties = dict(getattr(report, "user_properties", []))
            assumption = properties.get(ASSUMPTION_MARKER)
            if assumption is None or not hasattr(report, "when"):
                continue
            outcome = _outcome(report, str(properties.get("observed", "")))
            if outcome is None:
                continue
            known = outcomes.get(assumption)
            if known is None or rank[outcome.result.split(":")[0]] >= rank[known.result.split(":")[0]]:
                outcomes[assumption] = outcome
    return outcomes


def _outcome(report: Any, observed: str) -> Outcome | None:
    if report.failed:
        return Outcome("FAIL" if report.when == "call" else f"FAIL: error in {report.when}", observed)
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return Outcome(f"skipped: {reason.removeprefix('Skipped: ')}", observed)
    if report.when == "call":
        return Outcome("pass", observed)
    return None  # a passing setup or teardown says nothing yet


def assumption_table(assumptions: tuple[Assumption, ...], outcomes: dict[str, Outcome]) -> list[str]:
    """Fixed-width rows: id, short claim, evidence kind, result (and what the test observed, if it says)."""
    rows = [("id", "assumption", "evidence", "result")]
    for assumption in assumptions:
        outcome = outcomes.get(assumption.id, Outcome("not run"))
        result = outcome.result + (f" [observed: {outcome.observed}]" if outcome.observed else "")
        rows.append((assumption.id, assumption.short, assumption.evidence_kind, result))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)), row[3]]).rstrip()
        for row in rows
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_document()
    else:
        print(markdown_reference({key: names[0] for key, names in linked_tests().items()}), end="")
