"""The report's view-model, built from the STORED result of a submitted assessment.

Nothing here scores: the scores, rung, reasons, roadmap and crosswalk come from
the stored result (``app.results.service.read``: computed at submission), the matched
programmes too. The questionnaire supplies stage names and weights; the ladder its rung
names. The same inputs always give the same report.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from app.assessments.schemas import KpiComparison
from app.heatmaps import service as heatmaps
from app.kit.clock import calendar_day, utcnow
from app.kit.dates import format_day
from app.kit.i18n import BABEL_LOCALES, Lang, html_lang
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.settings import Settings
from app.models import Assessment, Enterprise, Result
from app.reports.fonts import report_fonts
from app.reports.texts import (
    MARKS,
    SIZE_CLASSES,
    Marks,
    label_of,
    labels,
    tighten_chinese,
)
from app.results import charts
from app.results import service as results
from scoring import Questionnaire
from scoring.ladder import CROSSWALK_NOTE, RUNG_LEVELS, RUNG_STEP, RUNGS, rung_above, rung_info

#: Roadmap steps printed; the rest are counted ("n further steps").
MAX_STEPS = 8
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


# --- small helpers -------------------------------------------------------------------------------


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def zh_span(text: object) -> Markup:
    """``text`` escaped, wrapped in ``lang="zh-CN"`` when it holds Chinese: Noto CJK draws
    Chinese forms only when the language says so (company names inside English reports)."""
    value = "" if text is None else str(text)
    if has_cjk(value):
        return Markup('<span lang="zh-CN">{}</span>').format(value)
    return plain(value)


def plain(text: object) -> Markup:
    """``text`` escaped, unmarked: ``zh_span`` where the document's language is Chinese."""
    return Markup(escape("" if text is None else str(text)))


_SVG_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def chart_image(svg: str, css_class: str) -> Markup:
    """A chart as an ``<img>`` of a ``data:`` URI, not inline ``<svg>``: WeasyPrint's HTML
    parser (pure Python) read the inline charts' markup, a quarter of the report's HTML, token by
    token, before handing it to its XML parser anyway; the image is drawn the same (same SVG
    code, same PDF). The chart's ``<title>`` is the alternative text."""
    found = _SVG_TITLE.search(svg)
    alt = html.unescape(found.group(1)) if found else ""
    uri = "data:image/svg+xml;base64," + base64.b64encode(str(svg).encode()).decode("ascii")
    return Markup('<img class="{}" alt="{}" src="{}">').format(css_class, alt, uri)


def chinese_chart_image(svg: str, css_class: str) -> Markup:
    """``chart_image`` of a chart of the Chinese report, its text spaced as the report's
    (``tighten_chinese``: the page's pass does not reach into the encoded image)."""
    return chart_image(tighten_chinese(svg), css_class)


def fmt_score(value: object) -> str:
    number = charts.as_float(value)
    return "—" if number is None else f"{number:.2f}"


def _decimal(value: object) -> Decimal:
    return Decimal(str(value))


# --- the view-model ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnterpriseView:
    name: str
    credit_code: str
    district: str
    industry_code: str
    industry: str
    size_class: str
    employees: int
    synthetic: bool
    #: The district, industry or size differ today from those the result was computed for (the
    #: fields above are those it was computed for: ``results.ASSESSED_AS``).
    profile_changed: bool = False


@dataclass(frozen=True, slots=True)
class StageRow:
    id: str
    title: str
    weight: str
    score: str
    scored: bool
    band: str
    needed_next: str
    meets_next: bool | None
    binding: bool


@dataclass(frozen=True, slots=True)
class StepRow:
    number: int
    stage: str
    question: str
    current: str
    target: str
    gain: str
    lifts_binding_stage: bool
    #: The programmes that pay for this step (``funded_by`` of the stored result's view).
    funded_by: tuple[str, ...] = ()
    effort: str = ""
    after: str = ""


@dataclass(frozen=True, slots=True)
class RoadmapView:
    next_rung: str | None
    next_name: str
    intro: str
    steps: list[StepRow]
    more_steps: int
    what_if: list[StepRow]
    what_if_text: str
    what_if_exact: bool
    #: Roadmap version 2 (issue 14): the plan, its limits note, other ideas, why not higher
    is_plan: bool = False
    plan_text: str = ""
    limits_note: str = ""
    ideas: list[StepRow] = field(default_factory=list)
    why_not_higher: str = ""
    starred: bool = False


