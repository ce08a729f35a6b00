"""Subsidy advice for one firm (issue 15): everything a result page, the API and the PDF show.

``subsidy_advice`` matches a firm against the whole catalogue (``scoring.subsidies``) and adds:

* a **summary**: "checked N programmes: a eligible, b likely, c near, d not eligible, e to
  confirm";
* an **"up to" total** over a non-conflicting set of cash programmes (``best_total``): the
  eligible and likely matches with an amount, combined so that no two exclude each other
  (stacking rules) and the sum is the largest possible; what is left out is named with why;
* the **conflicts** between matches that cannot be combined;
* **unlocks**: which undeclared facts would let which programmes qualify, be priced or have an
  item to confirm settled (the facts form links to them);
* **coverage**: for each of the seed paper's recommendations R1–R10, the programmes that serve it
  for this firm, and what the catalogue records where none is in force (R6, cloud adoption).

``audit_catalogue`` lists programmes that need a maintainer: expired, unconfirmed for over 12
months (or of unknown validity), or without an official URL (``zhizao subsidies audit``).
``funding_for`` finds the programmes that pay for a roadmap step (their ``funds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from scoring.conditions import PROFILE_FIELDS, ResultFacts
from scoring.facts import FACTS
from scoring.models import Answers, Profile, Text
from scoring.subsidies import (
    CASH_KINDS,
    OUTCOME_LABELS,
    OUTCOMES,
    RECOMMENDATIONS,
    TAX_KINDS,
    Outcome,
    Programme,
    SubsidyMatch,
    field_label,
    match_subsidies,
    yuan,
)

__all__ = [
    "CATALOGUE_GAPS",
    "RECOMMENDATION_TITLES",
    "AuditFinding",
    "CashTotal",
    "Conflict",
    "Coverage",
    "FactUnlock",
    "LeftOut",
    "SubsidyAdvice",
    "SubsidySummary",
    "audit_catalogue",
    "best_total",
    "funding_for",
    "subsidy_advice",
]

#: The seed paper's recommendations (reference/domain.md §5.1), as the result names them.
RECOMMENDATION_TITLES: Mapping[str, Text] = {
    "R1": Text(
        "智能制造相关技术改造扶持", "Technical-transformation funds for smart manufacturing"
    ),
    "R2": Text("首台（套）政策", "First-unit (首台套) equipment support"),
    "R3": Text("智能制造应用创新券", "Smart-manufacturing application vouchers"),
    "R4": Text("智能装备贷款与风险分担", "Loans for smart equipment with risk sharing"),
    "R5": Text("智能装备融资租赁补助", "Leasing subsidies for smart equipment"),
    "R6": Text("企业上云", "Cloud adoption"),
    "R7": Text("核心技术研发一次性奖励", "One-off rewards for core-technology R&D"),
    "R8": Text("研发投入相关支持", "Support in proportion to R&D spending"),
    "R9": Text("参与标准制定奖励", "Awards for standard-setting"),
    "R10": Text("政策咨询与诊断服务", "Policy consulting and diagnosis services"),
}

#: What the catalogue records where no programme of a recommendation is in force. Shown with
#: that recommendation in every result; remove an entry when a programme fills the gap.
#: R6: reference/domain.md P16 — Shanghai set cloud targets (400,000 SMEs "上云上平台" by 2025)
#: but no city-level per-firm cloud subsidy was verified.
CATALOGUE_GAPS: Mapping[str, Text] = {
    "R6": Text(
        "目前没有已核实的上海市级企业上云现金补贴：市级规划只设定了上云目标（2025年40万家中小企业"
        "上云上平台），网上流传的“基础补贴最高10万元、30%”等说法没有可靠来源。相关支持见算力券、"
        "数字化转型城市试点和区级诊断补贴。",
        "No verified Shanghai cash subsidy for moving to the cloud is in force: the city plans "
        "only set targets (400,000 SMEs on cloud platforms by 2025), and claims such as 'a basic "
        "subsidy of up to 100,000 CNY or 30 %' found online have no reliable source. Related "
        "support: the compute voucher, the SME digital-transformation pilot and district "
        "diagnosis subsidies.",
    ),
}

_ZERO = Decimal("0.00")
_SHOWN: frozenset[Outcome] = frozenset({"eligible", "likely", "near", "to_confirm"})
_COUNTED: frozenset[Outcome] = frozenset({"eligible", "likely"})


# --- summary --------------------------------------------------------------------------------

#: The order of the summary sentence (the issue's wording).
_SUMMARY_ORDER: tuple[Outcome, ...] = ("eligible", "likely", "near", "not_eligible", "to_confirm")


@dataclass(frozen=True, slots=True)
class SubsidySummary:
    """How many programmes were checked and how many came out each way."""

    checked: int
    counts: Mapping[Outcome, int]

    def text(self, lang: str) -> str:
        if lang == "en":
            parts = [f"{self.counts[o]} {OUTCOME_LABELS[o].en}" for o in _SUMMARY_ORDER]
            return f"Checked {self.checked} programmes: " + ", ".join(parts) + "."
        parts = [f"{self.counts[o]}个{OUTCOME_LABELS[o].zh}" for o in _SUMMARY_ORDER]
        return f"已核对{self.checked}个项目：" + "、".join(parts) + "。"

    def to_dict(self, lang: str) -> dict[str, object]:
        counts: dict[str, object] = {outcome: self.counts[outcome] for outcome in OUTCOMES}
        return {"checked": self.checked, **counts, "text": self.text(lang)}


def _summary(matches: Sequence[SubsidyMatch]) -> SubsidySummary:
    counts = dict.fromkeys(OUTCOMES, 0)
    for match in matches:
        counts[match.outcome] += 1
    return SubsidySummary(len(matches), counts)


# --- the non-conflicting "up to" total -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A programme the total does not add, and why."""

    programme_id: str
    name: Text
    reason: Text

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "id": self.programme_id,
            "name": self.name.get(lang),
            "reason": self.reason.get(lang),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CashTotal:
    """ "Up to ¥X": the largest sum of amounts over eligible and likely cash programmes of which
    no two exclude each other. ``confirmed_cny`` is the part from ``eligible`` matches; the rest
    depends on items to confirm."""

    amount_cny: Decimal
    confirmed_cny: Decimal
    included: tuple[SubsidyMatch, ...]
    left_out: tuple[LeftOut, ...]

    def text(self, lang: str) -> str:
        if not self.included:
            return "暂无可合计的金额" if lang != "en" else "No amount can be totalled yet"
        total, pending = yuan(self.amount_cny), yuan(self.amount_cny - self.confirmed_cny)
        count = len(self.included)
        if lang == "en":
            text = f"Up to {total} CNY from {count} programme(s) that can be combined"
            if self.confirmed_cny != self.amount_cny:
                text += f"; {pending} CNY of it depends on items to confirm"
            return text
        text = f"合计最高约{total}元（{count}项可同时享受的政策）"
        if self.confirmed_cny != self.amount_cny:
            text += f"，其中{pending}元有待确认事项"
        return text

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "amount_cny": str(self.amount_cny),
            "confirmed_cny": str(self.confirmed_cny),
            "programmes": [match.programme.id for match in self.included],
            "text": self.text(lang),
            "left_out": [item.to_dict(lang) for item in self.left_out],
        }


