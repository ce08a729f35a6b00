"""Subsidy programmes (design §5) and matching a firm against them.

A ``Programme`` is loaded from ``subsidies/*.yaml`` by ``scoring.subsidy_loader``. Matching a
firm on a date gives one ``SubsidyMatch`` per programme:

* ``status`` — ``eligible`` | ``near`` | ``ineligible`` for a programme in force on that date,
  ``upcoming`` / ``closed`` otherwise; ``fit`` is the eligible/near/ineligible verdict whatever
  the date (so a closed programme can still say "you would have qualified").
* ``near`` means every failing leaf is on ``result.*`` or ``answers.*``: the firm can get there
  by improving, and those leaves are its to-do list ("reach 3.50 in data collection").
* The programme's region is a requirement too: a district programme needs the firm in that
  district, a municipal one a firm in Shanghai; national ones have none.
* ``estimate`` = min(rate × basis [× years], cap) in CNY when the firm declared the basis,
  with the formula in both languages; otherwise it says what the amount depends on, or that
  the parameter is unknown. Amounts are ``Decimal`` rounded half-up to the fen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from scoring._raw import to_decimal
from scoring.conditions import (
    All,
    Condition,
    Facts,
    Leaf,
    Not,
    ResultFacts,
    evaluate,
)
from scoring.facts import DERIVED_FROM, FACTS_BY_NAME, derive_facts
from scoring.ladder import RUNG_LEVELS, rung_info
from scoring.models import Answers, Profile, Text

__all__ = [
    "CONFIDENCE_NOTES",
    "CONFIDENCES",
    "KINDS",
    "LEVELS",
    "NATIONAL_REGION",
    "PROFILE_LABELS",
    "RECOMMENDATIONS",
    "SHANGHAI_DISTRICTS",
    "SHANGHAI_REGION",
    "STAGE_NAMES",
    "STATUSES",
    "UNKNOWN",
    "Benefit",
    "Confidence",
    "Estimate",
    "Kind",
    "Level",
    "Programme",
    "Reason",
    "ResultSnapshot",
    "Source",
    "Status",
    "SubsidyMatch",
    "TodoItem",
    "action_text",
    "describe_leaf",
    "estimate_benefit",
    "match_programme",
    "match_subsidies",
    "region_condition",
]

Level = Literal["national", "municipal", "district"]
Kind = Literal[
    "grant", "voucher", "insurance_compensation", "loan_interest", "lease_subsidy", "award",
    "recognition", "service",
]  # fmt: skip
Confidence = Literal["verified", "secondary", "unverified"]
Status = Literal["eligible", "near", "ineligible", "upcoming", "closed"]
Fit = Literal["eligible", "near", "ineligible"]

LEVELS: tuple[Level, ...] = ("national", "municipal", "district")
KINDS: tuple[Kind, ...] = (
    "grant", "voucher", "insurance_compensation", "loan_interest", "lease_subsidy", "award",
    "recognition", "service",
)  # fmt: skip
CONFIDENCES: tuple[Confidence, ...] = ("verified", "secondary", "unverified")
STATUSES: tuple[Status, ...] = ("eligible", "near", "upcoming", "ineligible", "closed")
#: The seed paper's ten recommendations (reference/domain.md §5.1).
RECOMMENDATIONS: tuple[str, ...] = tuple(f"R{i}" for i in range(1, 11))

#: A benefit parameter that the sources do not give ("TBD"): shown as unknown, never guessed.
UNKNOWN = "unknown"

#: Region codes (GB/T 2260; "100000" for the whole country as in common adcode tables).
NATIONAL_REGION = "100000"
SHANGHAI_REGION = "310000"
SHANGHAI_DISTRICTS: Mapping[str, Text] = {
    "310101": Text("黄浦区", "Huangpu District"),
    "310104": Text("徐汇区", "Xuhui District"),
    "310105": Text("长宁区", "Changning District"),
    "310106": Text("静安区", "Jing'an District"),
    "310107": Text("普陀区", "Putuo District"),
    "310109": Text("虹口区", "Hongkou District"),
    "310110": Text("杨浦区", "Yangpu District"),
    "310112": Text("闵行区", "Minhang District"),
    "310113": Text("宝山区", "Baoshan District"),
    "310114": Text("嘉定区", "Jiading District"),
    "310115": Text("浦东新区", "Pudong New Area"),
    "310116": Text("金山区", "Jinshan District"),
    "310117": Text("松江区", "Songjiang District"),
    "310118": Text("青浦区", "Qingpu District"),
    "310120": Text("奉贤区", "Fengxian District"),
    "310151": Text("崇明区", "Chongming District"),
}

#: Names of the standard stages, for to-do items ("reach 3.50 in data collection").
STAGE_NAMES: Mapping[str, Text] = {
    "digitization": Text("设备数字化", "digitization"),
    "automation": Text("自动化", "automation"),
    "data_collection": Text("数据采集", "data collection"),
    "cloud_adoption": Text("上云用云", "cloud adoption"),
}

#: Labels of the design §6 profile fields.
PROFILE_LABELS: Mapping[str, Text] = {
    "district_code": Text("所在区", "district"),
    "industry_code": Text("行业（国民经济行业分类大类）", "industry (GB/T 4754 division)"),
    "size_class": Text("企业规模", "size class"),
    "above_designated_size": Text("规模以上工业企业", "above designated size (规上)"),
    "employees": Text("从业人员数", "employees"),
    "annual_revenue_cny": Text("年营业收入（元）", "annual revenue (CNY)"),
}

#: What each confidence level means to the user.
CONFIDENCE_NOTES: Mapping[Confidence, Text] = {
    "verified": Text("参数摘自官方原文。", "Parameters read in the official text."),
    "secondary": Text(
        "参数来自转载或二手资料，申报前请以官方原文为准。",
        "Parameters come from secondary sources; check the official text before applying.",
    ),
    "unverified": Text(
        "参数未经核实，仅供参考，请向主管部门确认。",
        "Parameters are unverified; confirm them with the issuing body.",
    ),
}

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUSES)}


# --- the catalogue model --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where the parameters come from."""

    document: str
    issued_by: str
    year: int | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "document": self.document,
            "issued_by": self.issued_by,
            "year": self.year,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Benefit:
    """What a programme pays: a share of a basis (capped), a fixed amount, or nothing in cash.

    ``rate`` and ``cap_cny`` are a ``Decimal``, ``UNKNOWN`` (the source does not give it) or
    ``None`` (not part of this programme: no rate, no cap). ``basis`` names a money fact
    (``scoring.facts``); ``years`` multiplies a per-year benefit.
    """

    rate: Decimal | Literal["unknown"] | None = None
    basis: str | None = None
    years: int | None = None
    cap_cny: Decimal | Literal["unknown"] | None = None
    amount_cny: Decimal | None = None
    note: Text | None = None

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "rate": _param(self.rate),
            "basis": self.basis,
            "basis_label": None
            if self.basis is None
            else FACTS_BY_NAME[self.basis].label.get(lang),
            "years": self.years,
            "cap_cny": _param(self.cap_cny),
            "amount_cny": None if self.amount_cny is None else _plain(self.amount_cny),
            "note": None if self.note is None else self.note.get(lang),
        }