@dataclass(frozen=True, slots=True)
class TrendRow:
    date: str
    #: When it was submitted (the chart labels its axis from it).
    at: datetime
    overall: str
    rung: str
    rung_name: str
    change: str
    this_one: bool


@dataclass(frozen=True, slots=True)
class PeerView:
    shown: bool
    text: str


@dataclass(frozen=True, slots=True)
class LadderRow:
    level: str
    name: str
    means: str
    cmmm: str
    miit: str
    current: bool


@dataclass(frozen=True, slots=True)
class KpiRow:
    text: str
    before: str
    after: str
    trend: str
    trend_code: str
    better: str


@dataclass(frozen=True, slots=True)
class ReportContext:
    lang: Lang
    html_lang: str
    t: dict[str, str]
    title: str
    enterprise: EnterpriseView
    #: The questionnaire's title in the report's language with its version (the cover).
    questionnaire_title: str
    questionnaire_id: str
    questionnaire_version: int
    assessment_id: str
    submitted_on: str
    generated_on: str
    overall: str
    rung: str
    rung_name: str
    summary: list[str]
    ladder_svg: Markup
    radar_svg: Markup
    stages: list[StageRow]
    held_back: list[str]
    roadmap: RoadmapView
    subsidies: results.SubsidySection
    crosswalk: dict[str, str]
    trend: list[TrendRow]
    trend_svg: Markup
    peer: PeerView
    ladder: list[LadderRow]
    methodology: list[str] = field(default_factory=list)
    #: The baseline KPIs, this assessment against the previous one; empty: no section.
    kpis: list[KpiRow] = field(default_factory=list)
    #: The firm submitted an assessment before this one (of either questionnaire: the KPIs
    #: describe the firm): False for its first, whose figures have nothing to compare with.
    kpis_compared: bool = True

    def template_vars(self) -> dict[str, Any]:
        # In the Chinese report the whole document is zh-CN: marking each string again only
        # split the text into more inline boxes for WeasyPrint to lay out (docs/benchmarks.md).
        chinese = self.lang == "zh"
        return {
            "r": self,
            "t": self.t,
            "m": MARKS[self.lang],
            "zh": plain if chinese else zh_span,
            "chart": chinese_chart_image if chinese else chart_image,
        }


# --- building it --------------------------------------------------------------------------------


def build_report_context(
    session: Session,
    settings: Settings,
    questionnaire: Questionnaire,
    assessment: Assessment,
    result: Result,
    enterprise: Enterprise,
    lang: Lang,
    *,
    generated_at: datetime | None = None,
    kpis: Sequence[KpiComparison] = (),
) -> ReportContext:
    """Gather what the report shows (the firm's earlier results, its peers) and build it."""
    assert assessment.submitted_at is not None
    submissions = results.submissions(session, enterprise.id)
    history = [
        (s.submitted_at, s.result)
        for s in submissions
        if s.questionnaire_id == assessment.questionnaire_id
        and (s.submitted_at < assessment.submitted_at or s.result.id == result.id)
    ]
    # The KPIs' "previous" is the submission just before, of either questionnaire
    # (assessments.service.kpi_comparisons): the same order.
    order = [s.assessment_id for s in submissions]
    kpis_compared = assessment.id in order and order.index(assessment.id) > 0
    peer = _peer(session, settings, assessment, result, enterprise, lang)
    return report_context(
        questionnaire,
        assessment,
        result,
        enterprise,
        lang,
        history=history,
        peer=peer,
        min_cell=settings.HEATMAP_MIN_CELL,
        generated_at=generated_at or utcnow(),
        kpis=kpis,
        kpis_compared=kpis_compared,
    )


def _peer(
    session: Session,
    settings: Settings,
    assessment: Assessment,
    result: Result,
    enterprise: Enterprise,
    lang: Lang,
) -> PeerView:
    """The firm's industry as the heatmaps last published it (``heatmaps.service.
    published_industry_peers``): the share of its verified firms at or above the firm's rung
    (3.00 for a firm below it), never a comparison made live from other firms' scores."""
    t = labels(lang)
    if result.overall is None:
        return PeerView(False, t["peers_no_overall"])
    assert assessment.submitted_at is not None
    industry_code = str(
        (results.assessed_as(result) or {}).get("industry_code", enterprise.industry_code)
    )
    peers = heatmaps.published_industry_peers(
        session, assessment.questionnaire_id, industry_code, assessment.submitted_at
    )
    if peers is None:
        return PeerView(False, t["peers_hidden"].format(min_cell=settings.HEATMAP_MIN_CELL))
    rung = f"{max(_decimal(result.rung), RUNG_LEVELS[1]):.2f}"
    industry = INDUSTRIES.get(industry_code)
    name = industry_code if industry is None else getattr(industry, lang)
    return PeerView(
        True,
        t["peers_shown"].format(
            quarter=peers.quarter,
            industry=name,
            band=peers.band,
            share=peers.shares[rung],
            rung=rung,
        ),
    )