def best_total(matches: Sequence[SubsidyMatch]) -> CashTotal:
    """The non-conflicting "up to" total (the policy of ``CashTotal``).

    Candidates are ``eligible`` and ``likely`` matches of a cash kind with an amount. The chosen
    set maximises, in this order, the sum, the confirmed (eligible) part and the number of
    programmes, exactly: every independent set of each group of mutually conflicting candidates
    is tried (these groups are small: a handful of same-project funds). On a full tie the first
    set found in programme-id order wins. Every candidate left out conflicts with a chosen one
    (else adding it would be better); eligible and likely money programmes without an amount,
    and tax relief, are listed as left out with their reason.
    """
    candidates = sorted(
        (m for m in matches if m.outcome in _COUNTED and m.programme.kind in CASH_KINDS),
        key=lambda m: m.programme.id,
    )
    priced = [m for m in candidates if m.estimate.amount_cny is not None]
    chosen: list[SubsidyMatch] = []
    for component in _components(priced):
        chosen.extend(_best_independent_set(component))
    chosen.sort(key=lambda m: m.programme.id)
    left_out = [_left_out(m, chosen) for m in priced if m not in chosen]
    left_out.extend(
        LeftOut(m.programme.id, m.programme.name, m.estimate.text)
        for m in candidates
        if m.estimate.amount_cny is None
    )
    left_out.extend(
        LeftOut(
            m.programme.id,
            m.programme.name,
            Text(
                "税收优惠单列，不计入现金合计", "tax relief is listed separately, not in the total"
            ),
        )
        for m in sorted(matches, key=lambda m: m.programme.id)
        if m.outcome in _COUNTED and m.programme.kind in TAX_KINDS
    )
    return CashTotal(
        amount_cny=sum((_amount(m) for m in chosen), _ZERO),
        confirmed_cny=sum((_amount(m) for m in chosen if m.outcome == "eligible"), _ZERO),
        included=tuple(chosen),
        left_out=tuple(sorted(left_out, key=lambda item: item.programme_id)),
    )


