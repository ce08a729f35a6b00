"""Every Chinese phrase scoring writes keeps to the house spacing rule (``scoring.ladder``'s
docstring; the report's ``tighten_chinese`` is the same rule as code): no space between a Chinese
character or full-width mark and another one, a digit, a Latin letter or "%"; the spaces
around a symbol (· → = ≈ × ≥) and between Latin words stay.

The phrases are rendered from every template: the ladder's labels, the constant texts of each
module, the roadmap's steps and reasons (for a questionnaire whose own texts are clean, so a
stray space can only be the template's), the subsidy texts (the catalogue matched for the
example firms, every condition op and field, every validity state, every kind of estimate) and
scoring's ``Phrase`` problems as the service says them in Chinese. The questionnaires' and the
catalogue's own words are data, not scoring's templates: they are left out here.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import scoring
from app.kit.errors import say
from app.reports.texts import tighten_chinese
from scoring import Phrase, Questionnaire, score
from scoring.conditions import OPS, Leaf
from scoring.ladder import RUNG_LEVELS, index_label, rung_label, score_label
from scoring.models import Answers, Text
from scoring.roadmap import Holder, WhyNotHigher
from scoring.subsidies import (
    Benefit,
    Param,
    ResultSnapshot,
    Validity,
    action_text,
    describe_leaf,
    estimate_benefit,
)
from scoring.subsidy_advice import subsidy_advice
from scoring.subsidy_loader import load_subsidies
from tests.scoring import subsidy_examples as firms

ROOT = Path(__file__).resolve().parents[2]
D = Decimal

_CHINESE = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def broken(text: str) -> bool:
    """Whether Chinese ``text`` breaks the rule: it has a space ``tighten_chinese`` takes out."""
    return tighten_chinese(text) != text


def check(phrases: Mapping[str, str]) -> None:
    """Every Chinese phrase (name → text) keeps to the rule; the failures are listed by name."""
    chinese = {name: text for name, text in phrases.items() if _CHINESE.search(text)}
    assert chinese, "nothing Chinese was rendered"
    assert {name: text for name, text in chinese.items() if broken(text)} == {}


def strings(value: object, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in ``value`` (a ``to_dict`` result, a ``Text``'s Chinese, a dataclass's
    fields), named by where it sits."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Text):
        yield where, value.zh
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from strings(item, f"{where}[{i}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings(getattr(value, field.name), f"{where}.{field.name}")


def test_the_rule_as_checked() -> None:
    """The checker itself: the stray spaces of the old texts are caught, the kept ones pass."""
    for bad in ("使您停在 3.50 集成级 之下", "智造指数 3.46", "CMMM L2 规范级", "上市企业 为 否"):
        assert broken(bad), bad
    for good in (
        "使您停在3.50集成级之下",
        "智造指数3.46 · 3.25规范级",
        "GB/T 39116",
        "达到 > 3.25级",
    ):
        assert not broken(good), good


@pytest.mark.parametrize("module", ["ladder", "roadmap", "facts", "subsidies", "subsidy_advice"])
def test_constant_texts(module: str) -> None:
    """Module-level texts: rung names and crosswalks, notes, labels, facts and their choices."""
    names = vars(importlib.import_module(f"scoring.{module}"))
    check(
        {
            f"{module}.{name}{where}": text
            for name, value in names.items()
            if not name.startswith("__") and not callable(value)
            for where, text in strings(value)
        }
    )


def test_ladder_labels() -> None:
    labels = {"index none": index_label(None, "zh"), "index": index_label(D("3.4567"), "zh")}
    for level in RUNG_LEVELS:
        labels[f"rung {level}"] = rung_label(level, "zh")
        labels[f"score {level}"] = score_label(D("3.46"), level, "zh")
        labels[f"score none {level}"] = score_label(None, level, "zh")
    check(labels)
    assert labels["index"] == "智造指数3.46" and labels["index none"] == "智造指数 —"
    assert labels["score 3.25"] == "智造指数3.46 · 3.25规范级（参考：CMMM L2规范级，工信部L2）"
    assert labels["score 4.00"].endswith("工信部 —（工信部评测最高L4））")


@pytest.mark.parametrize(
    "answers",
    [
        {"q1": "l300", "q2": "l325", "q3": "l300"},  # only the overall falls short
        {"q1": "l275", "q2": "l350", "q3": "l350", "q4": 15, "q5": ["a"], "q6": ["x"]},
        {"q1": "l300", "q1b": "l325", "q2": "l300", "q3": "l325", "q4": "n/a", "q5": ["none"]},
        {"q1": "l350", "q2": "l350", "q3": "l375", "q4": 45, "q5": ["a", "b"], "q6": ["y"]},
    ],
    ids=["overall", "stage", "na", "high"],
)
def test_roadmap_texts(golden: Questionnaire, answers: Answers) -> None:
    """Steps (from/to in words: options, numbers with a unit and a range, counts), the plan,
    the other ideas and why not higher, as the result stores them."""
    result = score(golden, answers)
    assert result.roadmap is not None and result.roadmap.why_not_higher is not None
    check(dict(strings(result.to_dict("zh"))))


def test_why_not_higher_both_ways_with_and_without_questions() -> None:
    holder = Holder("q", Text("设备联网了吗？", "Networked?"), D(1), D(3), Text("部分", "some"))
    texts = {}
    for short in (True, False):
        for holders in ((holder,), ()):
            why = WhyNotHigher(
                D("3.5"), D("3.3"), "s", Text("数据采集", "Data"), D(3), D("3.25"), short, holders
            )
            texts[f"short={short} holders={len(holders)}"] = why.text("zh")
    check(texts)
    assert texts["short=True holders=1"] == (
        "「数据采集」使您停在3.50集成级之下：该阶段3.00，这一级需要3.25。"
        "拉低「数据采集」的题目：设备联网了吗？3.00（部分）。"
    )


def _leaves() -> Iterator[Leaf]:
    fields: dict[str, object] = {
        "profile.employees": D(120),
        "profile.listed": True,
        "profile.size_class": ("small", "medium"),
        "profile.district_code": "310117",
        "result.overall": D("3.5"),
        "result.rung": D("3.25"),
        "result.stages.automation": D(3),
        "answers.q1": "l300",
    }
    for field, value in fields.items():
        for op in OPS:
            listed = op in ("in", "not_in") and not isinstance(value, tuple)
            yield Leaf(field, op, (value,) if listed else value)


def test_condition_texts() -> None:
    """Every op on every kind of field, as a requirement and as a to-do (both ways)."""
    texts = {}
    for leaf in _leaves():
        texts[f"{leaf.field} {leaf.op}"] = describe_leaf(leaf, "zh")
        texts[f"do {leaf.field} {leaf.op}"] = action_text(leaf, "zh")
        texts[f"undo {leaf.field} {leaf.op}"] = action_text(leaf, "zh", want=False)
    check(texts)
    assert texts["do result.rung gt"] == "达到 > 3.25级（规范级）"
    assert texts["profile.size_class in"] == "企业规模属于small、medium"


def test_validity_texts() -> None:
    day = date(2025, 3, 1)
    validities = [
        Validity(status="dated", valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31)),
        Validity(status="dated", valid_until=date(2024, 12, 31)),
        Validity(status="dated", valid_until=date(2025, 12, 31), last_confirmed=date(2023, 1, 1)),
        Validity(status="ongoing", valid_from=date(2020, 1, 1), last_confirmed=date(2025, 1, 1)),
        Validity(status="annual", valid_from=date(2020, 1, 1)),
        Validity(status="unconfirmed", last_confirmed=date(2023, 1, 1)),
    ]
    check({f"{v.status} {i}": v.check(day).text("zh") for i, v in enumerate(validities)})


def _param(value: str, confidence: str = "verified", *, up_to: bool = False) -> Param:
    return Param(D(value), confidence, up_to)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["grant", "tax_deduction", "tax_credit"])
def test_estimate_texts(kind: str) -> None:
    """Fixed amounts, caps, rates with and without their basis, ceilings, years, notes."""
    rd = {"rd_spend_cny": 2_000_000}
    cases = {
        "fixed": (Benefit(amount_cny=_param("500000")), {}),
        "fixed unverified": (Benefit(amount_cny=_param("500000", "unverified")), {}),
        "cap": (Benefit(cap_cny=_param("300000", "secondary")), {}),
        "cap unknown": (Benefit(cap_cny="unknown"), {}),
        "none": (Benefit(), {}),
        "rate unknown": (Benefit(rate="unknown", cap_cny=_param("5")), {}),
        "depends capped": (
            Benefit(rate=_param("0.1"), basis="rd_spend_cny", cap_cny=_param("500000")),
            {},
        ),
        "depends years ceiling": (
            Benefit(rate=_param("0.1", up_to=True), basis="rd_spend_cny", years=_param("3")),
            {},
        ),
        "depends cap unknown": (
            Benefit(rate=_param("0.8"), basis="diagnosis_cost_cny", cap_cny="unknown"),
            {},
        ),
        "computed": (Benefit(rate=_param("0.1"), basis="rd_spend_cny"), rd),
        "computed capped ceiling": (
            Benefit(rate=_param("0.1", up_to=True), basis="rd_spend_cny", cap_cny=_param("100000")),
            rd,
        ),
        "computed cap unverified": (
            Benefit(
                rate=_param("0.1"), basis="rd_spend_cny", cap_cny=_param("100000", "unverified")
            ),
            rd,
        ),
        "computed cap unknown years": (
            Benefit(rate=_param("0.1"), basis="rd_spend_cny", cap_cny="unknown", years=_param("2")),
            rd,
        ),
    }
    texts = {}
    for name, (benefit, profile) in cases.items():
        estimate = estimate_benefit(benefit, profile, kind=kind)  # type: ignore[arg-type]
        texts.update({f"{name}{where}": text for where, text in strings(estimate)})
    check(texts)


CATALOGUE = load_subsidies(ROOT / "subsidies")
#: Where the catalogue cites a document by its number and title, as the document writes them
#: ("财政部 税务总局公告2023年第43号": the issuing bodies apart): data, quoted.
_CITED = re.compile(r"\.(source|number|document)(\.|$)")


@pytest.mark.parametrize(
    ("profile", "result"),
    [
        (firms.JINSHAN_MICRO, firms.JINSHAN_RESULT),
        (firms.JIADING_AUTO, firms.JIADING_RESULT),
        (firms.PUDONG_ELECTRONICS, firms.PUDONG_RESULT),
        (firms.MINHANG_MACHINE_TOOLS, firms.MINHANG_RESULT),
        (firms.SONGJIANG_PROJECT, firms.SONGJIANG_RESULT),
        ({"district_code": "310117"}, ResultSnapshot(D("2.9"), D("2.75"), {})),
    ],
    ids=["jinshan", "jiading", "pudong", "minhang", "songjiang", "bare"],
)
@pytest.mark.parametrize("on", [firms.ON, date(2028, 6, 1)], ids=["2026", "2028"])
def test_subsidy_advice_texts(profile: dict[str, object], result: object, on: date) -> None:
    """Headlines, reasons, to-dos, confirmations, estimates, totals, conflicts and unlocks of
    the whole catalogue (2028: every dated programme expired, confirmations stale)."""
    advice = subsidy_advice(CATALOGUE, profile, {}, result, on=on)  # type: ignore[arg-type]
    check(
        {where: text for where, text in strings(advice.to_dict("zh")) if not _CITED.search(where)}
    )


def _sample(name: str) -> object:
    """A value for a ``Phrase`` placeholder, as scoring fills it in."""
    samples: dict[str, object] = {
        "option": repr("robot"),
        "options": "robot, agv",
        "type": "str",
        "value": D(150),
        "min": D(0),
        "max": D(100),
        "got": "'many'",
        "choices": "none, basic",
    }
    return samples[name]


def _phrases() -> Iterator[Phrase]:
    """Every ``Phrase`` scoring can raise, filled in (found in its source, as the catalogs'
    extraction finds them)."""
    for path in sorted(Path(scoring.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Phrase":
                template = node.args[0]
                assert isinstance(template, ast.Constant) and isinstance(template.value, str)
                params = {kw.arg: _sample(kw.arg) for kw in node.keywords if kw.arg}
                yield Phrase(template.value, **params)


def test_problem_phrases_said_in_chinese() -> None:
    phrases = list(_phrases())
    assert len(phrases) > 15
    said = {phrase.template: say("zh", phrase) for phrase in phrases}
    assert all(_CHINESE.search(text) for text in said.values()), "a phrase is not translated"
    check(said)
