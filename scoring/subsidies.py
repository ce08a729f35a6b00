"""Subsidy programmes (design §5 as amended in §12, issue 15) and matching one firm against them.

A ``Programme`` is loaded from ``subsidies/*.yaml`` (format 2) by ``scoring.subsidy_loader``.
Matching a firm on an assessment date gives one ``SubsidyMatch`` per programme with one of five
outcomes:

* ``eligible`` — the programme is in force on the date and every condition (region, scope,
  eligibility) is decided from what the firm declared, with nothing left to confirm.
* ``likely`` — everything that can be checked holds, but something cannot be: a condition the
  service has no way to check (an evaluation score, a certification, "no other municipal funds"
  not yet declared), a programme whose ``last_confirmed`` date is more than 12 months before the
  assessment date, an annual call (``status: annual``: this year's application window), or a
  programme whose conditions come from an unverified source. These are the match's ``confirm``
  items ("to confirm").
* ``near`` — only ``result.*`` / ``answers.*`` conditions fail and each failing result condition
  is **within one rung** (0.25) of the firm's value; the failing conditions are the to-do list.
* ``not_eligible`` — a programme outside its validity (past ``valid_until`` never matches), or a
  condition fails that the firm cannot fix by one rung of improvement (a profile fact, a score more
  than one rung away), or a fact is undeclared (``missing_facts`` says which).
* ``to_confirm`` — the conditions hold (or nearly), but whether the programme is in force on the
  date cannot be established (``status: unconfirmed``); no amount is shown.

Estimates use only parameters marked ``verified`` or ``secondary`` and say which; an unverified
parameter gives no amount. An amount from a rate the source gives as a ceiling (``up_to``) or
from a cap alone reads "up to" (``Estimate.ceiling``); only an exact rate gives "about".
Combining programmes (the "up to" total, stacking rules, facts that would unlock programmes, the
per-recommendation coverage) is ``scoring.subsidy_advice``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Literal

from scoring._raw import to_decimal
from scoring.conditions import (
    PROFILE_FIELDS,
    All,
    Condition,
    Facts,
    Leaf,
    Not,
    ResultFacts,
    evaluate,
    iter_leaves,
    value_of,
)
from scoring.facts import DERIVED_FROM, FACTS_BY_NAME, derive_facts
from scoring.ladder import RUNG_LEVELS, round_score, rung_info, within_one_rung
from scoring.models import Answers, Profile, Text

__all__ = [
    "CASH_KINDS",
    "CONFIDENCES",
    "CONFIDENCE_LABELS",
    "CONFIDENCE_NOTES",
    "KINDS",
    "KIND_LABELS",
    "LEVELS",
    "LEVEL_LABELS",
    "NATIONAL_REGION",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "PROFILE_LABELS",
    "RECOMMENDATIONS",
    "SHANGHAI_DISTRICTS",
    "SHANGHAI_REGION",
    "SIZE_CLASSES",
    "STAGE_NAMES",
    "TAX_KINDS",
    "UNKNOWN",
    "Benefit",
    "Confidence",
    "ConfirmItem",
    "ConfirmNote",
    "Estimate",
    "Funding",
    "Kind",
    "Level",
    "Outcome",
    "Param",
    "Programme",
    "Reason",
    "ResultSnapshot",
    "Scope",
    "Source",
    "Stacking",
    "SubsidyMatch",
    "TodoItem",
    "Validity",
    "ValidityCheck",
    "action_text",
    "amount_label",
    "describe_leaf",
    "estimate_benefit",
    "field_label",
    "match_programme",
    "match_subsidies",
    "one_year_after",
    "region_condition",
    "yuan",
]

Level = Literal["national", "municipal", "district"]
Kind = Literal[
    "grant", "voucher", "insurance_compensation", "loan_interest", "lease_subsidy", "award",
    "recognition", "service", "tax_deduction", "tax_credit",
]  # fmt: skip
Confidence = Literal["verified", "secondary", "unverified"]
Outcome = Literal["eligible", "likely", "near", "not_eligible", "to_confirm"]
#: What the conditions alone say (region, scope, eligibility), whatever the date.
Verdict = Literal["met", "near", "not_met"]
ValidityStatus = Literal["dated", "ongoing", "annual", "unconfirmed"]
ValidityState = Literal["in_force", "not_yet", "expired", "unknown"]
#: The catalogue API's word for a programme's validity state on a date.
Window = Literal["open", "upcoming", "closed", "unknown"]

LEVELS: tuple[Level, ...] = ("national", "municipal", "district")
KINDS: tuple[Kind, ...] = (
    "grant", "voucher", "insurance_compensation", "loan_interest", "lease_subsidy", "award",
    "recognition", "service", "tax_deduction", "tax_credit",
)  # fmt: skip
#: Kinds whose amounts are money paid to (or spent for) the firm: they make up the cash total.
CASH_KINDS: frozenset[Kind] = frozenset(
    {"grant", "voucher", "insurance_compensation", "loan_interest", "lease_subsidy", "award"}
)
#: Tax relief: shown per programme, never added to the cash total (a deduction is not cash).
TAX_KINDS: frozenset[Kind] = frozenset({"tax_deduction", "tax_credit"})
CONFIDENCES: tuple[Confidence, ...] = ("verified", "secondary", "unverified")
#: Display order of the outcomes.
OUTCOMES: tuple[Outcome, ...] = ("eligible", "likely", "near", "to_confirm", "not_eligible")
#: The seed paper's ten recommendations (reference/domain.md §5.1).
RECOMMENDATIONS: tuple[str, ...] = tuple(f"R{i}" for i in range(1, 11))
SIZE_CLASSES: tuple[str, ...] = ("micro", "small", "medium", "large")

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

_SIZE_NAMES: Mapping[str, Text] = {
    "micro": Text("微型", "micro"),
    "small": Text("小型", "small"),
    "medium": Text("中型", "medium"),
    "large": Text("大型", "large"),
}

#: Display names of the kinds, levels and outcomes (pages, API, PDF).
KIND_LABELS: Mapping[Kind, Text] = {
    "grant": Text("资金补助", "Grant"),
    "voucher": Text("服务券", "Voucher"),
    "insurance_compensation": Text("保险补偿", "Insurance compensation"),
    "loan_interest": Text("贷款贴息", "Loan interest subsidy"),
    "lease_subsidy": Text("融资租赁补贴", "Leasing subsidy"),
    "award": Text("奖励", "Award"),
    "recognition": Text("认定", "Recognition"),
    "service": Text("服务", "Service"),
    "tax_deduction": Text("税前扣除", "Tax deduction"),
    "tax_credit": Text("税额抵减", "Tax credit"),
}
LEVEL_LABELS: Mapping[Level, Text] = {
    "national": Text("国家级", "National"),
    "municipal": Text("市级", "Municipal"),
    "district": Text("区级", "District"),
}
OUTCOME_LABELS: Mapping[Outcome, Text] = {
    "eligible": Text("符合", "eligible"),
    "likely": Text("很可能符合", "likely"),
    "near": Text("接近符合", "near"),
    "not_eligible": Text("不符合", "not eligible"),
    "to_confirm": Text("待确认", "to confirm"),
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
_DEFAULT_PRECISION = 28  # the decimal module's default context
_HUNDRED = Decimal(100)
_OUTCOME_RANK = {outcome: rank for rank, outcome in enumerate(OUTCOMES)}


# --- the catalogue model --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """The document a programme rests on: who issued it, its 文号 and/or exact title, the year,
    and its official URL where public. ``description`` stands in for a document whose number
    and title were not obtained. ``also`` lists further documents it draws on."""

    issued_by: str
    title: str | None = None
    number: str | None = None
    description: str | None = None
    year: int | None = None
    url: str | None = None
    also: tuple[Source, ...] = ()

    @property
    def document(self) -> str:
        """How the document is cited: 文号《exact title》, whichever of the two is known, or
        the description."""
        if self.number and self.title:
            return f"{self.number}《{self.title}》"
        return self.number or self.title or self.description or ""

    def to_dict(self) -> dict[str, object]:
        return {
            "document": self.document,
            "issued_by": self.issued_by,
            "title": self.title,
            "number": self.number,
            "description": self.description,
            "year": self.year,
            "url": self.url,
            "also": [source.to_dict() for source in self.also],
        }


@dataclass(frozen=True, slots=True)
class Param:
    """A numeric programme parameter and how sure the catalogue is of it. ``up_to`` (a rate
    only): the source gives the rate as a ceiling ("≤ 10 %", "10%以内"), so an amount computed
    from it is a maximum, not what the firm can expect."""

    value: Decimal
    confidence: Confidence
    up_to: bool = False

    @property
    def usable(self) -> bool:
        """Whether an estimate may use it: only verified or secondary parameters (issue 15)."""
        return self.confidence != "unverified"


@dataclass(frozen=True, slots=True, kw_only=True)
class Benefit:
    """What a programme pays: a share of a basis (capped), a fixed amount, or nothing in cash.

    ``rate`` and ``cap_cny`` are a ``Param``, ``UNKNOWN`` (the source does not give it) or
    ``None`` (not part of this programme: no rate, no cap). ``basis`` names a money fact
    (``scoring.facts``); ``years`` multiplies a per-year benefit.
    """

    rate: Param | Literal["unknown"] | None = None
    basis: str | None = None
    years: Param | None = None
    cap_cny: Param | Literal["unknown"] | None = None
    amount_cny: Param | None = None
    note: Text | None = None

    def parameters(self) -> dict[str, Param]:
        """The numeric parameters by name (``rate``, ``years``, ``cap_cny``, ``amount_cny``)."""
        named = {
            "rate": self.rate,
            "years": self.years,
            "cap_cny": self.cap_cny,
            "amount_cny": self.amount_cny,
        }
        return {name: value for name, value in named.items() if isinstance(value, Param)}

    @property
    def rate_up_to(self) -> bool:
        """Whether the rate is a ceiling (``Param.up_to``)."""
        return isinstance(self.rate, Param) and self.rate.up_to

    def to_dict(self, lang: str) -> dict[str, object]:
        years = self.years
        return {
            "rate": _param(self.rate),
            "rate_up_to": self.rate_up_to,
            "basis": self.basis,
            "basis_label": None if self.basis is None else field_label(self.basis, lang),
            "years": None if years is None else int(years.value),
            "cap_cny": _param(self.cap_cny),
            "amount_cny": _param(self.amount_cny),
            "confidence": {name: p.confidence for name, p in self.parameters().items()},
            "note": None if self.note is None else self.note.get(lang),
        }


def _param(value: Param | str | None) -> str | None:
    if isinstance(value, Param):
        return _plain(value.value)
    return value


def one_year_after(day: date) -> date:
    """The same calendar day a year later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