def _amount(match: SubsidyMatch) -> Decimal:
    amount = match.estimate.amount_cny
    assert amount is not None
    return amount


def _components(matches: list[SubsidyMatch]) -> list[list[SubsidyMatch]]:
    """Groups of candidates connected by stacking exclusions (each in id order)."""
    components: list[list[SubsidyMatch]] = []
    unseen = list(matches)
    while unseen:
        stack = [unseen.pop(0)]
        component: list[SubsidyMatch] = []
        while stack:
            match = stack.pop()
            component.append(match)
            linked = [m for m in unseen if m.programme.excludes(match.programme)]
            for m in linked:
                unseen.remove(m)
            stack.extend(linked)
        components.append(sorted(component, key=lambda m: m.programme.id))
    return components


def _best_independent_set(component: list[SubsidyMatch]) -> list[SubsidyMatch]:
    best: list[SubsidyMatch] = []
    best_key = (Decimal(-1), Decimal(-1), -1)

    def visit(index: int, chosen: list[SubsidyMatch]) -> None:
        nonlocal best, best_key
        if index == len(component):
            key = (
                sum((_amount(m) for m in chosen), Decimal(0)),
                sum((_amount(m) for m in chosen if m.outcome == "eligible"), Decimal(0)),
                len(chosen),
            )
            if key > best_key:
                best, best_key = list(chosen), key
            return
        match = component[index]
        if not any(match.programme.excludes(other.programme) for other in chosen):
            visit(index + 1, [*chosen, match])
        visit(index + 1, chosen)

    visit(0, [])
    return best


def _left_out(match: SubsidyMatch, chosen: list[SubsidyMatch]) -> LeftOut:
    rivals = [other for other in chosen if match.programme.excludes(other.programme)]
    rival = rivals[0]
    rule = match.programme.stacking_with(rival.programme)
    assert rule is not None
    return LeftOut(
        match.programme.id,
        match.programme.name,
        Text(
            f"与已计入的「{rival.programme.name.zh}」不可叠加：{rule.rule.zh}（依据：{rule.source}）",
            f"cannot be combined with {rival.programme.name.en}, which is counted: "
            f"{rule.rule.en} (source: {rule.source})",
        ),
    )


# --- conflicts, unlocks, coverage ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two shown matches that cannot be combined, and the rule that says so."""

    first: SubsidyMatch
    second: SubsidyMatch

    def to_dict(self, lang: str) -> dict[str, object]:
        rule = self.first.programme.stacking_with(self.second.programme)
        assert rule is not None
        return {
            "programmes": [self.first.programme.id, self.second.programme.id],
            "rule": rule.rule.get(lang),
            "source": rule.source,
        }


