"""The maturity ladder (design §3): rungs 2.75 … 4.00, a quarter apart, and display rounding.

**Rung names** (issue 14) follow the GB/T 39116 (CMMM) level tags the crosswalk maps each rung
to, so they never reuse a stage name (数字化, 自动化 … are stages): 2.75 起步级 Starting, 3.00
规划级 Planning, 3.25 规范级 Standardised, 3.50 集成级 Integrated, 3.75 优化级 Optimised, 4.00
引领级 Leading. A score is always shown as the **zhizao index** ("智造指数3.46"), never bare,
because users who know other 0–5 scales would misread it; ``score_label`` puts the indicative
CMMM/MIIT level next to it.

**Chinese spacing** (the house rule, the report's ``tighten_chinese``): no space between a
Chinese character or full-width mark and another one, a digit, a Latin letter or "%"
("3.25规范级", "工信部L2"); a space stays around a symbol (· → = ≈ × ≥ …) and between Latin
words ("GB/T 39116", "CMMM L2"). Every Chinese phrase scoring writes keeps to it
(tests/scoring/test_chinese_spacing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from scoring.models import Text

__all__ = [
    "CROSSWALK_NOTE",
    "INDEX_NAME",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "RUNG_LEVELS",
    "RUNG_STEP",
    "RUNGS",
    "crosswalk",
    "Crosswalk",
    "index_label",
    "round_score",
    "Rung",
    "rung_above",
    "rung_info",
    "rung_label",
    "score_label",
    "within_one_rung",
]

MIN_LEVEL = Decimal("2.75")
MAX_LEVEL = Decimal("4.00")
RUNG_STEP = Decimal("0.25")
_CENT = Decimal("0.01")

#: Shown wherever the crosswalk is: zhizao never claims a certified level.
CROSSWALK_NOTE = Text(
    zh="仅为参考对照，并非GB/T 39116或工信部评测的认证等级；正式等级以官方评估为准。",
    en="Indicative only: not a certified GB/T 39116 (CMMM) or MIIT level; "
    "only an official assessment gives one.",
)


@dataclass(frozen=True, slots=True)
class Crosswalk:
    """The indicative CMMM (GB/T 39116) and MIIT SME-digital-level equivalents of a rung."""

    cmmm: Text
    miit: Text
    indicative: bool = True

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "indicative": self.indicative,
            "note": CROSSWALK_NOTE.get(lang),
            "cmmm": self.cmmm.get(lang),
            "miit": self.miit.get(lang),
        }


@dataclass(frozen=True, slots=True)
class Rung:
    """One rung of the ladder with its names and indicative crosswalk."""

    level: Decimal
    name: Text
    means: Text
    crosswalk: Crosswalk


RUNGS: tuple[Rung, ...] = (
    Rung(
        Decimal("2.75"),
        Text("起步级", "Starting"),
        Text("纸质记录、手工作业、设备单机运行", "paper records, manual work, isolated machines"),
        Crosswalk(Text("低于L1", "below L1"), Text("低于L1", "below L1")),
    ),
    Rung(
        Decimal("3.00"),
        Text("规划级", "Planning"),
        Text(
            "自动化与信息化孤岛，流程有书面规定",
            "automation and IT islands, processes written down",
        ),
        Crosswalk(Text("L1规划级", "L1 Planning"), Text("L1", "L1")),
    ),
    Rung(
        Decimal("3.25"),
        Text("规范级", "Standardised"),
        Text(
            "核心设备数字化，各职能各有一套系统",
            "core equipment digitized, one system per function",
        ),
        Crosswalk(Text("L2规范级", "L2 Standardised"), Text("L2", "L2")),
    ),
    Rung(
        Decimal("3.50"),
        Text("集成级", "Integrated"),
        Text(
            "设备联网、数据自动采集、系统跨职能集成",
            "machines networked, automatic data capture, systems integrated across functions",
        ),
        Crosswalk(Text("L3集成级", "L3 Integrated"), Text("L3", "L3")),
    ),
    Rung(
        Decimal("3.75"),
        Text("优化级", "Optimised"),
        Text(
            "基于生产数据的分析与模型，能够预测",
            "analytics and models on production data, prediction",
        ),
        Crosswalk(Text("L4优化级", "L4 Optimised"), Text("L4", "L4")),
    ),
    Rung(
        Decimal("4.00"),
        Text("引领级", "Leading"),
        Text(
            "模型驱动自我优化，价值链协同",
            "model-driven self-optimisation, value-chain collaboration",
        ),
        Crosswalk(
            Text("L5引领级", "L5 Leading"), Text("—（工信部评测最高L4）", "— (MIIT stops at L4)")
        ),
    ),
)

RUNG_LEVELS: tuple[Decimal, ...] = tuple(rung.level for rung in RUNGS)
_BY_LEVEL = {rung.level: rung for rung in RUNGS}


def round_score(value: Decimal) -> Decimal:
    """Round a score for display: half-up (away from zero on a tie) to 2 decimal places.

    ``3.245 → 3.25``, ``3.2449… → 3.24``. Only output is rounded; the engine compares exact
    values, so a rounded 3.25 may still sit below the 3.25 rung.
    """
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def rung_info(level: Decimal) -> Rung:
    """The rung at ``level`` (one of ``RUNG_LEVELS``); ``ValueError`` otherwise."""
    try:
        return _BY_LEVEL[level]
    except KeyError:
        raise ValueError(
            f"{level} is not a rung; rungs are {', '.join(map(str, RUNG_LEVELS))}"
        ) from None


def crosswalk(rung: Decimal) -> Crosswalk:
    """The indicative CMMM/MIIT equivalents of ``rung`` (never a certified level)."""
    return rung_info(rung).crosswalk


def rung_above(rung: Decimal) -> Decimal | None:
    """The rung above ``rung`` (None at the top)."""
    higher = [level for level in RUNG_LEVELS if level > rung]
    return higher[0] if higher else None


def within_one_rung(current: Decimal, target: Decimal, *, strict: bool = False) -> bool:
    """Whether one rung of improvement (0.25) takes a score from ``current`` to ``target``.

    The rule: the gap ``target − current`` is at most 0.25 — or, with ``strict`` (a target
    that must be exceeded, ``> target``), less than 0.25. A target already met is within reach.
    Subsidy matching calls a programme ``near`` only under this rule (design §12, issue 15).
    """
    gap = target - current
    return gap < RUNG_STEP if strict else gap <= RUNG_STEP


#: What a score is called wherever it is shown.
INDEX_NAME = Text("智造指数", "zhizao index")


def index_label(value: Decimal | None, lang: str) -> str:
    """``智造指数3.46`` / ``zhizao index 3.46`` (``—`` when nothing could be scored)."""
    if value is None:
        return f"{INDEX_NAME.get(lang)} —"  # a symbol keeps its space in Chinese too
    space = " " if lang == "en" else ""
    return f"{INDEX_NAME.get(lang)}{space}{round_score(value)}"


def rung_label(rung: Decimal, lang: str) -> str:
    """``3.25规范级`` / ``3.25 Standardised``."""
    space = " " if lang == "en" else ""
    return f"{round_score(rung)}{space}{rung_info(rung).name.get(lang)}"


def score_label(overall: Decimal | None, rung: Decimal, lang: str) -> str:
    """The index, the rung and the indicative CMMM/MIIT level in one line.

    ``智造指数3.46 · 3.25规范级（参考：CMMM L2规范级，工信部L2）``
    """
    walk = rung_info(rung).crosswalk
    if lang == "en":
        reference = f"indicative: CMMM {walk.cmmm.en}, MIIT {walk.miit.en}"
        return f"{index_label(overall, lang)} · rung {rung_label(rung, lang)} ({reference})"
    cmmm, miit = walk.cmmm.zh, walk.miit.zh
    # "CMMM L2规范级" (Latin words) but "CMMM低于L1"; "工信部L2" but "工信部 —" (a symbol)
    after_cmmm = " " if cmmm[:1].isascii() else ""
    after_miit = "" if miit[:1].isalnum() else " "
    reference = f"参考：CMMM{after_cmmm}{cmmm}，工信部{after_miit}{miit}"
    return f"{index_label(overall, lang)} · {rung_label(rung, lang)}（{reference}）"