@dataclass(frozen=True, slots=True, kw_only=True)
class Validity:
    """When a programme is in force.

    ``dated``: from ``valid_from`` (if known) to ``valid_until``, both inclusive. ``ongoing``: the
    source sets no end; ``last_confirmed`` is the newest date a cited source shows it in force.
    ``annual``: ongoing, but firms apply only in a window each year's notice sets (an annual
    申报通知 / 申请指南), which the catalogue does not know: in force, with this year's window to
    confirm (the catalogue's window is "unknown"; a match is at best ``likely``).
    ``unconfirmed``: whether it is in force cannot be established (no dates in any source).
    Staleness rule: a ``last_confirmed`` more than 12 months before the assessment date (the
    assessment date is after the same calendar day one year later) makes the programme stale,
    which turns ``eligible`` into ``likely``.
    """

    status: ValidityStatus
    valid_from: date | None = None
    valid_until: date | None = None
    last_confirmed: date | None = None

    def state(self, on: date) -> ValidityState:
        if self.valid_from is not None and on < self.valid_from:
            return "not_yet"
        if self.valid_until is not None and on > self.valid_until:
            return "expired"
        return "unknown" if self.status == "unconfirmed" else "in_force"

    def stale(self, on: date) -> bool:
        return self.last_confirmed is not None and on > one_year_after(self.last_confirmed)

    def check(self, on: date) -> ValidityCheck:
        return ValidityCheck(self, on, self.state(on), self.stale(on))

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
            "last_confirmed": _iso(self.last_confirmed),
        }