def _conflicts(matches: Sequence[SubsidyMatch]) -> tuple[Conflict, ...]:
    shown = sorted(
        (m for m in matches if m.outcome in _SHOWN), key=lambda match: match.programme.id
    )
    return tuple(
        Conflict(first, second)
        for i, first in enumerate(shown)
        for second in shown[i + 1 :]
        if first.programme.excludes(second.programme)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FactUnlock:
    """What declaring one fact could do: let programmes ``qualify`` (they fail only for want of
    declared facts), ``price`` matches whose amount depends on it, or ``settle`` an item to
    confirm. ``declared_in``: the enterprise profile or the optional facts form."""

    fact: str
    declared_in: Literal["profile", "facts"]
    qualify: tuple[str, ...] = ()
    price: tuple[str, ...] = ()
    settle: tuple[str, ...] = ()

    def text(self, lang: str) -> str:
        label = field_label(self.fact, lang)
        if lang == "en":
            parts = [
                f"could qualify the firm for {len(self.qualify)} programme(s)"
                if self.qualify
                else "",
                f"would price {len(self.price)}" if self.price else "",
                f"would settle an item to confirm for {len(self.settle)}" if self.settle else "",
            ]
            return f"Declaring “{label}” " + ", ".join(p for p in parts if p)
        parts = [
            f"可能使{len(self.qualify)}项政策符合条件" if self.qualify else "",
            f"可估算{len(self.price)}项政策的金额" if self.price else "",
            f"可确认{len(self.settle)}项政策的待确认事项" if self.settle else "",
        ]
        return f"填报“{label}”" + "，".join(p for p in parts if p)

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "name": self.fact,
            "label": field_label(self.fact, lang),
            "declared_in": self.declared_in,
            "qualify": list(self.qualify),
            "price": list(self.price),
            "settle": list(self.settle),
            "text": self.text(lang),
        }


_FACT_ORDER = {
    name: rank for rank, name in enumerate([*sorted(PROFILE_FIELDS), *(f.name for f in FACTS)])
}


def _unlocks(matches: Sequence[SubsidyMatch]) -> tuple[FactUnlock, ...]:
    """Facts whose declaration could change a match, most programmes first (then form order).

    A programme outside its validity unlocks nothing. ``qualify``: a not-eligible match whose
    every failing condition is undeclared. ``price``: a shown match whose estimate depends on an
    undeclared basis. ``settle``: an item to confirm that a declared fact would settle.
    """
    qualify: dict[str, list[str]] = {}
    price: dict[str, list[str]] = {}
    settle: dict[str, list[str]] = {}
    for match in matches:
        if match.validity.state in ("not_yet", "expired"):
            continue
        pid = match.programme.id
        if match.outcome == "not_eligible" and all(r.missing for r in match.reasons):
            for name in match.missing_facts:
                qualify.setdefault(name, []).append(pid)
        if match.outcome in _SHOWN and match.estimate.basis is not None:
            price.setdefault(match.estimate.basis, []).append(pid)
        for note in match.confirm:
            for name in note.facts:
                settle.setdefault(name, []).append(pid)
    names = {*qualify, *price, *settle}
    unlocks = [
        FactUnlock(
            fact=name,
            declared_in="profile" if name in PROFILE_FIELDS else "facts",
            qualify=tuple(sorted(set(qualify.get(name, [])))),
            price=tuple(sorted(set(price.get(name, [])))),
            settle=tuple(sorted(set(settle.get(name, [])))),
        )
        for name in names
    ]
    unlocks.sort(
        key=lambda u: (-len({*u.qualify, *u.price, *u.settle}), _FACT_ORDER.get(u.fact, 999))
    )
    return tuple(unlocks)


@dataclass(frozen=True, slots=True)
class Coverage:
    """One recommendation of the seed paper: the shown matches that serve it, and the
    catalogue's note where it records a gap."""

    recommendation: str
    programmes: tuple[str, ...]
    note: Text | None = None

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "recommendation": self.recommendation,
            "title": RECOMMENDATION_TITLES[self.recommendation].get(lang),
            "programmes": list(self.programmes),
            "note": None if self.note is None else self.note.get(lang),
        }