def report_context(
    questionnaire: Questionnaire,
    assessment: Assessment,
    result: Result,
    enterprise: Enterprise,
    lang: Lang,
    *,
    history: Sequence[tuple[datetime, Result]],
    peer: PeerView,
    min_cell: int,
    generated_at: datetime,
    kpis: Sequence[KpiComparison] = (),
    kpis_compared: bool = True,
) -> ReportContext:
    """The view-model from stored rows alone (no queries). ``kpis_compared``: the firm
    submitted before, so the KPIs have a previous assessment to compare with."""
    t = labels(lang)
    stored = results.view(assessment, result, questionnaire, lang)
    assert assessment.submitted_at is not None
    rung = _decimal(stored.rung)
    info = rung_info(rung)
    overall = charts.as_float(stored.overall)
    stage_titles = {stage.id: stage.title.get(lang) for stage in questionnaire.stages}
    roadmap_payload: Mapping[str, Any] | None = stored.roadmap
    next_rung = rung_above(rung)
    held = stored.held_back_by
    binding = {item["stage_id"] for item in held if item.get("kind") == "stage"}

    stages = _stage_rows(questionnaire, stored.stages, next_rung, binding, lang)
    today = {name: getattr(enterprise, name) for name in results.ASSESSED_AS}
    assessed = results.assessed_as(result) or today
    district = DISTRICTS.get(assessed["district_code"])
    industry = INDUSTRIES.get(assessed["industry_code"])
    enterprise_view = EnterpriseView(
        name=enterprise.name,
        credit_code=enterprise.credit_code,
        district=assessed["district_code"] if district is None else getattr(district, lang),
        industry_code=assessed["industry_code"],
        industry=assessed["industry_code"] if industry is None else getattr(industry, lang),
        size_class=label_of(SIZE_CLASSES, assessed["size_class"], lang),
        employees=assessed["employees"],
        synthetic=bool(enterprise.synthetic),
        profile_changed=assessed != today,
    )
    reference_label = t["radar_reference"] if next_rung is not None else None
    font_family = report_fonts().family
    radar = charts.radar_svg(
        [
            charts.RadarAxis(
                label=row.title,
                value=charts.as_float(stored.stages[row.id]) if row.scored else None,
                # The least score the next rung asks of a scored stage; nothing of the others.
                reference=None
                if next_rung is None or not row.scored
                else float(next_rung - RUNG_STEP),
            )
            for row in stages
        ],
        lang=lang,
        series_label=t["radar_series"],
        reference_label=reference_label,
        font_family=font_family,
    )
    crosswalk = stored.crosswalk
    trend = _trend(history, result, lang)
    # Read on the day the report is generated, as the page is on the day it is read: a
    # programme that has ended since the submission is not offered as open.
    subsidies = results.subsidy_section(
        stored, lang, shown_steps=MAX_STEPS, today=calendar_day(generated_at)
    )
    return ReportContext(
        lang=lang,
        html_lang=html_lang(lang),
        t=t,
        title=f"{t['report_title']} — {enterprise.name}",
        enterprise=enterprise_view,
        questionnaire_title=t["questionnaire_title"].format(
            title=questionnaire.title.get(lang), version=questionnaire.version
        ),
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        assessment_id=str(assessment.id),
        submitted_on=format_day(assessment.submitted_at, lang),
        generated_on=format_day(generated_at, lang),
        overall=fmt_score(overall),
        rung=fmt_score(rung),
        rung_name=info.name.get(lang),
        summary=_summary(enterprise.name, overall, rung, next_rung, lang),
        ladder_svg=charts.ladder_svg(float(rung), overall, lang=lang, font_family=font_family),
        radar_svg=radar,
        stages=stages,
        held_back=_held_back(held, stage_titles, lang, at_top=next_rung is None),
        roadmap=_roadmap(
            roadmap_payload,
            stage_titles,
            lang,
            at_top=next_rung is None,
            ended_ids=subsidies.ended_ids,
        ),
        subsidies=subsidies,
        crosswalk={
            "cmmm": str(crosswalk.get("cmmm", info.crosswalk.cmmm.get(lang))),
            "miit": str(crosswalk.get("miit", info.crosswalk.miit.get(lang))),
            "note": str(crosswalk.get("note", CROSSWALK_NOTE.get(lang))),
        },
        trend=trend,
        trend_svg=charts.trend_svg(
            [
                charts.TrendPoint(
                    label=row.at,
                    overall=None if row.overall == "—" else float(row.overall),
                    rung=float(row.rung),
                )
                for row in trend
            ],
            lang=lang,
            font_family=font_family,
        ),
        peer=peer,
        ladder=[
            LadderRow(
                level=fmt_score(r.level),
                name=r.name.get(lang),
                means=r.means.get(lang),
                cmmm=r.crosswalk.cmmm.get(lang),
                miit=r.crosswalk.miit.get(lang),
                current=r.level == rung,
            )
            for r in RUNGS
        ],
        methodology=[
            t["rule_1"],
            t["rule_2"],
            t["rule_3"],
            t["rule_4"],
            t["rule_5"],
            t["stored_result"],
            t["peer_method"].format(min_cell=min_cell),
        ],
        kpis=_kpi_rows(kpis, lang),
        kpis_compared=kpis_compared,
    )