@dataclass(frozen=True, slots=True)
class ValidityCheck:
    """A programme's validity on one date, with its explanation."""

    validity: Validity
    on: date
    state: ValidityState
    stale: bool

    def text(self, lang: str) -> str:
        v = self.validity
        start, end, seen = _iso(v.valid_from), _iso(v.valid_until), _iso(v.last_confirmed)
        if self.state == "not_yet":
            zh, en = (
                f"自{start}起施行，评估日尚未生效",
                f"in force from {start}; not yet on {self.on}",
            )
        elif self.state == "expired":
            zh, en = f"已于{end}截止", f"ended on {end}"
        elif self.state == "unknown":
            zh = f"来源未给出有效期，无法确定评估日（{self.on}）是否仍有效"
            en = f"no dates in the sources: whether it is in force on {self.on} is not established"
        elif v.status == "dated":
            zh, en = f"有效期{start or '…'}至{end}", f"in force {start or '…'} – {end}"
        elif v.status == "annual":
            zh = "每年申报" + (f"（自{start}起）" if start else "") + "，本年度申报窗口待确认"
            en = "annual call" + (f" (since {start})" if start else "")
            en += ": this year's window to confirm"
        else:
            zh = "长期执行" + (f"（自{start}起）" if start else "")
            en = "ongoing" + (f" (since {start})" if start else "")
        if seen is not None and self.state in ("in_force", "unknown"):
            zh += f"；最近确认于{seen}"
            en += f"; last confirmed {seen}"
            if self.stale:
                zh += "，已超过12个月"
                en += ", over 12 months ago"
        return en if lang == "en" else zh

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            **self.validity.to_dict(),
            "state": self.state,
            "stale": self.stale,
            "text": self.text(lang),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Who the programme is for, as its text says: size classes, 规上, GB/T 4754 divisions
    (included or excluded), districts, listed status and firm age. Each becomes a condition leaf
    with a generated explanation; ``source`` names the clause that sets the scope."""

    size_classes: tuple[str, ...] = ()
    above_designated_size: bool | None = None
    industries: tuple[str, ...] = ()
    industries_excluded: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    listed: bool | None = None
    min_age_years: int | None = None
    max_age_years: int | None = None
    source: str | None = None

    def leaves(self) -> tuple[Leaf, ...]:
        leaves: list[Leaf] = []
        if self.size_classes:
            leaves.append(_size_leaf(self.size_classes))
        if self.above_designated_size is not None:
            flag = self.above_designated_size
            leaves.append(
                Leaf(
                    "profile.above_designated_size", "eq", flag,
                    Text("规模以上工业企业（年主营业务收入2000万元及以上）",
                         "above designated size (规上: main-business revenue ≥ 20 M CNY)")
                    if flag else
                    Text("规模以下企业", "below designated size (not 规上)"),
                )
            )  # fmt: skip
        if self.industries:
            leaves.append(_division_leaf(self.industries, excluded=False))
        if self.industries_excluded:
            leaves.append(_division_leaf(self.industries_excluded, excluded=True))
        if self.districts:
            names = [SHANGHAI_DISTRICTS[code] for code in self.districts]
            leaves.append(
                Leaf(
                    "profile.district_code", "in", self.districts,
                    Text("企业位于" + "、".join(n.zh for n in names),
                         "the firm is in " + ", ".join(n.en for n in names)),
                )
            )  # fmt: skip
        if self.listed is not None:
            leaves.append(
                Leaf(
                    "profile.listed", "eq", self.listed,
                    Text("上市企业", "a listed company") if self.listed
                    else Text("非上市企业", "not a listed company"),
                )
            )  # fmt: skip
        if self.min_age_years is not None:
            years = self.min_age_years
            leaves.append(
                Leaf(
                    "profile.firm_age_years", "gte", Decimal(years),
                    Text(f"成立满{years}年", f"founded at least {years} years ago"),
                )
            )  # fmt: skip
        if self.max_age_years is not None:
            years = self.max_age_years
            leaves.append(
                Leaf(
                    "profile.firm_age_years", "lte", Decimal(years),
                    Text(f"成立不超过{years}年", f"founded at most {years} years ago"),
                )
            )  # fmt: skip
        return tuple(leaves)

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "size_classes": list(self.size_classes),
            "above_designated_size": self.above_designated_size,
            "industries": list(self.industries),
            "industries_excluded": list(self.industries_excluded),
            "districts": list(self.districts),
            "listed": self.listed,
            "min_age_years": self.min_age_years,
            "max_age_years": self.max_age_years,
            "source": self.source,
            "requirements": [describe_leaf(leaf, lang) for leaf in self.leaves()],
        }


def _division_leaf(codes: tuple[str, ...], *, excluded: bool) -> Leaf:
    zh, en = ("不属于", "is not") if excluded else ("属于", "is")
    return Leaf(
        "profile.industry_code",
        "not_in" if excluded else "in",
        codes,
        Text(
            f"行业{zh}国民经济行业分类大类{'、'.join(codes)}",
            f"industry {en} GB/T 4754 division {', '.join(codes)}",
        ),
    )


def _size_leaf(classes: tuple[str, ...]) -> Leaf:
    if set(classes) == {"micro", "small", "medium"}:
        why = Text("中小微企业", "the firm is an SME (micro, small or medium)")
    else:
        names = [_SIZE_NAMES[name] for name in classes]
        why = Text(
            "企业规模为" + "或".join(n.zh for n in names) + "企业",
            "the firm is " + " or ".join(n.en for n in names),
        )
    return Leaf("profile.size_class", "in", classes, why)


@dataclass(frozen=True, slots=True)
class ConfirmItem:
    """A condition the service cannot check: shown "to confirm". ``unless`` (a condition on
    declared facts) settles it: when it holds, the item is not listed."""

    id: str
    text: Text
    unless: Condition | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stacking:
    """What the programme cannot be combined with: every programme sharing its ``group`` and
    every programme in ``excludes`` (either side naming the other suffices). ``rule`` says it
    in both languages; ``source`` names the clause it comes from."""

    rule: Text
    source: str
    group: str | None = None
    excludes: tuple[str, ...] = ()

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "group": self.group,
            "excludes": list(self.excludes),
            "rule": self.rule.get(lang),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Funding:
    """The roadmap steps a programme pays for: stage ids, and optionally question ids."""

    stages: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()

    def covers(self, stage_id: str, question_id: str | None = None) -> bool:
        """Whether a plan step in ``stage_id`` (changing ``question_id``) is paid for."""
        return stage_id in self.stages or (
            question_id is not None and question_id in self.questions
        )

    def to_dict(self) -> dict[str, object]:
        return {"stages": list(self.stages), "questions": list(self.questions)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Programme:
    """One support programme (one ``subsidies/*.yaml`` file, format 2)."""

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
    validity: Validity
    scope: Scope = field(default_factory=Scope)
    eligibility: Condition | None = None
    to_confirm: tuple[ConfirmItem, ...] = ()
    stacking: Stacking | None = None
    funds: Funding = field(default_factory=Funding)
    recommendations: tuple[str, ...] = ()
    notes: Text | None = None
    content_hash: str = ""

    @property
    def valid_from(self) -> date | None:
        return self.validity.valid_from

    @property
    def valid_until(self) -> date | None:
        return self.validity.valid_until

    def window_status(self, on: date) -> Window:
        """The catalogue's window on ``on``: ``validity.state`` in the catalogue API's words. A
        programme whose validity no source confirms is "unknown" (it was "open": a guess in the
        firm's favour, where matching says "to confirm"), and so is an annual call in force
        (whether this year's application window is open is not known)."""
        state = self.validity.state(on)
        if state == "in_force" and self.validity.status == "annual":
            return "unknown"
        windows: dict[ValidityState, Window] = {
            "in_force": "open", "not_yet": "upcoming", "expired": "closed", "unknown": "unknown"
        }  # fmt: skip
        return windows[state]

    def requirement(self) -> Condition | None:
        """Everything to meet: the region (``region_condition``), the scope, the eligibility."""
        region = region_condition(self.region)
        parts = [
            *([region] if region is not None else []),
            *self.scope.leaves(),
            *([self.eligibility] if self.eligibility is not None else []),
        ]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def excludes(self, other: Programme) -> bool:
        """Whether the two cannot be combined (symmetric)."""
        return self.stacking_with(other) is not None

    def stacking_with(self, other: Programme) -> Stacking | None:
        """The stacking rule that keeps the two apart, or None: this programme's own rule when
        it names ``other`` (or shares its group), else ``other``'s rule naming this one."""
        if other.id == self.id:
            return None
        mine, theirs = self.stacking, other.stacking
        if mine is not None and (
            other.id in mine.excludes
            or (mine.group is not None and theirs is not None and theirs.group == mine.group)
        ):
            return mine
        if theirs is not None and self.id in theirs.excludes:
            return theirs
        return None

    def to_dict(self, lang: str) -> dict[str, object]:
        """The catalogue entry, JSON-able (for ``GET /subsidies``)."""
        return {
            "format": 2,
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
            "last_confirmed": _iso(self.validity.last_confirmed),
            "validity": self.validity.to_dict(),
            "scope": self.scope.to_dict(lang),
            "eligibility": [
                _requirement(leaf, lang, negated=not want)
                for leaf, want in _polarised(self.eligibility, want=True)
            ],
            "to_confirm": [
                {"id": item.id, "text": item.text.get(lang)} for item in self.to_confirm
            ],
            "stacking": None if self.stacking is None else self.stacking.to_dict(lang),
            "funds": self.funds.to_dict(),
            "recommendations": list(self.recommendations),
            "source": self.source.to_dict(),
            "confidence": self.confidence,
            "confidence_note": CONFIDENCE_NOTES[self.confidence].get(lang),
            "notes": None if self.notes is None else self.notes.get(lang),
        }


def _leaves(condition: Condition | None) -> list[Leaf]:
    return [] if condition is None else list(iter_leaves(condition))


def _polarised(condition: Condition | None, *, want: bool) -> list[tuple[Leaf, bool]]:
    """Every leaf with the truth the condition needs of it (False under a ``not``)."""
    if condition is None:
        return []
    if isinstance(condition, Leaf):
        return [(condition, want)]
    if isinstance(condition, Not):
        return _polarised(condition.condition, want=not want)
    return [item for part in condition.conditions for item in _polarised(part, want=want)]


def _requirement(leaf: Leaf, lang: str, *, negated: bool) -> str:
    """The leaf as a requirement; under a ``not`` it reads "it is not the case that …"."""
    text = describe_leaf(leaf, lang)
    if not negated:
        return text
    return f"it is not the case that {text}" if lang == "en" else f"并非{text}"


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
    """One requirement and how the firm stands with it.

    ``missing``: the value is unknown (an undeclared fact, no result); ``out_of_reach``: a
    result condition more than one rung above the firm's score (``current``); ``negated``: the
    leaf sits under a ``not``, so the requirement is that it does not hold.
    """

    leaf: Leaf
    met: bool
    missing: bool = False
    out_of_reach: bool = False
    current: Decimal | None = None
    negated: bool = False

    def requirement(self, lang: str) -> str:
        """The requirement itself ("the firm is in Jinshan District")."""
        return _requirement(self.leaf, lang, negated=self.negated)

    def text(self, lang: str) -> str:
        """The requirement with its verdict ("not met: …", "not declared: …", "met: …")."""
        if self.met:
            prefix = ("满足：", "met: ")
        elif self.missing:
            prefix = ("未填报：", "not declared: ")
        elif self.out_of_reach:
            prefix = ("差距超过一个等级：", "more than one rung away: ")
        else:
            prefix = ("不满足：", "not met: ")
        now = ""
        if self.current is not None:
            shown = round_score(self.current)  # as the score is shown everywhere: half-up
            now = f" (now {shown})" if lang == "en" else f"（当前{shown}）"
        return (prefix[1] if lang == "en" else prefix[0]) + self.requirement(lang) + now

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "field": self.leaf.field,
            "met": self.met,
            "missing": self.missing,
            "out_of_reach": self.out_of_reach,
            "current": None if self.current is None else str(round_score(self.current)),
            "negated": self.negated,
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


@dataclass(frozen=True, slots=True)
class ConfirmNote:
    """One thing to confirm before relying on a match. ``facts``: undeclared facts that would
    settle it if the firm declared them."""

    id: str
    text: Text
    facts: tuple[str, ...] = ()

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text.get(lang),
            "facts": [_fact_dict(name, lang) for name in self.facts],
        }


EstimateKind = Literal[
    "computed", "fixed", "up_to", "depends_on", "unknown", "unverified", "none", "withheld"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """The estimated benefit.

    ``amount_cny`` is set for ``computed``, ``fixed`` and ``up_to``; ``confidence`` is then the
    weakest confidence of the parameters used (verified or secondary). ``ceiling``: the amount
    is a maximum (a cap alone, or a rate the source gives as a ceiling), worded "up to". ``basis``
    names the undeclared money fact of a ``depends_on`` estimate. ``withheld``: validity to
    confirm.
    """

    kind: EstimateKind
    text: Text
    amount_cny: Decimal | None = None
    formula: Text | None = None
    confidence: Confidence | None = None
    basis: str | None = None
    ceiling: bool = False

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "kind": self.kind,
            "amount_cny": None if self.amount_cny is None else str(self.amount_cny),
            "ceiling": self.ceiling,
            "confidence": self.confidence,
            "formula": None if self.formula is None else self.formula.get(lang),
            "text": self.text.get(lang),
            "basis": self.basis,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SubsidyMatch:
    """How one firm stands with one programme on one date."""

    programme: Programme
    on: date
    outcome: Outcome
    verdict: Verdict
    validity: ValidityCheck
    reasons: tuple[Reason, ...]
    todo: tuple[TodoItem, ...] = ()
    confirm: tuple[ConfirmNote, ...] = ()
    missing_facts: tuple[str, ...] = ()
    estimate: Estimate

    def headline(self, lang: str) -> str:
        """One sentence: the outcome and why."""
        return _headline(self).get(lang)

    def to_dict(self, lang: str = "zh") -> dict[str, object]:
        """JSON-able match (format 2): money as decimal strings ("2500000.00"), texts in
        ``lang``. The format-1 keys ``status`` and ``fit`` are gone: ``outcome`` replaces them."""
        programme = self.programme
        return {
            "format": 2,
            "id": programme.id,
            "name": programme.name.get(lang),
            "issuer": programme.issuer.get(lang),
            "level": programme.level,
            "region": programme.region,
            "kind": programme.kind,
            "summary": programme.summary.get(lang),
            "on": self.on.isoformat(),
            "outcome": self.outcome,
            "headline": self.headline(lang),
            "validity": self.validity.to_dict(lang),
            "valid_from": _iso(programme.valid_from),
            "valid_until": _iso(programme.valid_until),
            "last_confirmed": _iso(programme.validity.last_confirmed),
            "reasons": [reason.to_dict(lang) for reason in self.reasons],
            "to_confirm": [note.to_dict(lang) for note in self.confirm],
            "todo": [item.to_dict(lang) for item in self.todo],
            "missing_facts": [_fact_dict(name, lang) for name in self.missing_facts],
            "estimate": self.estimate.to_dict(lang),
            "benefit": programme.benefit.to_dict(lang),
            "stacking": None if programme.stacking is None else programme.stacking.to_dict(lang),
            "funds": programme.funds.to_dict(),
            "recommendations": list(programme.recommendations),
            "source": programme.source.to_dict(),
            "confidence": programme.confidence,
            "confidence_note": CONFIDENCE_NOTES[programme.confidence].get(lang),
            "notes": None if programme.notes is None else programme.notes.get(lang),
        }


def _fact_dict(name: str, lang: str) -> dict[str, object]:
    return {
        "name": name,
        "label": field_label(name, lang),
        "declared_in": "profile" if name in PROFILE_FIELDS else "facts",
    }


def _headline(match: SubsidyMatch) -> Text:
    count = len(match.confirm)
    if match.outcome == "eligible":
        return Text(
            "符合：所有条件均已根据企业填报的信息确认。",
            "Eligible: every condition is decided from what the firm declared.",
        )
    if match.outcome == "likely":
        return Text(
            f"很可能符合：可核对的条件均已满足，另有{count}项待确认。",
            f"Likely: every condition that can be checked holds; {count} to confirm.",
        )
    if match.outcome == "near":
        steps = len(match.todo)
        return Text(
            f"接近符合：只差评估结果或回答中的{steps}项，均在一个等级以内。",
            f"Near: only {steps} result or answer condition(s) fail, each within one rung.",
        )
    if match.outcome == "to_confirm":
        return Text(
            f"待确认：无法确定该政策在评估日（{match.on}）是否仍有效，暂不显示金额。",
            f"To confirm: whether the programme is in force on {match.on} cannot be "
            "established; no amount is shown.",
        )
    state, v = match.validity.state, match.programme.validity
    if state == "expired":
        return Text(
            f"不符合：该政策已于{v.valid_until}截止。", f"Not eligible: ended on {v.valid_until}."
        )
    if state == "not_yet":
        return Text(
            f"不符合：该政策自{v.valid_from}起施行。",
            f"Not eligible: in force from {v.valid_from}.",
        )
    failing = len(match.reasons)
    if all(reason.missing for reason in match.reasons):
        return Text(
            f"按已填报的信息不符合：缺少{failing}项信息，填报后可重新核对。",
            f"Not eligible on what was declared: {failing} fact(s) missing; declare them to "
            "re-check.",
        )
    return Text(
        f"不符合：{failing}项条件不满足。", f"Not eligible: {failing} condition(s) not met."
    )


# --- matching -------------------------------------------------------------------------------


def match_subsidies(
    programmes: Iterable[Programme],
    profile: Profile,
    answers: Answers | None = None,
    result: ResultFacts | None = None,
    *,
    on: date,
) -> list[SubsidyMatch]:
    """Match a firm against every programme on the assessment date ``on``.

    ``profile`` holds the design §6 profile fields and any declared facts (``scoring.facts``);
    derived facts are added here. Sorted by outcome (``OUTCOMES`` order), then programme id.
    """
    facts = Facts(profile=derive_facts(profile, on), answers=answers or {}, result=result)
    matches = [match_programme(programme, facts, on=on) for programme in programmes]
    matches.sort(key=lambda match: (_OUTCOME_RANK[match.outcome], match.programme.id))
    return matches


def match_programme(programme: Programme, facts: Facts, *, on: date) -> SubsidyMatch:
    """Match one programme (``facts.profile`` should already hold derived facts)."""
    validity = programme.validity.check(on)
    requirement = programme.requirement()
    verdict: Verdict = "met"
    reasons: list[Reason] = []
    todo: list[TodoItem] = []
    if requirement is not None:
        verdict, reasons, todo = _judge(requirement, facts)
    confirm = () if verdict == "not_met" else _confirmations(programme, facts, validity)
    outcome = _outcome(verdict, validity, confirm)
    missing = _declarables(
        (reason.leaf.field for reason in reasons if reason.missing and not reason.met),
        facts.profile,
    )
    estimate = (
        _WITHHELD
        if validity.state == "unknown"
        else estimate_benefit(programme.benefit, facts.profile, kind=programme.kind)
    )
    return SubsidyMatch(
        programme=programme,
        on=on,
        outcome=outcome,
        verdict=verdict,
        validity=validity,
        reasons=tuple(reasons),
        todo=tuple(todo),
        confirm=confirm,
        missing_facts=missing,
        estimate=estimate,
    )


def _outcome(
    verdict: Verdict, validity: ValidityCheck, confirm: tuple[ConfirmNote, ...]
) -> Outcome:
    """Validity first (a programme not in force never matches), then the conditions."""
    if validity.state in ("not_yet", "expired") or verdict == "not_met":
        return "not_eligible"
    if validity.state == "unknown":
        return "to_confirm"
    if verdict == "near":
        return "near"
    return "likely" if confirm else "eligible"


def _confirmations(
    programme: Programme, facts: Facts, validity: ValidityCheck
) -> tuple[ConfirmNote, ...]:
    notes: list[ConfirmNote] = []
    if validity.state == "unknown":
        notes.append(
            ConfirmNote(
                "in_force",
                Text(
                    f"该政策在评估日（{validity.on}）是否仍有效",
                    f"whether the programme is in force on {validity.on}",
                ),
            )
        )
    elif validity.stale:
        seen = programme.validity.last_confirmed
        notes.append(
            ConfirmNote(
                "still_in_force",
                Text(
                    f"仍在执行（最近确认于{seen}，已超过12个月）",
                    f"that it is still in force (last confirmed {seen}, over 12 months ago)",
                ),
            )
        )
    if validity.state == "in_force" and programme.validity.status == "annual":
        notes.append(
            ConfirmNote(
                "application_window",
                Text(
                    "本年度申报窗口（每年发布申报通知，以当年通知为准）",
                    "this year's application window (each year's notice sets it; check the "
                    "current notice)",
                ),
            )
        )
    if programme.confidence == "unverified":
        notes.append(
            ConfirmNote(
                "unverified_source",
                Text(
                    "申报条件来自未经核实的资料，请向主管部门确认",
                    "the conditions come from an unverified source; confirm them with the issuer",
                ),
            )
        )
    for item in programme.to_confirm:
        if item.unless is not None and evaluate(item.unless, facts):
            continue
        unknown = (
            leaf.field
            for leaf in _leaves(item.unless)
            if leaf.field.startswith("profile.") and value_of(leaf.field, facts) is None
        )
        notes.append(ConfirmNote(item.id, item.text, _declarables(unknown, facts.profile)))
    return tuple(notes)


def _declarables(fields: Iterable[str], profile: Profile) -> tuple[str, ...]:
    """The facts to declare for these ``profile.*`` paths to be known (a derived fact's inputs
    not yet declared), once each, in order; other paths (no result yet) are not declarable."""
    names: list[str] = []
    for path in fields:
        head, _, name = path.partition(".")
        if head != "profile":
            continue
        inputs = DERIVED_FROM.get(name, (name,))
        names.extend(source for source in inputs if profile.get(source) is None)
    return tuple(dict.fromkeys(names))


def _improvable(leaf: Leaf, facts: Facts) -> bool:
    """Whether one rung of improvement meets a ``result.*`` leaf (``ladder.within_one_rung``:
    a ``gte`` target at most 0.25 above the firm's value, a ``gt`` target less than 0.25
    above). Other operators and a missing result never count (improving cannot meet an upper
    bound)."""
    current = to_decimal(value_of(leaf.field, facts))
    target = to_decimal(leaf.value)
    if current is None or target is None or leaf.op not in ("gte", "gt"):
        return False
    return within_one_rung(current, target, strict=leaf.op == "gt")


def _fixable(leaf: Leaf, facts: Facts, *, want: bool) -> bool:
    """Can the firm make ``leaf`` ``want`` by its answers (any one answer) or by a result
    within one rung?"""
    if leaf.field.startswith("answers."):
        return True
    return leaf.field.startswith("result.") and want and _improvable(leaf, facts)


def _judge(condition: Condition, facts: Facts) -> tuple[Verdict, list[Reason], list[TodoItem]]:
    if evaluate(condition, facts):
        return "met", _met_reasons(condition, facts, {}), []
    todo = _fix(condition, facts, want=True)
    if todo is not None:
        done = {id(item.leaf): item.want for item in todo}
        return "near", _met_reasons(condition, facts, done), todo
    failing = _blocking(condition, facts, want=True)
    return "not_met", [_failing_reason(leaf, want, facts) for leaf, want in failing], []


def _failing_reason(leaf: Leaf, want: bool, facts: Facts) -> Reason:
    value = value_of(leaf.field, facts)
    if value is None:
        return Reason(leaf, False, missing=True, negated=not want)
    if leaf.field.startswith("result."):
        return Reason(leaf, False, out_of_reach=True, current=to_decimal(value), negated=not want)
    return Reason(leaf, False, negated=not want)


def _truth(leaf: Leaf, facts: Facts) -> bool:
    return evaluate(leaf, facts)


def _met_reasons(condition: Condition, facts: Facts, done: Mapping[int, bool]) -> list[Reason]:
    return [
        Reason(leaf, True, negated=not want)
        for leaf, want in _met(condition, facts, want=True, done=done)
    ]


def _value(condition: Condition, facts: Facts, done: Mapping[int, bool]) -> bool:
    """The condition's truth, with the leaves in ``done`` (by identity) taken at the truth
    given there (a near match's to-do items, as if done)."""
    if isinstance(condition, Leaf):
        return done.get(id(condition), _truth(condition, facts))
    if isinstance(condition, Not):
        return not _value(condition.condition, facts, done)
    parts = (_value(part, facts, done) for part in condition.conditions)
    return all(parts) if isinstance(condition, All) else any(parts)


def _met(
    condition: Condition, facts: Facts, *, want: bool, done: Mapping[int, bool]
) -> list[tuple[Leaf, bool]]:
    """The leaves that decide that ``condition`` is ``want`` (with ``done`` taken as done), each
    with the truth it has: every part of an ``all`` that must hold, only the alternatives of an
    ``any`` that hold (the reverse under a ``not``). A leaf of an alternative that does not apply
    decides nothing, even where its own truth happens to fit. A leaf with no value is never
    met: under a ``not`` it lets the ``not`` hold (design §6), but the firm has not said so (a
    to-confirm item asks). To-do leaves are not met either."""
    if _value(condition, facts, done) != want:
        return []
    if isinstance(condition, Leaf):
        if id(condition) in done or value_of(condition.field, facts) is None:
            return []
        return [(condition, want)]
    if isinstance(condition, Not):
        return _met(condition.condition, facts, want=not want, done=done)
    return [
        item for part in condition.conditions for item in _met(part, facts, want=want, done=done)
    ]


def _fix(condition: Condition, facts: Facts, *, want: bool) -> list[TodoItem] | None:
    """The fewest fixable leaves to flip so ``condition`` becomes ``want``; None if a leaf the
    firm cannot fix (a profile fact, a score more than one rung away) would have to change."""
    if isinstance(condition, Leaf):
        if _truth(condition, facts) == want:
            return []
        return [TodoItem(condition, want)] if _fixable(condition, facts, want=want) else None
    if isinstance(condition, Not):
        return _fix(condition.condition, facts, want=not want)
    parts = [_fix(part, facts, want=want) for part in condition.conditions]
    if isinstance(condition, All) == want:  # every part must go the wanted way
        if any(part is None for part in parts):
            return None
        return [item for part in parts if part is not None for item in part]
    options = [part for part in parts if part is not None]
    return min(options, key=len) if options else None


def _blocking(condition: Condition, facts: Facts, *, want: bool) -> list[tuple[Leaf, bool]]:
    """For a firm that does not qualify: the leaves it cannot fix (the cheapest way), each with
    the truth it needs."""
    if isinstance(condition, Leaf):
        if _truth(condition, facts) == want or _fixable(condition, facts, want=want):
            return []
        return [(condition, want)]
    if isinstance(condition, Not):
        return _blocking(condition.condition, facts, want=not want)
    parts = [_blocking(part, facts, want=want) for part in condition.conditions]
    if isinstance(condition, All) == want:
        return [item for part in parts for item in part]
    # an alternative that holds or is fixable blocks nothing: only reached when none is
    return min(parts, key=len)


# --- benefit estimates ----------------------------------------------------------------------

_WITHHELD = Estimate(
    kind="withheld",
    text=Text("政策是否有效待确认，暂不显示金额", "no amount until the programme is confirmed"),
)
#: Short names of the confidence levels (estimates, pages, PDF).
CONFIDENCE_LABELS: Mapping[Confidence, Text] = {
    "verified": Text("参数已核实", "verified parameters"),
    "secondary": Text("参数来自二手资料", "parameters from secondary sources"),
    "unverified": Text("参数未经核实", "unverified parameters"),
}
_PARAM_NAMES: Mapping[str, Text] = {
    "rate": Text("支持比例", "rate"),
    "years": Text("支持年限", "number of years"),
    "cap_cny": Text("支持上限", "cap"),
    "amount_cny": Text("支持金额", "amount"),
}


def _unverified(name: str) -> Estimate:
    label = _PARAM_NAMES[name]
    return Estimate(
        kind="unverified",
        text=Text(f"{label.zh}未经核实，不作估算", f"no estimate: the {label.en} is unverified"),
    )


def _weakest(params: Iterable[Param]) -> Confidence:
    """The weakest confidence among the (usable) parameters an estimate used."""
    return "secondary" if any(p.confidence == "secondary" for p in params) else "verified"


def _labelled(text: Text, confidence: Confidence) -> Text:
    label = CONFIDENCE_LABELS[confidence]
    return Text(f"{text.zh}（{label.zh}）", f"{text.en} ({label.en})")


def _amount_text(amount: Decimal, kind: Kind, note: Text, *, ceiling: bool) -> Text:
    """The amount of a rate × basis: "about" for an exact rate, "up to" for a ceiling rate."""
    money = yuan(amount)
    zh, en = ("最高约", "up to") if ceiling else ("约", "about")
    if kind == "tax_deduction":
        return Text(
            f"可加计扣除{zh}{money}元{note.zh}（减少应纳税所得额，非现金）",
            f"{en} {money} CNY of additional pre-tax deduction{note.en} (reduces taxable "
            "income; not cash)",
        )
    if kind == "tax_credit":
        return Text(
            f"{zh}可抵减应纳税额{money}元{note.zh}",
            f"reduces tax payable by {en} {money} CNY{note.en}",
        )
    return Text(f"{zh}{money}元{note.zh}", f"{en} {money} CNY{note.en}")


def amount_label(amount: Decimal, *, kind: str, ceiling: bool = False) -> Text:
    """An amount in a list of sums (the total's breakdown), worded as the programme's own
    estimate is (:func:`estimate_benefit`): a fixed amount as it is ("60,000元"), a cap alone
    as a maximum ("最高60,000元" / "up to 60,000 CNY"), a rate × basis as an estimate ("约…" /
    "about …", or "最高约…" / "up to …" for a ceiling rate)."""
    money = yuan(amount)
    if kind == "fixed":
        return Text(f"{money}元", f"{money} CNY")
    if kind == "up_to":
        return Text(f"最高{money}元", f"up to {money} CNY")
    zh, en = ("最高约", "up to") if ceiling else ("约", "about")
    return Text(f"{zh}{money}元", f"{en} {money} CNY")


def estimate_benefit(benefit: Benefit, profile: Profile, *, kind: Kind = "grant") -> Estimate:
    """The benefit for a firm that declared ``profile``.

    Only ``verified`` and ``secondary`` parameters are used (an unverified rate, number of
    years or fixed amount gives no estimate; an unverified cap counts as an unknown cap). A
    computed amount is min(rate × basis [× years], cap), rounded half-up to the fen, with its
    formula; the text names the weakest confidence used. Tax kinds say what the amount is. A
    rate the source gives as a ceiling (``up_to``) makes the amount a maximum: "up to X"
    (``ceiling``), the formula naming the maximum rate; an exact rate gives "about X".
    """
    if benefit.amount_cny is not None:
        fixed = benefit.amount_cny
        if not fixed.usable:
            return _unverified("amount_cny")
        amount = _money(fixed.value)
        return Estimate(
            kind="fixed", amount_cny=amount, confidence=fixed.confidence,
            text=_labelled(
                Text(f"{yuan(amount)}元（定额）", f"{yuan(amount)} CNY (fixed amount)"),
                fixed.confidence,
            ),
        )  # fmt: skip
    rate = benefit.rate
    cap = benefit.cap_cny
    if rate is None:
        if isinstance(cap, Param):
            if not cap.usable:
                return _unverified("cap_cny")
            amount = _money(cap.value)
            return Estimate(
                kind="up_to", amount_cny=amount, confidence=cap.confidence, ceiling=True,
                text=_labelled(
                    Text(f"最高{yuan(amount)}元", f"up to {yuan(amount)} CNY"), cap.confidence
                ),
            )  # fmt: skip
        if cap == UNKNOWN:
            return Estimate(
                kind="unknown",
                text=Text("支持金额未公布（未知）", "amount not published (unknown)"),
            )
        return Estimate(kind="none", text=Text("非现金支持", "no cash benefit"))
    if not isinstance(rate, Param):  # UNKNOWN
        return Estimate(
            kind="unknown",
            text=Text("支持比例未公布（未知）", "support rate not published (unknown)"),
        )
    if not rate.usable:
        return _unverified("rate")
    years = benefit.years
    if years is not None and not years.usable:
        return _unverified("years")
    assert benefit.basis is not None  # the loader requires a basis with a numeric rate
    usable_cap = cap if isinstance(cap, Param) and cap.usable else None
    used = [p for p in (rate, years, usable_cap) if p is not None]
    cap_value = None if usable_cap is None else usable_cap.value
    unknown_cap = cap is not None and usable_cap is None
    unverified_cap = isinstance(cap, Param) and not cap.usable
    label = FACTS_BY_NAME[benefit.basis].label
    base = to_decimal(profile.get(benefit.basis))
    pct = f"{_plain(rate.value * _HUNDRED)}%"
    count = None if years is None else int(years.value)
    ceiling = rate.up_to
    if base is None:
        if cap_value is not None:
            cap_zh, cap_en = f"，最高{yuan(cap_value)}元", f", capped at {yuan(cap_value)} CNY"
        elif unknown_cap:
            cap_zh, cap_en = "，上限未知", ", cap unknown"
        else:
            cap_zh = cap_en = ""
        share_zh = f"{pct}以内" if ceiling else pct
        share_en = f"up to {pct}" if ceiling else pct
        per_zh = f"每年{share_zh}、连续{count}年" if count else share_zh
        per_en = f"{share_en} of it a year for {count} years" if count else f"{share_en} of it"
        return Estimate(
            kind="depends_on",
            basis=benefit.basis,
            text=Text(
                f"取决于{label.zh}：按其{per_zh}{cap_zh}",
                f"depends on {_lower_first(label.en)}: {per_en}{cap_en}",
            ),
        )
    gross = rate.value * base * (count or 1)
    term = f"{pct} × {yuan(base)}" + (f" × {count}" if count else "")
    if cap_value is not None:
        amount = _money(min(gross, cap_value))
        formula = f"min({term}, {yuan(cap_value)}) = {yuan(amount)}"
    else:
        amount = _money(gross)
        formula = f"{term} = {yuan(amount)}"
    if unverified_cap:
        note = Text("（上限未经核实，实际可能更低）", " (cap unverified; may be lower)")
    elif unknown_cap:
        note = Text("（上限未知，实际可能更低）", " (cap unknown; may be lower)")
    else:
        note = Text("", "")
    if ceiling:
        note_zh, note_en = f"（{pct}为最高比例）", f" ({pct} is the maximum rate)"
    else:
        note_zh = note_en = ""
    confidence = _weakest(used)
    return Estimate(
        kind="computed",
        amount_cny=amount,
        confidence=confidence,
        ceiling=ceiling,
        formula=Text(f"{formula}元{note.zh}{note_zh}", f"{formula} CNY{note.en}{note_en}"),
        text=_labelled(_amount_text(amount, kind, note, ceiling=ceiling), confidence),
    )


def _lower_first(text: str) -> str:
    """ "Total investment" → "total investment"; "R&D spend" stays."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _money(value: Decimal) -> Decimal:
    """``value`` rounded half-up to the fen, at any size: the context holds every digit of the
    result (the default 28 refuse ¥10^26 and more with ``InvalidOperation``)."""
    digits = max(_DEFAULT_PRECISION, value.adjusted() + 3)
    return value.quantize(_CENT, rounding=ROUND_HALF_UP, context=Context(prec=digits))


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 10.00 → "10", 0.050 → "0.05"."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def yuan(value: Decimal) -> str:
    """Thousands-separated yuan; fen only when not whole: 2,500,000 · 61,728.35."""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{_money(value):,.2f}"


# --- texts for leaves -----------------------------------------------------------------------

#: Each op as written between a field and its value (zh, en), with its spaces: in Chinese a
#: word sits against its neighbours and a symbol is spaced (the house rule, ``scoring.ladder``).
_OPS_TEXT: Mapping[str, tuple[str, str]] = {
    "eq": ("为", " is "),
    "ne": ("不为", " is not "),
    "in": ("属于", " is one of "),
    "not_in": ("不属于", " is none of "),
    "lt": (" < ", " < "),
    "lte": (" ≤ ", " ≤ "),
    "gt": (" > ", " > "),
    "gte": (" ≥ ", " ≥ "),
    "contains": ("包含", " includes "),
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


def field_label(name: str, lang: str) -> str:
    """The label of a profile field or fact (``"rd_spend_cny"`` → "R&D spend last year")."""
    if name in FACTS_BY_NAME:
        return FACTS_BY_NAME[name].label.get(lang)
    if name in PROFILE_LABELS:
        return PROFILE_LABELS[name].get(lang)
    return name


def _field_text(path: str, lang: str) -> str:
    head, _, rest = path.partition(".")
    if head == "profile":
        return field_label(rest, lang)
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
    return f"{_field_text(leaf.field, lang)}{op}{_value_text(leaf.value, lang)}"


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
        # Chinese: no space before a number, one around the symbol (the house rule)
        at = level if leaf.op == "gte" else f" {level}"
        if rest == "rung":
            name = rung_info(value).name if value in RUNG_LEVELS else Text("", "")
            en = f" ({name.en})" if name.en else ""
            zh = f"（{name.zh}）" if name.zh else ""
            return f"reach rung {level}{en}" if lang == "en" else f"达到{at}级{zh}"
        if rest == "overall":
            return f"raise the overall score to {level}" if lang == "en" else f"总体得分提升到{at}"
        stage = rest.removeprefix("stages.")
        name = STAGE_NAMES.get(stage, Text(stage, stage))
        return f"reach {level} in {name.en}" if lang == "en" else f"{name.zh}阶段得分达到{at}"
    return (
        f"make this true: {describe_leaf(leaf, lang)}" if lang == "en"
        else f"需满足：{describe_leaf(leaf, lang)}"
    )  # fmt: skip