def _coverage(matches: Sequence[SubsidyMatch]) -> tuple[Coverage, ...]:
    return tuple(
        Coverage(
            recommendation,
            tuple(
                sorted(
                    m.programme.id
                    for m in matches
                    if m.outcome in _SHOWN and recommendation in m.programme.recommendations
                )
            ),
            CATALOGUE_GAPS.get(recommendation),
        )
        for recommendation in RECOMMENDATIONS
    )


# --- the advice -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SubsidyAdvice:
    """Everything the firm is told about support programmes on one assessment date."""

    on: date
    matches: tuple[SubsidyMatch, ...]
    summary: SubsidySummary
    total: CashTotal
    conflicts: tuple[Conflict, ...]
    unlocks: tuple[FactUnlock, ...]
    coverage: tuple[Coverage, ...]

    def by_outcome(self, outcome: Outcome) -> tuple[SubsidyMatch, ...]:
        return tuple(match for match in self.matches if match.outcome == outcome)

    def to_dict(self, lang: str = "zh") -> dict[str, object]:
        """JSON-able advice (format 2), texts in ``lang``, money as decimal strings."""
        return {
            "format": 2,
            "on": self.on.isoformat(),
            "summary": self.summary.to_dict(lang),
            "total": self.total.to_dict(lang),
            "conflicts": [conflict.to_dict(lang) for conflict in self.conflicts],
            "unlocks": [unlock.to_dict(lang) for unlock in self.unlocks],
            "coverage": [item.to_dict(lang) for item in self.coverage],
            "matches": [match.to_dict(lang) for match in self.matches],
        }


def subsidy_advice(
    programmes: Iterable[Programme],
    profile: Profile,
    answers: Answers | None = None,
    result: ResultFacts | None = None,
    *,
    on: date,
) -> SubsidyAdvice:
    """Match the firm against every programme on ``on`` and combine the matches (module doc)."""
    matches = match_subsidies(programmes, profile, answers, result, on=on)
    return SubsidyAdvice(
        on=on,
        matches=tuple(matches),
        summary=_summary(matches),
        total=best_total(matches),
        conflicts=_conflicts(matches),
        unlocks=_unlocks(matches),
        coverage=_coverage(matches),
    )


def funding_for(
    matches: Iterable[SubsidyMatch], stage_id: str, question_id: str | None = None
) -> tuple[SubsidyMatch, ...]:
    """The eligible, likely and near matches whose programme pays for a roadmap step in
    ``stage_id`` (changing ``question_id``), in outcome order."""
    return tuple(
        match
        for match in matches
        if match.outcome in ("eligible", "likely", "near")
        and match.programme.funds.covers(stage_id, question_id)
    )


# --- catalogue audit ------------------------------------------------------------------------

AuditKind = Literal["expired", "validity_unknown", "stale", "no_url"]


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """A programme a maintainer must look at, and why (English, for the command line)."""

    programme_id: str
    kind: AuditKind
    detail: str

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.detail}"


def audit_catalogue(programmes: Iterable[Programme], *, as_of: date) -> list[AuditFinding]:
    """Programmes expired on ``as_of``, of unknown validity, last confirmed more than 12 months
    before ``as_of`` (the staleness rule of ``Validity``), or without an official URL."""
    findings: list[AuditFinding] = []
    for programme in sorted(programmes, key=lambda p: p.id):
        validity = programme.validity
        state = validity.state(as_of)
        if state == "expired":
            findings.append(
                AuditFinding(programme.id, "expired", f"expired on {validity.valid_until}")
            )
        elif state == "unknown":
            findings.append(
                AuditFinding(
                    programme.id,
                    "validity_unknown",
                    "validity unknown (status: unconfirmed): find dated sources or remove it",
                )
            )
        if state != "expired" and validity.stale(as_of):
            findings.append(
                AuditFinding(
                    programme.id,
                    "stale",
                    f"last confirmed {validity.last_confirmed}, over 12 months before {as_of}",
                )
            )
        if programme.source.url is None:
            findings.append(AuditFinding(programme.id, "no_url", "no official source URL"))
    return findings