def _summary(
    name: str, overall: float | None, rung: Decimal, next_rung: Decimal | None, lang: Lang
) -> list[str]:
    """Paragraphs saying what the result means; the firm's name is marked as Chinese."""
    t = labels(lang)
    info = rung_info(rung)
    paragraphs: list[str] = []
    if overall is None:
        paragraphs.append(
            t["summary_no_overall"].format(rung=fmt_score(rung), rung_name=info.name.get(lang))
        )
    else:
        paragraphs.append(
            Markup(escape(t["summary_overall"])).format(
                enterprise=zh_span(name),
                overall=fmt_score(overall),
                rung=fmt_score(rung),
                rung_name=info.name.get(lang),
                means=info.means.get(lang),
            )
        )
    if next_rung is None:
        paragraphs.append(t["summary_top"])
    else:
        following = rung_info(next_rung)
        paragraphs.append(
            t["summary_next"].format(
                next_rung=fmt_score(next_rung),
                next_name=following.name.get(lang),
                next_means=following.means.get(lang),
                stage_min=fmt_score(next_rung - RUNG_STEP),
            )
        )
        paragraphs.append(t["summary_roadmap"])
    return paragraphs


def _band(score: Decimal) -> Decimal:
    """The highest rung a stage score alone reaches (for the stage table)."""
    reached = [level for level in RUNG_LEVELS if score >= level]
    return reached[-1] if reached else RUNG_LEVELS[0]


def _stage_rows(
    questionnaire: Questionnaire,
    scores: Mapping[str, Any],
    next_rung: Decimal | None,
    binding: set[str],
    lang: Lang,
) -> list[StageRow]:
    t = labels(lang)
    rows: list[StageRow] = []
    needed = None if next_rung is None else next_rung - RUNG_STEP
    for stage in questionnaire.stages:
        raw = scores.get(stage.id)
        if raw is None:
            rows.append(
                StageRow(
                    id=stage.id,
                    title=stage.title.get(lang),
                    weight=f"{stage.weight.normalize():f}",
                    score="—",
                    scored=False,
                    band=t["not_scored"],
                    # The rung asks only scored stages for a least score (design §3, rule 4):
                    # nothing is needed of this one, whatever the next rung.
                    needed_next="—",
                    meets_next=None,
                    binding=False,
                )
            )
            continue
        value = _decimal(raw)
        band = _band(value)
        rows.append(
            StageRow(
                id=stage.id,
                title=stage.title.get(lang),
                weight=f"{stage.weight.normalize():f}",
                score=fmt_score(value),
                scored=True,
                band=f"{fmt_score(band)} {rung_info(band).name.get(lang)}",
                needed_next="—" if needed is None else fmt_score(needed),
                meets_next=None if needed is None else value >= needed,
                binding=stage.id in binding,
            )
        )
    return rows


