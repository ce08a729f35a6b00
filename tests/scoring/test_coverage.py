"""docs/questionnaire-coverage.md and the v2 questionnaires agree: every ref a v2 question or
KPI carries is a row of the page, and every row lists exactly the questions that carry it."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from scoring import Questionnaire, load_questionnaire

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "questionnaire-coverage.md"
FULL = load_questionnaire(ROOT / "questionnaires" / "smart-manufacturing-maturity.v2.yaml")
QUICK = load_questionnaire(ROOT / "questionnaires" / "quick-check.v2.yaml")
REF_ROW = re.compile(r"^\| `(?P<ref>[^`]+)` \|")
CMMM_SUBDOMAINS = 20


def carriers(questionnaire: Questionnaire) -> dict[str, set[str]]:
    """ref → the questions (and ``kpi:<id>``) that carry it."""
    found: dict[str, set[str]] = defaultdict(set)
    for question in questionnaire.questions:
        for ref in question.refs:
            found[ref].add(question.id)
    for kpi in questionnaire.kpis:
        for ref in kpi.refs:
            found[ref].add(f"kpi:{kpi.id}")
    return found


def page_rows() -> dict[str, tuple[set[str], set[str]]]:
    """ref → (questions listed for the full questionnaire, for the quick check)."""
    rows: dict[str, tuple[set[str], set[str]]] = {}
    for line in PAGE.read_text("utf-8").splitlines():
        match = REF_ROW.match(line)
        if match is None:
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert match["ref"] not in rows, f"{match['ref']} has two rows"
        rows[match["ref"]] = (
            set(re.findall(r"`([^`]+)`", cells[2])),
            set(re.findall(r"`([^`]+)`", cells[3])),
        )
    return rows


ROWS = page_rows()


@pytest.mark.parametrize("questionnaire", [FULL, QUICK], ids=["full", "quick"])
def test_every_ref_has_a_row(questionnaire: Questionnaire) -> None:
    missing = sorted(set(carriers(questionnaire)) - set(ROWS))
    assert not missing, f"refs without a row in {PAGE.name}: {missing}"


@pytest.mark.parametrize("column, questionnaire", [(0, FULL), (1, QUICK)], ids=["full", "quick"])
def test_every_row_lists_exactly_its_questions(column: int, questionnaire: Questionnaire) -> None:
    actual = carriers(questionnaire)
    wrong = {
        ref: (sorted(listed[column]), sorted(actual.get(ref, set())))
        for ref, listed in ROWS.items()
        if listed[column] != actual.get(ref, set())
    }
    assert not wrong, f"rows of {PAGE.name} that disagree with the file (listed, actual): {wrong}"


def test_all_twenty_cmmm_subdomains_have_a_row() -> None:
    section = PAGE.read_text("utf-8").split("## CMMM")[1].split("Besides the sub-domains")[0]
    subdomains = [line for line in section.splitlines() if REF_ROW.match(line)]
    assert len(subdomains) == CMMM_SUBDOMAINS
