"""The README and docs/ as a reader meets them: short, in a newcomer's order, readable without side scrolling, every
relative link landing somewhere, and nothing about who wrote them, where, or who decides."""

import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
README = PROJECT_ROOT / "README.md"
DOCS = PROJECT_ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MAX_README_LINES = 250
MAX_LINE = 160
# [text](target), outside code; targets with a scheme (https:, mailto:) are not files here.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_CODE_SPAN = re.compile(r"`[^`\n]*`")
# Sentences about the people, sessions or machines behind the project, or about who decides.
FORBIDDEN = [
    r"\bproduct owner",
    r"\bmachines? that (wrote|writes|built|ran)\b",
    r"\b(this|these|our) (build |CI |test )?machines?\b",
    r"\b(earlier|previous|another|this|other) sessions?\b(?! token)",
    r"\bwho (wrote|writes|decides|decided|chose)\b",
    r"\b(choice|decision) is (the|our|their) [\w ]+'s\b",
    r"\bdecided by\b",
    r"\btranslated versions?\b",
    r"\bwe (could|did|were|tried|had|decided|chose)\b",
    r"\bthe lead\b",
    r"\b(ai|llm|language model|assistant|claude|chatgpt)\b",
]


def _prose_lines(page: Path) -> list[tuple[int, str]]:
    """(number, line) for every line outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def _anchors(page: Path) -> set[str]:
    """The fragment ids GitHub gives the page's headings: lowercased, punctuation dropped, spaces as hyphens."""
    anchors: set[str] = set()
    for _, line in _prose_lines(page):
        heading = re.match(r"#{1,6} (.+)", line)
        if heading:
            slug = "".join(c for c in heading.group(1).lower() if c.isalnum() or c in " -_").replace(" ", "-")
            candidate, count = slug, 1
            while candidate in anchors:
                candidate, count = f"{slug}-{count}", count + 1
            anchors.add(candidate)
    return anchors


def test_the_readme_fits_in_250_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= MAX_README_LINES


def test_the_readme_follows_a_newcomers_order() -> None:
    headings = [line[3:] for _, line in _prose_lines(README) if line.startswith("## ")]

    assert headings == [
        "Prerequisites",
        "Quick start: the whole API on your laptop",
        "Deploy",
        "Parameters",
        "Test",
        "How it works",
        "More",
        "License",
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(PROJECT_ROOT)))
def test_no_line_is_wider_than_160_characters(page: Path) -> None:
    lines = page.read_text(encoding="utf-8").splitlines()

    assert [number for number, line in enumerate(lines, start=1) if len(line) > MAX_LINE] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(PROJECT_ROOT)))
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    broken = []
    for number, line in _prose_lines(page):
        for target in _LINK.findall(_CODE_SPAN.sub("", line)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, fragment = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists() or (fragment and linked.suffix == ".md" and fragment not in _anchors(linked)):
                broken.append(f"line {number}: {target}")

    assert broken == []


def test_every_docs_page_is_in_the_docs_index_and_the_readme() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    pages = {page.name for page in DOCS.glob("*.md")} - {"README.md"}

    assert {name for name in pages if f"]({name})" not in index} == set()
    assert {name for name in pages if f"](docs/{name})" not in readme} == set()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(PROJECT_ROOT)))
def test_nothing_is_said_about_who_wrote_it_where_or_who_decides(page: Path) -> None:
    found = [
        f"line {number}: {match.group(0)!r}"
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1)
        for pattern in FORBIDDEN
        for match in re.finditer(pattern, line, re.IGNORECASE)
    ]

    assert found == [], "the docs speak about the project and to its users"


@pytest.mark.parametrize(
    "sentence",
    [
        "We could not open AWS's pricing pages from the machine that wrote this.",
        "Read in the page's translated versions.",
        "That choice is the product owner's.",
        "On our CI machines, which reach no image registry.",
        "As an earlier session found, the retry helps.",
    ],
)
def test_the_phrasing_check_catches_sentences_it_was_made_for(sentence: str) -> None:
    assert any(re.search(pattern, sentence, re.IGNORECASE) for pattern in FORBIDDEN)
