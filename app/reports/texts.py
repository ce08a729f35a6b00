"""Every fixed text of the PDF report, marked for the catalogs (``labels(lang)`` translates),
the punctuation each language writes between a report's parts (``MARKS``) and the spacing rule
of its Chinese text (``tighten_chinese``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from app.kit.i18n import NC_, Lang, Message, trc

LABELS: dict[str, Message] = {
    # cover
    "report_title": NC_("report", "Smart-manufacturing maturity report"),
    "report_subtitle": NC_("report", "Self-assessment on the Industry 3.0–4.0 ladder"),
    "enterprise": NC_("report", "Enterprise"),
    "credit_code": NC_("report", "Unified social credit code"),
    "district": NC_("report", "District"),
    "industry": NC_("report", "Industry (GB/T 4754)"),
    "industry_value": NC_("report", "{code} {name}"),
    "size": NC_("report", "Size class"),
    "size_value": NC_("report", "{size} · Employees: {count}"),
    "questionnaire": NC_("report", "Questionnaire"),
    "questionnaire_title": NC_("report", "{title} (version {version})"),
    "submitted_on": NC_("report", "Submitted on"),
    "generated_on": NC_("report", "Report generated on"),
    "assessment_id": NC_("report", "Assessment id"),
    "synthetic": NC_("report", "Demo data: this enterprise is fictitious."),
    "confidential": NC_(
        "report",
        "This report holds the enterprise's self-assessment data; for the enterprise and "
        "those it authorises only.",
    ),
    "page": NC_("report", "Page {page} of {pages}"),
    # baseline KPIs
    "kpis": NC_("report", "Operating figures: before and after"),
    "kpis_intro": NC_(
        "report",
        "The baseline figures the firm entered (not scored): this assessment against the "
        "firm's previous one.",
    ),
    "kpis_first": NC_("report", "Operating figures"),
    "kpis_first_intro": NC_(
        "report",
        "The baseline figures the firm entered (not scored). This is the firm's first "
        "assessment: there is no earlier one to compare them with; the next assessment's report "
        "will show how each figure moved.",
    ),
    "kpi_figure": NC_("report", "Figure"),
    "kpi_before": NC_("report", "In the previous assessment"),
    "kpi_after": NC_("report", "In this assessment"),
    "kpi_change": NC_("report", "Change"),
    "kpi_better": NC_("report", "better"),
    "kpi_worse": NC_("report", "worse"),
    "kpi_same": NC_("report", "unchanged"),
    "kpi_not_recorded": NC_("report", "not recorded"),
    "kpi_higher_better": NC_("report", "(higher is better)"),
    "kpi_lower_better": NC_("report", "(lower is better)"),
    # summary
    "summary": NC_("report", "Summary"),
    "overall_score": NC_("report", "Overall score"),
    "rung": NC_("report", "Rung"),
    "not_scored": NC_("report", "not assessed"),
    "summary_overall": NC_(
        "report",
        "{enterprise} scores {overall} overall and stands on rung {rung}, “{rung_name}”: {means}.",
    ),
    "summary_no_overall": NC_(
        "report", "No stage could be scored, so the rung is the lowest, {rung} “{rung_name}”."
    ),
    "summary_next": NC_(
        "report",
        "The next rung is {next_rung}, “{next_name}” ({next_means}): it needs an overall score "
        "of at least {next_rung} and every scored stage at {stage_min} or above.",
    ),
    "summary_top": NC_(
        "report",
        "This is the top of the ladder; the task now is to keep it and extend it along the "
        "value chain.",
    ),
    "summary_roadmap": NC_(
        "report",
        "The sections below name what holds the rung back, the improvement steps towards the "
        "next rung, and the support programmes checked against the firm.",
    ),
    "crosswalk": NC_("report", "Indicative crosswalk"),
    "cmmm": NC_("report", "≈ CMMM (GB/T 39116)"),
    "miit": NC_("report", "≈ MIIT SME digital level"),
    # stages
    "stages": NC_("report", "Stage scores"),
    "stage": NC_("report", "Stage"),
    "weight": NC_("report", "Weight"),
    "score": NC_("report", "Score"),
    "stage_band": NC_("report", "At rung"),
    "needed_next": NC_("report", "Needed for next rung"),
    "status": NC_("report", "Status"),
    "meets": NC_("report", "met"),
    "below": NC_("report", "below"),
    "binding": NC_("report", "holds the rung back"),
    "radar_series": NC_("report", "This assessment"),
    "radar_reference": NC_("report", "Least stage score for the next rung"),
    "stage_not_scored": NC_(
        "report",
        "Counts towards neither the overall score nor the rung: no applicable question of this "
        "stage was answered. Answer its questions to have it scored.",
    ),
    # held back
    "held_back": NC_("report", "What holds the rung back"),
    "held_overall": NC_("report", "Overall score {actual}: rung {rung} needs at least {needed}."),
    "held_stage": NC_(
        "report",
        "Stage “{stage}” scores {actual}: rung {rung} needs every stage at {needed} or above "
        "(no stage may be more than one rung behind).",
    ),
    "profile_changed": NC_(
        "report",
        "The firm's profile has changed since this assessment: the district, industry and size "
        "above are those it was scored and matched with.",
    ),
    "held_none": NC_("report", "Nothing: the firm is on the top rung."),
    "held_unscored": NC_(
        "report", "Nothing can be said yet: no stage could be scored from the answers given."
    ),
    # why not higher (the stored roadmap's reasons, said in the report's voice)
    "why_stage": NC_(
        "report",
        "“{stage}” holds the firm below rung {rung}, “{rung_name}”: the stage scores {score}, "
        "the rung needs {needed}.",
    ),
    "why_overall": NC_(
        "report",
        "The overall score is {overall}, rung {rung}, “{rung_name}”, needs {needed}; "
        "“{stage}” pulls it down most, at {score}.",
    ),
    "why_holders": NC_("report", "The questions holding “{stage}” down: {questions}."),
    "why_holder": NC_("report", "“{question}” at {level} ({answer})"),
    # roadmap
    "roadmap": NC_("report", "Roadmap"),
    "roadmap_intro": NC_(
        "report",
        "The steps below are ranked by how much each raises the overall score per unit of "
        "question weight, towards rung {next_rung}, “{next_name}”. “Now” is this assessment's "
        "answer, “target” the option to reach.",
    ),
    "roadmap_none": NC_("report", "No next rung can be reached by changing answers."),
    "roadmap_top": NC_("report", "The firm is on the top rung: there is no next rung."),
    "step_no": NC_("report", "#"),
    "step_question": NC_("report", "Question"),
    "step_now": NC_("report", "Now"),
    "step_target": NC_("report", "Target"),
    "step_gain": NC_("report", "Gain"),
    "step_binding": NC_("report", "lifts a binding stage"),
    "plan_intro": NC_(
        "report",
        "The plan to rung {next_rung}, “{next_name}”: together these steps reach it (checked by "
        "scoring the changed answers), prerequisites first. “Now” is this assessment's answer, "
        "“target” the option to reach.",
    ),
    "plan_total": NC_(
        "report",
        "With the whole plan the zhizao index is {overall}; total effort {effort} (per position "
        "climbed: 1 = days of configuration, 5 = a major capital project).",
    ),
    "step_effort": NC_("report", "Effort"),
    "idea_gain": NC_("report", "overall score {gain}, effort {effort}"),
    "step_after": NC_("report", "after step {steps}"),
    "step_star_legend": NC_("report", "★ lifts a stage that holds the firm back."),
    "ideas": NC_("report", "Other ideas (not part of the plan)"),
    "why_not_higher": NC_("report", "Why not higher"),
    "zhizao_index": NC_("report", "zhizao index"),
    "what_if": NC_("report", "Fewest changes"),
    "what_if_text": NC_(
        "report",
        "Changing these {count} answers reaches rung {rung} (overall score then {overall}):",
    ),
    "what_if_approx": NC_("report", "(An approximation: fewer changes may exist.)"),
    "steps_more": NC_(
        "report", "{count} further steps are not listed; the full roadmap is online."
    ),
    # subsidies
    "subsidies": NC_("report", "Support programmes"),
    "subsidies_intro": NC_(
        "report",
        "How the firm's profile and this result compare with each programme in the catalogue "
        "(as of the assessment date). Amounts are estimates; the issuing body decides.",
    ),
    "total": NC_("report", "How much the programmes that can be combined pay"),
    "total_format1": NC_(
        "report",
        "This result was stored before totals were computed: the programmes are as matched then.",
    ),
    "left_out": NC_("report", "Not added to the total, and why"),
    "unlocks": NC_(
        "report",
        "Facts that could unlock more (declare them under Settings → Facts for subsidy matching)",
    ),
    "issuer": NC_("report", "Issuer"),
    "kind": NC_("report", "Kind"),
    "level": NC_("report", "Level"),
    "reasons": NC_("report", "Conditions"),
    "todo": NC_("report", "To do"),
    "fixing_steps": NC_("report", "Roadmap steps that get there: {steps}"),
    "to_confirm": NC_("report", "To confirm"),
    "missing_facts": NC_("report", "Not yet declared"),
    "estimate": NC_("report", "Estimate"),
    "source": NC_("report", "Source"),
    "confidence": NC_("report", "Confidence"),
    "last_confirmed": NC_("report", "Last confirmed"),
    "ended": NC_(
        "report", "Ended on {date}, after this assessment: no longer open for applications."
    ),
    "ended_mark": NC_("report", " (ended)"),
    "ended_in_total": NC_(
        "report", "Ended since this assessment, so no longer open for applications: {names}."
    ),
    "funded_by": NC_("report", "Funded by"),
    # trend and peers
    "trend": NC_("report", "Trend"),
    "trend_first": NC_(
        "report",
        "This is the firm's first assessment with this questionnaire; later ones will show "
        "the change here.",
    ),
    "trend_date": NC_("report", "Submitted"),
    "trend_change": NC_("report", "Change"),
    "this_assessment": NC_("report", "this one"),
    "peers": NC_("report", "Peer comparison"),
    "peers_shown": NC_(
        "report",
        "In the latest published heatmap ({quarter}), about {share}% of the verified "
        "enterprises of the same industry city-wide ({industry}; {band} firms) are at or above "
        "rung {rung}.",
    ),
    "peers_hidden": NC_(
        "report",
        "No figures for the firm's industry have been published for this quarter (none yet, or "
        "fewer than {min_cell} verified enterprises): no comparison is shown, to protect each "
        "firm's data.",
    ),
    "peers_no_overall": NC_("report", "This assessment has no overall score to compare."),
    # methodology
    "methodology": NC_("report", "Appendix: methodology"),
    "ladder": NC_("report", "The maturity ladder"),
    "means": NC_("report", "Means"),
    "scoring_rule": NC_("report", "Scoring rule"),
    "rule_1": NC_(
        "report",
        "Each applicable, answered question gets a level Lq on the ladder scale (2.75–4.00) "
        "from its answer.",
    ),
    "rule_2": NC_(
        "report",
        "Stage score S = Σ wq·Lq / Σ wq over the stage's applicable questions (“n/a” "
        "answers, unanswered optional and non-applicable questions are left out).",
    ),
    "rule_3": NC_("report", "Overall score O = Σ Ws·Ss / Σ Ws over the scored stages."),
    "rule_4": NC_(
        "report",
        "The rung is the highest r in 3.00, 3.25 … 4.00 with O ≥ r and every scored stage "
        "Ss ≥ r − 0.25; if none, 2.75.",
    ),
    "rule_5": NC_(
        "report",
        "Arithmetic is exact; shown scores are rounded half-up to 2 decimals (so a shown "
        "3.25 may still sit below the 3.25 rung).",
    ),
    "stored_result": NC_(
        "report", "This report is made from the result stored at submission; it is never re-scored."
    ),
    "peer_method": NC_(
        "report",
        "Peer comparison: the heatmaps' latest published figures for the submission's quarter "
        "(district × industry, the city-wide total of the firm's GB/T 4754 division): verified "
        "enterprises only, counts in bands and shares perturbed as in every heatmap, nothing "
        "shown under {min_cell} firms; never a comparison made from other firms' own scores.",
    ),
    "disclaimer": NC_(
        "report",
        "This report is a self-assessment made with zhizao; it is neither a certification nor "
        "a decision on any support programme.",
    ),
}

SIZE_CLASSES: dict[str, Message] = {
    "micro": NC_("size class", "Micro"),
    "small": NC_("size class", "Small"),
    "medium": NC_("size class", "Medium"),
    "large": NC_("size class", "Large"),
}


@cache
def labels(lang: str) -> dict[str, str]:
    """Every label in ``lang`` (Chinese ones spaced by ``tighten_chinese``: the page footer is
    drawn from them, outside the HTML that ``tighten_chinese`` goes over)."""
    found = {key: trc(lang, *message) for key, message in LABELS.items()}
    if lang == "zh":
        return {key: tighten_chinese(text) for key, text in found.items()}
    return found


@dataclass(frozen=True, slots=True)
class Marks:
    """The punctuation a report's language writes between the parts it puts together (a label
    and its value, the items of a list, an aside in brackets): Chinese text takes full-width
    marks with no space around them, English the ASCII marks with their spaces. A part that
    ends with its own question or exclamation mark or colon is followed by no colon (it read
    "……？:" and "…?:")."""

    colon: str
    #: Between items that may hold commas themselves (conditions, programmes with details).
    list_sep: str
    #: Between short items: names, step numbers.
    enum_sep: str
    comma: str
    open_paren: str
    close_paren: str
    #: Before an explanation that follows a value.
    dash: str
    #: After a part that ends with its own mark (instead of the colon).
    after_mark: str

    def paren(self, text: object) -> str:
        """``text`` in brackets, spaced as the language spaces them."""
        return f"{self.open_paren}{text}{self.close_paren}"

    def lead(self, text: str) -> str:
        """``text`` introducing what follows: with a colon, unless it ends with a mark."""
        return text + (self.after_mark if text.endswith(_ENDING_MARKS) else self.colon)


_ENDING_MARKS = ("?", "？", "!", "！", ":", "：")
MARKS: dict[Lang, Marks] = {
    "zh": Marks("：", "；", "、", "，", "（", "）", "——", ""),
    "en": Marks(": ", "; ", ", ", ", ", " (", ")", " — ", " "),
}


# Chinese characters and full-width punctuation (CJK symbols, full-width forms).
_HAN = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# What sits against a Chinese character with no space: digits, Latin letters, a percent sign,
# and a label's placeholder braces (the value it stands for).
_TIGHT = f"{_HAN}0-9A-Za-z%{{}}"
_TAG = "(?:<[^<>]*>)"
# A run of spaces with the character after it (past any tags), not one between a tag's
# attributes: the pattern starts with the spaces, so the regex engine skips to them quickly;
# whether the run goes is decided from the characters on both sides (``_tightened``).
_SPACE_RUN = re.compile(f"[ \t\r\n]+(?![a-z-]+=)(?={_TAG}*([{_TIGHT}]))")
_TIGHT_CHAR = re.compile(f"[{_TIGHT}]")


def _tightened(match: re.Match[str]) -> str:
    text, before = match.string, match.start() - 1
    while before >= 0 and text[before] == ">":  # past the tags before the spaces
        before = text.rfind("<", 0, before) - 1
    left, right = (text[before] if before >= 0 else " "), match.group(1)
    if (left >= "\u3000" or right >= "\u3000") and _TIGHT_CHAR.match(left):
        return ""
    return match.group(0)


def tighten_chinese(text: str) -> str:
    """``text`` (plain text, a label or a page of HTML) spaced as the Chinese report spaces it.

    The rule: no space between a Chinese character or full-width punctuation mark and another
    one, a digit, a Latin letter or a percent sign: "停在3.50「集成级」之下", "已核对35个项目",
    "第2页，共8页", "由zhizao（智造）生成". This is how the report's data is written (the dates,
    2026年11月18日; the programme catalogue, 约30万元) and how mainland documents set mixed
    text; the catalogs' labels and the questionnaires put a space around numbers in some places
    and not in others, so the report removes them all. Spaces around a symbol (· → × ≈ ≥ =) and
    between Latin words (GB/T 4754, OPC UA) stay. In HTML, tags are looked through (a space
    between "3.25" and "<small>规范级" goes too) and never changed."""
    return _SPACE_RUN.sub(_tightened, text)


def label_of(table: dict[str, Message], key: str | None, lang: str) -> str:
    """A coded value's label, or the code itself when the table does not know it."""
    if key is None:
        return ""
    message = table.get(key)
    return key if message is None else trc(lang, *message)