def _held_back(
    held: Sequence[Mapping[str, Any]], stage_titles: Mapping[str, str], lang: Lang, *, at_top: bool
) -> list[str]:
    t = labels(lang)
    if not held:
        # Nothing holds back a firm on the top rung, nor one with no stage scored (no score).
        return [t["held_none"] if at_top else t["held_unscored"]]
    lines: list[str] = []
    for item in held:
        values = {
            "rung": fmt_score(item.get("rung")),
            "needed": fmt_score(item.get("needed")),
            "actual": fmt_score(item.get("actual")),
        }
        if item.get("kind") == "stage":
            stage_id = str(item.get("stage_id"))
            lines.append(
                t["held_stage"].format(stage=stage_titles.get(stage_id, stage_id), **values)
            )
        else:
            lines.append(t["held_overall"].format(**values))
    return lines


def _step(
    number: int,
    step: Mapping[str, Any],
    stage_titles: Mapping[str, str],
    marks: Marks,
    ended: tuple[frozenset[str], str] = (frozenset(), ""),
) -> StepRow:
    """A plan step's row. ``ended``: the programmes that have ended since the submission and
    the mark their names take (a step they paid for must not promise them)."""
    ended_ids, ended_mark = ended
    stage_id = str(step.get("stage_id", ""))
    current_text = step.get("current_text") or "—"
    return StepRow(
        number=number,
        stage=stage_titles.get(stage_id, stage_id),
        question=str(step.get("question", "")),
        current=current_text + marks.paren(fmt_score(step.get("current_level"))),
        target=str(step.get("target_text", "")) + marks.paren(fmt_score(step.get("target_level"))),
        gain=f"+{float(step.get('gain') or 0):.3f}",
        lifts_binding_stage=bool(step.get("lifts_binding_stage")),
        funded_by=tuple(
            str(p.get("name", "")) + (ended_mark if p.get("id") in ended_ids else "")
            for p in step.get("funded_by") or ()
        ),
        effort=str(step.get("effort", "")),
        after=marks.enum_sep.join(str(a) for a in step.get("after") or []),
    )


def _roadmap(
    roadmap: Mapping[str, Any] | None,
    stage_titles: Mapping[str, str],
    lang: Lang,
    *,
    at_top: bool,
    ended_ids: frozenset[str] = frozenset(),
) -> RoadmapView:
    t = labels(lang)
    ended = (ended_ids, t["ended_mark"])
    if not roadmap or roadmap.get("next_rung") is None:
        return RoadmapView(
            None, "", t["roadmap_top" if at_top else "roadmap_none"], [], 0, [], "", True
        )
    next_rung = _decimal(roadmap["next_rung"])
    next_name = rung_info(next_rung).name.get(lang)
    if roadmap.get("version") == 2:
        return _plan_view(roadmap, stage_titles, lang, next_rung, next_name, ended)
    steps = list(roadmap.get("steps") or [])
    marks = MARKS[lang]
    shown = [
        _step(i, step, stage_titles, marks, ended) for i, step in enumerate(steps[:MAX_STEPS], 1)
    ]
    what_if = roadmap.get("what_if") or None
    changes: list[StepRow] = []
    what_if_text = ""
    exact = True
    if what_if:
        changes = [
            _step(i, step, stage_titles, marks, ended)
            for i, step in enumerate(what_if.get("changes") or [], 1)
        ]
        what_if_text = t["what_if_text"].format(
            count=len(changes),
            rung=fmt_score(what_if.get("rung")),
            overall=fmt_score(what_if.get("overall")),
        )
        exact = bool(what_if.get("exact", True))
    return RoadmapView(
        next_rung=fmt_score(next_rung),
        next_name=next_name,
        intro=t["roadmap_intro"].format(next_rung=fmt_score(next_rung), next_name=next_name),
        steps=shown,
        more_steps=max(0, len(steps) - MAX_STEPS),
        what_if=changes,
        what_if_text=what_if_text,
        what_if_exact=exact,
    )


