"""The registry of API Gateway assumptions, its e2e tests and docs/api-gateway-assumptions.md stay one list.

tests/e2e/assumptions.py is the source; each id needs exactly one e2e test (by its marker), and the docs page holds
what tests/support/assumption_report.py renders. The summary `make e2e` prints is checked here on hand-made reports,
since no stack is deployed in `make test`.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e import test_api_gateway_assumptions
from tests.e2e.assumptions import ASSUMPTIONS, MODES, Assumption
from tests.support.assumption_report import (
    DOCUMENT,
    MARKER,
    Outcome,
    assumption_outcomes,
    assumption_table,
    linked_tests,
    markdown_reference,
)


def test_ids_are_unique_and_numbered_in_order() -> None:
    assert [assumption.id for assumption in ASSUMPTIONS] == [f"A{n:02d}" for n in range(1, len(ASSUMPTIONS) + 1)]


def test_every_assumption_has_exactly_one_e2e_test_and_every_linked_test_names_one() -> None:
    linked = linked_tests()

    assert {key: len(names) for key, names in linked.items() if len(names) != 1} == {}
    assert set(linked) == {assumption.id for assumption in ASSUMPTIONS}


def test_every_test_in_the_assumption_module_is_linked_to_an_assumption() -> None:
    tests = {name for name in dir(test_api_gateway_assumptions) if name.startswith("test_")}
    linked = {name for names in linked_tests().values() for name in names}

    assert tests == linked


@pytest.mark.parametrize("assumption", ASSUMPTIONS, ids=lambda assumption: assumption.id)
def test_each_assumption_says_what_backs_it(assumption: Assumption) -> None:
    assert assumption.modes
    assert set(assumption.modes) <= set(MODES)
    assert len(assumption.short) <= 60, "the printed table keeps one line per assumption"
    if not (assumption.docs or assumption.localstack):
        assert assumption.unverified, "with no evidence, say what is not verified"
        assert assumption.evidence_kind == "not yet verified"
    for doc in assumption.docs:
        assert doc.url.startswith("https://docs.aws.amazon.com/")
        assert doc.quote
        assert doc.quote.strip() == doc.quote
    for test in assumption.localstack:
        assert re.fullmatch(r"test_apigateway_\w+\.py::(\w+::)?test_\w+(\[\w+\])?", test.test)
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", test.validated)


def test_the_docs_page_is_what_the_registry_generates() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    assert MARKER in text
    generated = text.split(MARKER, 1)[1]
    expected = markdown_reference({key: names[0] for key, names in linked_tests().items()})

    assert generated == f"\n\n{expected}", (
        "docs/api-gateway-assumptions.md is stale: `python -m tests.support.assumption_report --write`"
    )
    for assumption in ASSUMPTIONS:
        assert f"\n### {assumption.id}\n" in generated
        assert f"| [{assumption.id}](#{assumption.id.lower()}) |" in generated


def test_long_evidence_wraps_without_starting_a_markdown_block() -> None:
    """Quotes hold `|`, `-` and numbers: a wrapped line that began with one would turn into a table row or a list."""
    lines = markdown_reference({}).split("\n")
    details = lines[lines.index("## Each assumption, its evidence and its e2e test") :]
    continued = [line.strip() for line in details if line.startswith("  ")]

    assert max(len(line) for line in lines) <= 160
    assert continued
    assert [line for line in continued if re.match(r"[-+*>#|=]|\d+[.)]", line)] == []


# ---- The table `make e2e` prints ----


@dataclass
class _Report:
    """The attributes of a pytest TestReport the summary reads."""

    when: str
    outcome: str
    assumption: str
    longrepr: Any = None
    observed: str | None = None
    user_properties: list[tuple[str, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.user_properties.append(("assumption", self.assumption))
        if self.observed is not None:
            self.user_properties.append(("observed", self.observed))

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    @property
    def skipped(self) -> bool:
        return self.outcome == "skipped"


def test_each_assumption_gets_its_tests_outcome_and_observation() -> None:
    stats: dict[str, list[Any]] = {
        "": [_Report("setup", "passed", "A01"), _Report("teardown", "passed", "A01")],
        "passed": [_Report("call", "passed", "A01", observed="answered after 18.2 s")],
        "failed": [_Report("call", "failed", "A02"), _Report("setup", "failed", "A03")],
        "skipped": [_Report("setup", "skipped", "A04", longrepr=("x.py", 3, "Skipped: concerns IntegrationMode=VTL"))],
        "error": [_Report("teardown", "failed", "A05")],
    }
    stats["passed"].append(_Report("call", "passed", "A05"))

    outcomes = assumption_outcomes(stats)

    assert outcomes == {
        "A01": Outcome("pass", "answered after 18.2 s"),
        "A02": Outcome("FAIL"),
        "A03": Outcome("FAIL: error in setup"),
        "A04": Outcome("skipped: concerns IntegrationMode=VTL"),
        "A05": Outcome("FAIL: error in teardown"),  # a failing teardown outranks the passing call
    }


def test_the_printed_table_has_one_row_per_assumption_with_its_evidence_kind_and_result() -> None:
    lines = assumption_table(ASSUMPTIONS, {"A01": Outcome("pass", "x"), "A02": Outcome("FAIL")})

    assert lines[0].split() == ["id", "assumption", "evidence", "result"]
    assert [line.split()[0] for line in lines[1:]] == [assumption.id for assumption in ASSUMPTIONS]
    assert lines[1].endswith("pass [observed: x]")
    assert ASSUMPTIONS[0].evidence_kind in lines[1]
    assert lines[2].endswith("FAIL")
    assert lines[3].endswith("not run")