def _param(value: Decimal | str | None) -> str | None:
    return value if value is None or isinstance(value, str) else _plain(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Programme:
    """One support programme (one ``subsidies/*.yaml`` file)."""

    id: str
    name: Text
    issuer: Text
    level: Level
    region: str
    kind: Kind
    summary: Text
    benefit: Benefit
    source: Source
    confidence: Confidence
    eligibility: Condition | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    recommendations: tuple[str, ...] = ()
    notes: Text | None = None
    content_hash: str = ""

    def window_status(self, on: date) -> Literal["open", "upcoming", "closed"]:
        """Whether the programme is in force on ``on`` (both ends inclusive; None = open-ended)."""
        if self.valid_from is not None and on < self.valid_from:
            return "upcoming"
        if self.valid_until is not None and on > self.valid_until:
            return "closed"
        return "open"

    def requirement(self) -> Condition | None:
        """The full requirement: the region (see ``region_condition``) and the eligibility."""
        region = region_condition(self.region)
        parts = tuple(part for part in (region, self.eligibility) if part is not None)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else All(parts)

    def to_dict(self, lang: str) -> dict[str, object]:
        """The catalogue entry, JSON-able (for ``GET /subsidies``)."""
        return {
            "id": self.id,
            "name": self.name.get(lang),
            "issuer": self.issuer.get(lang),
            "level": self.level,
            "region": self.region,
            "kind": self.kind,
            "summary": self.summary.get(lang),
            "benefit": self.benefit.to_dict(lang),
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
            "recommendations": list(self.recommendations),
            "source": self.source.to_dict(),
            "confidence": self.confidence,
            "confidence_note": CONFIDENCE_NOTES[self.confidence].get(lang),
            "notes": None if self.notes is None else self.notes.get(lang),
        }


def region_condition(region: str) -> Leaf | None:
    """The leaf a programme's region implies: none for national, the district code otherwise."""
    if region in SHANGHAI_DISTRICTS:
        name = SHANGHAI_DISTRICTS[region]
        return Leaf(
            "profile.district_code", "eq", region,
            Text(f"企业位于{name.zh}", f"the firm is in {name.en}"),
        )  # fmt: skip
    if region == SHANGHAI_REGION:
        return Leaf(
            "profile.district_code", "in", tuple(SHANGHAI_DISTRICTS),
            Text("企业位于上海市", "the firm is in Shanghai"),
        )  # fmt: skip
    return None


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# --- results a match can be computed from -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultSnapshot:
    """A stored result's scores (satisfies ``conditions.ResultFacts``): re-match an old result."""

    overall: Decimal | None
    rung: Decimal
    stages: Mapping[str, Decimal] = field(default_factory=dict)


# --- match output ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """One requirement and whether the firm meets it; ``missing`` when the fact is undeclared."""

    leaf: Leaf
    met: bool
    missing: bool = False

    def requirement(self, lang: str) -> str:
        """The requirement itself ("the firm is in Jinshan District")."""
        return describe_leaf(self.leaf, lang)

    def text(self, lang: str) -> str:
        """The requirement with its verdict ("not met: …", "not declared: …", "met: …")."""
        if self.met:
            prefix = ("满足：", "met: ")
        elif self.missing:
            prefix = ("未填报：", "not declared: ")
        else:
            prefix = ("不满足：", "not met: ")
        return (prefix[1] if lang == "en" else prefix[0]) + self.requirement(lang)

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "field": self.leaf.field,
            "met": self.met,
            "missing": self.missing,
            "requirement": self.requirement(lang),
            "text": self.text(lang),
        }