def _plan_view(
    roadmap: Mapping[str, Any],
    stage_titles: Mapping[str, str],
    lang: Lang,
    next_rung: Decimal,
    next_name: str,
    ended: tuple[frozenset[str], str],
) -> RoadmapView:
    """A version-2 roadmap: the whole plan (never cut short), other ideas apart, why not higher."""
    t = labels(lang)
    marks = MARKS[lang]
    plan = roadmap.get("plan") or {}
    raw_steps = list(roadmap.get("steps") or [])
    numbers = {str(step.get("question_id")): str(i) for i, step in enumerate(raw_steps, 1)}
    steps = [
        replace(
            row,
            after=marks.enum_sep.join(numbers.get(qid, qid) for qid in step.get("after") or []),
        )
        for row, step in zip(
            (_step(i, step, stage_titles, marks, ended) for i, step in enumerate(raw_steps, 1)),
            raw_steps,
            strict=True,
        )
    ]
    ideas = [
        _step(i, idea, stage_titles, marks, ended)
        for i, idea in enumerate(roadmap.get("ideas") or [], 1)
    ]
    intro_key = "plan_intro" if plan else "roadmap_none"
    return RoadmapView(
        next_rung=fmt_score(next_rung),
        next_name=next_name,
        intro=t[intro_key].format(next_rung=fmt_score(next_rung), next_name=next_name),
        steps=steps,
        more_steps=0,
        what_if=[],
        what_if_text="",
        what_if_exact=True,
        is_plan=True,
        plan_text=t["plan_total"].format(
            overall=fmt_score(plan.get("overall")), effort=plan.get("effort", "")
        )
        if plan
        else "",
        limits_note=str(plan.get("limits_note") or ""),
        ideas=ideas,
        why_not_higher=_why_not_higher(roadmap.get("why_not_higher") or {}, lang),
        starred=any(step.lifts_binding_stage for step in steps),
    )


def _why_not_higher(why: Mapping[str, Any], lang: Lang) -> str:
    """Why the next rung is not reached, in the report's voice: the stored reason's figures
    (stage, scores, the questions holding it down) in the report's words. The stored text is
    the result page's, which speaks to the reader ("holds you below", "使您停在"); a reason
    stored without its figures is printed as stored."""
    t = labels(lang)
    try:
        rung = _decimal(why["rung"])
        values = {
            "stage": str(why["stage"]),
            "rung": fmt_score(rung),
            "rung_name": rung_info(rung).name.get(lang),
            "score": fmt_score(why["stage_score"]),
            "overall": fmt_score(why["overall"]),
        }
        if why["stage_short"]:
            head = t["why_stage"].format(needed=fmt_score(why["stage_needed"]), **values)
        else:
            head = t["why_overall"].format(needed=values["rung"], **values)
        holders = [
            t["why_holder"].format(
                question=holder["question"],
                level=fmt_score(holder["level"]),
                answer=holder["answer_text"],
            )
            for holder in why.get("holders") or ()
        ]
    except (KeyError, TypeError, ArithmeticError, ValueError):
        return str(why.get("text") or "")
    if not holders:
        return head
    questions = MARKS[lang].list_sep.join(holders)
    return f"{head} {t['why_holders'].format(stage=values['stage'], questions=questions)}"


# --- trend ---------------------------------------------------------------------------------------


def _trend(
    history: Sequence[tuple[datetime, Result]], current: Result, lang: Lang
) -> list[TrendRow]:
    rows: list[TrendRow] = []
    previous: Result | None = None
    for at, result in history:
        change = ""
        if previous is not None and result.overall is not None and previous.overall is not None:
            delta = _decimal(result.overall) - _decimal(previous.overall)
            change = f"{delta:+.2f}"
        rows.append(
            TrendRow(
                date=format_day(at, lang),
                at=at,
                overall=fmt_score(result.overall),
                rung=fmt_score(result.rung),
                rung_name=rung_info(_decimal(result.rung).quantize(Decimal("0.01"))).name.get(lang),
                change=change,
                this_one=result.id == current.id,
            )
        )
        previous = result
    return rows


# --- baseline KPIs -------------------------------------------------------------------------------


def fmt_number(value: float | None, unit: str, lang: Lang) -> str:
    """A recorded figure with its unit as the pages show it (the ``number`` filter: the
    language's grouping, at most three decimals, so 0.27999999999999997 from a client's float
    reads 0.28, not seventeen decimals running into the next column); "not recorded" if none."""
    if value is None:
        return labels(lang)["kpi_not_recorded"]
    number = format_decimal(value, locale=BABEL_LOCALES[lang])
    # A percentage is written against its number in both languages (58%), as the catalogue's
    # texts write it; a word unit after a space (0.42 tce per CNY 10,000; the Chinese report
    # then takes the space out: 40天).
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def _kpi_rows(kpis: Sequence[KpiComparison], lang: Lang) -> list[KpiRow]:
    t = labels(lang)
    return [
        KpiRow(
            text=kpi.text,
            before=fmt_number(kpi.before, kpi.unit, lang),
            after=fmt_number(kpi.after, kpi.unit, lang),
            trend=t[f"kpi_{kpi.trend}"] if kpi.trend else "—",
            trend_code=kpi.trend or "none",
            better=t[f"kpi_{kpi.better}_better"],
        )
        for kpi in kpis
    ]