@dataclass(frozen=True, slots=True)
class TodoItem:
    """A failing ``result.*`` / ``answers.*`` leaf of a near match: what to do to qualify.

    ``want`` is the truth the leaf must reach (False for a leaf under a ``not``).
    """

    leaf: Leaf
    want: bool = True

    def text(self, lang: str) -> str:
        return action_text(self.leaf, lang, want=self.want)

    def to_dict(self, lang: str) -> dict[str, object]:
        why = self.leaf.why
        return {
            "field": self.leaf.field,
            "op": self.leaf.op,
            "must_be": self.want,
            "value": _json_value(self.leaf.value),
            "text": self.text(lang),
            "why": None if why is None else why.get(lang),
        }


EstimateKind = Literal["computed", "fixed", "up_to", "depends_on", "unknown", "none"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """The estimated benefit. ``amount_cny`` is set for ``computed``, ``fixed`` and ``up_to``."""

    kind: EstimateKind
    text: Text
    amount_cny: Decimal | None = None
    formula: Text | None = None

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "kind": self.kind,
            "amount_cny": None if self.amount_cny is None else str(self.amount_cny),
            "formula": None if self.formula is None else self.formula.get(lang),
            "text": self.text.get(lang),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SubsidyMatch:
    """How one firm stands with one programme on one date."""

    programme: Programme
    on: date
    status: Status
    fit: Fit
    reasons: tuple[Reason, ...]
    todo: tuple[TodoItem, ...]
    missing_facts: tuple[str, ...]
    estimate: Estimate

    def to_dict(self, lang: str = "zh") -> dict[str, object]:
        """JSON-able match: money as decimal strings ("2500000.00"), texts in ``lang``."""
        programme = self.programme
        return {
            "id": programme.id,
            "name": programme.name.get(lang),
            "issuer": programme.issuer.get(lang),
            "level": programme.level,
            "region": programme.region,
            "kind": programme.kind,
            "summary": programme.summary.get(lang),
            "on": self.on.isoformat(),
            "status": self.status,
            "fit": self.fit,
            "valid_from": _iso(programme.valid_from),
            "valid_until": _iso(programme.valid_until),
            "reasons": [reason.to_dict(lang) for reason in self.reasons],
            "todo": [item.to_dict(lang) for item in self.todo],
            "missing_facts": [
                {"name": name, "label": _field_text("profile." + name, lang)}
                for name in self.missing_facts
            ],
            "estimate": self.estimate.to_dict(lang),
            "recommendations": list(programme.recommendations),
            "source": programme.source.to_dict(),
            "confidence": programme.confidence,
            "confidence_note": CONFIDENCE_NOTES[programme.confidence].get(lang),
            "notes": None if programme.notes is None else programme.notes.get(lang),
        }


# --- matching -------------------------------------------------------------------------------


def match_subsidies(
    programmes: Iterable[Programme],
    profile: Profile,
    answers: Answers | None = None,
    result: ResultFacts | None = None,
    *,
    on: date,
) -> list[SubsidyMatch]:
    """Match a firm against every programme on date ``on``.

    ``profile`` holds the design §6 profile fields and any declared facts (``scoring.facts``);
    derived facts are added here. Sorted by status (eligible, near, upcoming, ineligible,
    closed), then programme id.
    """
    facts = Facts(profile=derive_facts(profile), answers=answers or {}, result=result)
    matches = [match_programme(programme, facts, on=on) for programme in programmes]
    matches.sort(key=lambda match: (_STATUS_RANK[match.status], match.programme.id))
    return matches


def match_programme(programme: Programme, facts: Facts, *, on: date) -> SubsidyMatch:
    """Match one programme (``facts.profile`` should already hold derived facts)."""
    requirement = programme.requirement()
    if requirement is None:
        fit: Fit = "eligible"
        reasons: list[Reason] = []
        todo: list[TodoItem] = []
    else:
        fit, reasons, todo = _judge(requirement, facts)
    window = programme.window_status(on)
    status: Status = fit if window == "open" else window
    missing = tuple(
        dict.fromkeys(
            name
            for reason in reasons
            if reason.missing
            for name in _declarable(reason.leaf.field.removeprefix("profile."), facts.profile)
        )
    )
    return SubsidyMatch(
        programme=programme,
        on=on,
        status=status,
        fit=fit,
        reasons=tuple(reasons),
        todo=tuple(todo),
        missing_facts=missing,
        estimate=estimate_benefit(programme.benefit, facts.profile),
    )


def _declarable(name: str, profile: Profile) -> tuple[str, ...]:
    """What the firm must declare for ``name`` to be known (a derived fact's missing inputs)."""
    if name in DERIVED_FROM:
        return tuple(source for source in DERIVED_FROM[name] if profile.get(source) is None)
    return (name,)


def _improvable(leaf: Leaf) -> bool:
    return leaf.field.startswith(("result.", "answers."))


def _judge(condition: Condition, facts: Facts) -> tuple[Fit, list[Reason], list[TodoItem]]:
    if evaluate(condition, facts):
        return "eligible", [Reason(leaf, True) for leaf in _met(condition, facts, want=True)], []
    todo = _fix(condition, facts, want=True)
    if todo is not None:
        met = [Reason(leaf, True) for leaf in _met(condition, facts, want=True)]
        return "near", met, todo
    failing = _blocking(condition, facts, want=True)
    return "ineligible", [Reason(leaf, False, _is_missing(leaf, facts)) for leaf in failing], []


def _truth(leaf: Leaf, facts: Facts) -> bool:
    return evaluate(leaf, facts)


def _met(condition: Condition, facts: Facts, *, want: bool) -> list[Leaf]:
    """Leaves that already point the way the condition needs."""
    if isinstance(condition, Leaf):
        return [condition] if _truth(condition, facts) == want else []
    if isinstance(condition, Not):
        return _met(condition.condition, facts, want=not want)
    return [leaf for part in condition.conditions for leaf in _met(part, facts, want=want)]


def _fix(condition: Condition, facts: Facts, *, want: bool) -> list[TodoItem] | None:
    """The fewest improvable leaves to flip so ``condition`` becomes ``want``; None if a profile
    leaf would have to change."""
    if isinstance(condition, Leaf):
        if _truth(condition, facts) == want:
            return []
        return [TodoItem(condition, want)] if _improvable(condition) else None
    if isinstance(condition, Not):
        return _fix(condition.condition, facts, want=not want)
    parts = [_fix(part, facts, want=want) for part in condition.conditions]
    if isinstance(condition, All) == want:  # every part must go the wanted way
        if any(part is None for part in parts):
            return None
        return [item for part in parts if part is not None for item in part]
    options = [part for part in parts if part is not None]
    return min(options, key=len) if options else None


def _blocking(condition: Condition, facts: Facts, *, want: bool) -> list[Leaf]:
    """For an ineligible firm: the profile leaves that stand in the way (the cheapest way)."""
    if isinstance(condition, Leaf):
        return [] if _truth(condition, facts) == want or _improvable(condition) else [condition]
    if isinstance(condition, Not):
        return _blocking(condition.condition, facts, want=not want)
    parts = [_blocking(part, facts, want=want) for part in condition.conditions]
    if isinstance(condition, All) == want:
        return [leaf for part in parts for leaf in part]
    # an alternative that already holds blocks nothing, so this is only reached when none holds
    return min(parts, key=len)


def _is_missing(leaf: Leaf, facts: Facts) -> bool:
    return facts.profile.get(leaf.field.removeprefix("profile.")) is None


# --- benefit estimates ----------------------------------------------------------------------


def estimate_benefit(benefit: Benefit, profile: Profile) -> Estimate:
    """The benefit for a firm that declared ``profile`` (see the module docstring)."""
    if benefit.amount_cny is not None:
        amount = _money(benefit.amount_cny)
        return Estimate(
            kind="fixed", amount_cny=amount,
            text=Text(f"{_yuan(amount)}元（定额）", f"{_yuan(amount)} CNY (fixed amount)"),
        )  # fmt: skip
    if benefit.rate is None:
        if isinstance(benefit.cap_cny, Decimal):
            amount = _money(benefit.cap_cny)
            return Estimate(
                kind="up_to", amount_cny=amount,
                text=Text(f"最高{_yuan(amount)}元", f"up to {_yuan(amount)} CNY"),
            )  # fmt: skip
        if benefit.cap_cny == UNKNOWN:
            return Estimate(
                kind="unknown",
                text=Text("支持金额未公布（未知）", "amount not published (unknown)"),
            )
        return Estimate(kind="none", text=Text("非现金支持", "no cash benefit"))
    if isinstance(benefit.rate, str):  # UNKNOWN
        return Estimate(
            kind="unknown",
            text=Text("支持比例未公布（未知）", "support rate not published (unknown)"),
        )
    assert benefit.basis is not None  # the loader requires a basis with a numeric rate
    label = FACTS_BY_NAME[benefit.basis].label
    base = to_decimal(profile.get(benefit.basis))
    rate = benefit.rate
    pct = f"{_plain(rate * _HUNDRED)}%"
    years = benefit.years
    cap = benefit.cap_cny
    if base is None:
        if isinstance(cap, Decimal):
            cap_zh, cap_en = f"，最高{_yuan(cap)}元", f", capped at {_yuan(cap)} CNY"
        elif cap == UNKNOWN:
            cap_zh, cap_en = "，上限未知", ", cap unknown"
        else:
            cap_zh = cap_en = ""
        per_zh = f"每年{pct}、连续{years}年" if years else pct
        per_en = f"{pct} of it a year for {years} years" if years else f"{pct} of it"
        return Estimate(
            kind="depends_on",
            text=Text(
                f"取决于{label.zh}：按其{per_zh}{cap_zh}",
                f"depends on {_lower_first(label.en)}: {per_en}{cap_en}",
            ),
        )
    gross = rate * base * (years or 1)
    term = f"{pct} × {_yuan(base)}" + (f" × {years}" if years else "")
    if isinstance(cap, Decimal):
        amount = _money(min(gross, cap))
        formula = f"min({term}, {_yuan(cap)}) = {_yuan(amount)}"
        capped = Text("", "")
    else:
        amount = _money(gross)
        formula = f"{term} = {_yuan(amount)}"
        capped = (
            Text("（上限未知，实际可能更低）", " (cap unknown; may be lower)")
            if cap == UNKNOWN
            else Text("", "")
        )
    return Estimate(
        kind="computed",
        amount_cny=amount,
        formula=Text(f"{formula}元{capped.zh}", f"{formula} CNY{capped.en}"),
        text=Text(f"约{_yuan(amount)}元{capped.zh}", f"about {_yuan(amount)} CNY{capped.en}"),
    )


def _lower_first(text: str) -> str:
    """ "Total investment" → "total investment"; "R&D spend" stays."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 10.00 → "10", 0.050 → "0.05"."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _yuan(value: Decimal) -> str:
    """Thousands-separated yuan; fen only when not whole: 2,500,000 · 61,728.35."""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{_money(value):,.2f}"


# --- texts for leaves -----------------------------------------------------------------------

_OPS_TEXT: Mapping[str, tuple[str, str]] = {
    "eq": ("为", "is"),
    "ne": ("不为", "is not"),
    "in": ("属于", "is one of"),
    "not_in": ("不属于", "is none of"),
    "lt": ("<", "<"),
    "lte": ("≤", "≤"),
    "gt": (">", ">"),
    "gte": ("≥", "≥"),
    "contains": ("包含", "includes"),
}


def _json_value(value: object) -> object:
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, Decimal):
        return _plain(value)
    return value


def _value_text(value: object, lang: str) -> str:
    if isinstance(value, tuple):
        return (
            "、".join(_value_text(v, lang) for v in value)
            if lang != "en"
            else ", ".join(_value_text(v, lang) for v in value)
        )
    if isinstance(value, bool):
        return ("是" if value else "否") if lang != "en" else ("yes" if value else "no")
    if isinstance(value, Decimal):
        return _plain(value)
    return str(value)


def _field_text(path: str, lang: str) -> str:
    head, _, rest = path.partition(".")
    if head == "profile" and rest in FACTS_BY_NAME:
        return FACTS_BY_NAME[rest].label.get(lang)
    if head == "profile" and rest in PROFILE_LABELS:
        return PROFILE_LABELS[rest].get(lang)
    if head == "result":
        if rest == "overall":
            return "总体得分" if lang != "en" else "overall score"
        if rest == "rung":
            return "成熟度等级" if lang != "en" else "rung"
        stage = rest.removeprefix("stages.")
        name = STAGE_NAMES.get(stage, Text(stage, stage)).get(lang)
        return f"{name}阶段得分" if lang != "en" else f"{name} score"
    return path


def describe_leaf(leaf: Leaf, lang: str) -> str:
    """The leaf's ``why`` if it has one, else a generated ``<field> <op> <value>``."""
    if leaf.why is not None:
        return leaf.why.get(lang)
    op_zh, op_en = _OPS_TEXT[leaf.op]
    op = op_en if lang == "en" else op_zh
    return f"{_field_text(leaf.field, lang)} {op} {_value_text(leaf.value, lang)}"


def action_text(leaf: Leaf, lang: str, *, want: bool = True) -> str:
    """A to-do item for an improvable leaf: "reach 3.50 in data collection"."""
    head, _, rest = leaf.field.partition(".")
    value = leaf.value
    if not want:
        return (
            f"make this false: {describe_leaf(leaf, lang)}" if lang == "en"
            else f"需不再满足：{describe_leaf(leaf, lang)}"
        )  # fmt: skip
    if head == "result" and leaf.op in ("gte", "gt") and isinstance(value, Decimal):
        level = f"{value:.2f}" if leaf.op == "gte" else f"> {value:.2f}"
        if rest == "rung":
            name = rung_info(value).name if value in RUNG_LEVELS else Text("", "")
            en = f" ({name.en})" if name.en else ""
            zh = f"（{name.zh}）" if name.zh else ""
            return f"reach rung {level}{en}" if lang == "en" else f"达到 {level} 级{zh}"
        if rest == "overall":
            return (
                f"raise the overall score to {level}" if lang == "en" else f"总体得分提升到 {level}"
            )
        stage = rest.removeprefix("stages.")
        name = STAGE_NAMES.get(stage, Text(stage, stage))
        return f"reach {level} in {name.en}" if lang == "en" else f"{name.zh}阶段得分达到 {level}"
    return (
        f"make this true: {describe_leaf(leaf, lang)}" if lang == "en"
        else f"需满足：{describe_leaf(leaf, lang)}"
    )  # fmt: skip
