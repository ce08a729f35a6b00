"""Every fixed text of the PDF report, in Chinese and English (``labels(lang)`` picks one)."""

from __future__ import annotations

from functools import cache

from scoring.models import Text

LABELS: dict[str, Text] = {
    # cover
    "report_title": Text("智能制造成熟度评估报告", "Smart-manufacturing maturity report"),
    "report_subtitle": Text(
        "工业 3.0–4.0 成熟度阶梯自评结果", "Self-assessment on the Industry 3.0–4.0 ladder"
    ),
    "enterprise": Text("企业", "Enterprise"),
    "credit_code": Text("统一社会信用代码", "Unified social credit code"),
    "district": Text("所在区", "District"),
    "industry": Text("行业（GB/T 4754）", "Industry (GB/T 4754)"),
    "size": Text("企业规模", "Size class"),
    "employees": Text("从业人数", "Employees"),
    "questionnaire": Text("问卷", "Questionnaire"),
    "version": Text("版本", "version"),
    "submitted_on": Text("提交日期", "Submitted on"),
    "generated_on": Text("报告生成日期", "Report generated on"),
    "assessment_id": Text("评估编号", "Assessment id"),
    "synthetic": Text(
        "演示数据：本企业为虚构的演示企业。", "Demo data: this enterprise is fictitious."
    ),
    "confidential": Text(
        "本报告含企业自评数据，仅供企业内部及其授权方使用。",
        "This report holds the enterprise's self-assessment data; for the enterprise and "
        "those it authorises only.",
    ),
    "page": Text("第 {page} 页，共 {pages} 页", "Page {page} of {pages}"),
    # summary
    "summary": Text("评估结论", "Summary"),
    "overall_score": Text("总分", "Overall score"),
    "rung": Text("成熟度等级", "Rung"),
    "not_scored": Text("未评分", "not scored"),
    "summary_overall": Text(
        "{enterprise}的总分为 {overall}，处于成熟度阶梯的 {rung}「{rung_name}」级：{means}。",
        "{enterprise} scores {overall} overall and stands on rung {rung}, “{rung_name}”: {means}.",
    ),
    "summary_no_overall": Text(
        "没有可计分的阶段，因此等级为最低的 {rung}「{rung_name}」。",
        "No stage could be scored, so the rung is the lowest, {rung} “{rung_name}”.",
    ),
    "summary_next": Text(
        "下一级是 {next_rung}「{next_name}」（{next_means}）：需要总分不低于 {next_rung}，"
        "且每个阶段得分不低于 {stage_min}。",
        "The next rung is {next_rung}, “{next_name}” ({next_means}): it needs an overall score "
        "of at least {next_rung} and every stage at {stage_min} or above.",
    ),
    "summary_top": Text(
        "这是阶梯的最高一级；后续重点是保持并扩展到整条价值链。",
        "This is the top of the ladder; the task now is to keep it and extend it along the "
        "value chain.",
    ),
    "summary_roadmap": Text(
        "下文列出了制约因素、按效果排序的改进步骤，以及企业当前符合或接近符合的扶持政策。",
        "The sections below name what holds the rung back, the improvement steps ranked by "
        "effect, and the support programmes the firm matches or nearly matches.",
    ),
    "crosswalk": Text("参考对照", "Indicative crosswalk"),
    "cmmm": Text("≈ 智能制造能力成熟度（GB/T 39116，CMMM）", "≈ CMMM (GB/T 39116)"),
    "miit": Text("≈ 工信部中小企业数字化水平", "≈ MIIT SME digital level"),
    # stages
    "stages": Text("各阶段得分", "Stage scores"),
    "stage": Text("阶段", "Stage"),
    "weight": Text("权重", "Weight"),
    "score": Text("得分", "Score"),
    "stage_band": Text("对应等级", "At rung"),
    "needed_next": Text("下一级所需", "Needed for next rung"),
    "status": Text("状态", "Status"),
    "meets": Text("已满足", "met"),
    "below": Text("不足", "below"),
    "binding": Text("制约等级", "holds the rung back"),
    "radar_series": Text("本次得分", "This assessment"),
    "radar_reference": Text("下一级所需最低阶段分", "Least stage score for the next rung"),
    "stage_not_scored": Text(
        "该阶段没有适用的已答题目，不计入总分。",
        "No applicable answered question: left out of the overall score.",
    ),
    # held back
    "held_back": Text("制约等级的因素", "What holds the rung back"),
    "held_overall": Text(
        "总分 {actual}：{rung} 级要求总分不低于 {needed}。",
        "Overall score {actual}: rung {rung} needs at least {needed}.",
    ),
    "held_stage": Text(
        "「{stage}」阶段得分 {actual}：{rung} 级要求每个阶段不低于 {needed}"
        "（任何阶段都不能落后超过一级）。",
        "Stage “{stage}” scores {actual}: rung {rung} needs every stage at {needed} or above "
        "(no stage may be more than one rung behind).",
    ),
    "held_none": Text("没有制约因素：已达阶梯最高级。", "Nothing: the firm is on the top rung."),
    # roadmap
    "roadmap": Text("改进路线图", "Roadmap"),
    "roadmap_intro": Text(
        "以下步骤按每单位题目权重对总分的提升排序，目标是 {next_rung}「{next_name}」级。"
        "“当前”是本次的回答，“目标”是需要达到的选项。",
        "The steps below are ranked by how much each raises the overall score per unit of "
        "question weight, towards rung {next_rung}, “{next_name}”. “Now” is this assessment's "
        "answer, “target” the option to reach.",
    ),
    "roadmap_none": Text(
        "没有可通过改进回答到达的下一级。", "No next rung can be reached by changing answers."
    ),
    "step_no": Text("序号", "#"),
    "step_question": Text("题目", "Question"),
    "step_now": Text("当前", "Now"),
    "step_target": Text("目标", "Target"),
    "step_gain": Text("总分提升", "Gain"),
    "step_binding": Text("提升制约阶段", "lifts a binding stage"),
    "what_if": Text("最少改动方案", "Fewest changes"),
    "what_if_text": Text(
        "只需改动以下 {count} 个回答即可达到 {rung} 级（届时总分 {overall}）：",
        "Changing these {count} answers reaches rung {rung} (overall score then {overall}):",
    ),
    "what_if_approx": Text(
        "（近似解：可能存在改动更少的方案。）", "(An approximation: fewer changes may exist.)"
    ),
    "steps_more": Text(
        "另有 {count} 个步骤未列出，可在线查看完整路线图。",
        "{count} further steps are not listed; the full roadmap is online.",
    ),
    # subsidies
    "subsidies": Text("扶持政策匹配", "Support programmes"),
    "subsidies_intro": Text(
        "根据企业信息和本次评估结果，与政策目录逐条比对的结果（截至评估日）。"
        "金额为估算，以主管部门审核为准。",
        "How the firm's profile and this result compare with each programme in the catalogue "
        "(as of the assessment date). Amounts are estimates; the issuing body decides.",
    ),
    "subsidies_none": Text(
        "本次评估没有符合或接近符合的扶持政策。",
        "No programme is matched or nearly matched by this assessment.",
    ),
    "eligible": Text("符合条件", "Matched"),
    "near": Text("接近符合", "Nearly matched"),
    "near_intro": Text(
        "只差评估结果或回答中的几项：完成下列事项即可符合。",
        "Only items of the result or the answers are missing: doing these qualifies the firm.",
    ),
    "issuer": Text("发布机构", "Issuer"),
    "kind": Text("类型", "Kind"),
    "level": Text("级别", "Level"),
    "reasons": Text("条件", "Conditions"),
    "todo": Text("待办", "To do"),
    "missing_facts": Text("尚未填报", "Not yet declared"),
    "estimate": Text("估算", "Estimate"),
    "source": Text("依据", "Source"),
    "confidence": Text("可信度", "Confidence"),
    "valid": Text("有效期", "In force"),
    "open_ended": Text("长期", "open-ended"),
    "others_not_listed": Text(
        "另有 {count} 项政策当前不符合或不在有效期内，未列出。",
        "{count} further programmes do not apply now or are not in force, and are not listed.",
    ),
    # trend and peers
    "trend": Text("历次评估趋势", "Trend"),
    "trend_first": Text(
        "这是本企业对该问卷的首次评估；再次评估后将在此显示变化。",
        "This is the firm's first assessment with this questionnaire; later ones will show "
        "the change here.",
    ),
    "trend_date": Text("提交日期", "Submitted"),
    "trend_change": Text("较上次", "Change"),
    "this_assessment": Text("（本次）", "(this one)"),
    "peers": Text("同行业对比", "Peer comparison"),
    "peers_shown": Text(
        "在同行业（{industry}）已核实的 {count} 家企业中（截至本次提交日，各取最近一次评估），"
        "本企业总分高于约 {percentile}% 的企业。",
        "Among {count} verified enterprises in the same industry ({industry}), each with its "
        "latest assessment up to this submission date, the firm scores above about "
        "{percentile}% of them.",
    ),
    "peers_hidden": Text(
        "同行业已核实企业少于 {min_cell} 家，为保护企业数据不显示对比。",
        "Fewer than {min_cell} verified enterprises in the same industry: no comparison is "
        "shown, to protect each firm's data.",
    ),
    "peers_no_overall": Text(
        "本次评估没有总分，无法对比。", "This assessment has no overall score to compare."
    ),
    # methodology
    "methodology": Text("附录：方法说明", "Appendix: methodology"),
    "ladder": Text("成熟度阶梯", "The maturity ladder"),
    "means": Text("含义", "Means"),
    "scoring_rule": Text("计分规则", "Scoring rule"),
    "rule_1": Text(
        "每道适用且已作答的题目按所选答案得到阶梯上的一个水平值 Lq（2.75–4.00）。",
        "Each applicable, answered question gets a level Lq on the ladder scale (2.75–4.00) "
        "from its answer.",
    ),
    "rule_2": Text(
        "阶段得分 S = Σ wq·Lq / Σ wq，只计适用的题目（“不适用”、未答的选答题和不适用的题目除外）。",
        "Stage score S = Σ wq·Lq / Σ wq over the stage's applicable questions (“n/a” "
        "answers, unanswered optional and non-applicable questions are left out).",
    ),
    "rule_3": Text(
        "总分 O = Σ Ws·Ss / Σ Ws，只计有得分的阶段。",
        "Overall score O = Σ Ws·Ss / Σ Ws over the scored stages.",
    ),
    "rule_4": Text(
        "等级为满足“O ≥ r 且每个阶段 Ss ≥ r − 0.25”的最高 r（3.00、3.25 … 4.00），否则为 2.75。",
        "The rung is the highest r in 3.00, 3.25 … 4.00 with O ≥ r and every scored stage "
        "Ss ≥ r − 0.25; if none, 2.75.",
    ),
    "rule_5": Text(
        "以精确小数计算和比较；显示时四舍五入到两位小数"
        "（因此显示为 3.25 的总分仍可能低于 3.25 级）。",
        "Arithmetic is exact; shown scores are rounded half-up to 2 decimals (so a shown "
        "3.25 may still sit below the 3.25 rung).",
    ),
    "stored_result": Text(
        "本报告依据提交时保存的评估结果生成，不会重新计分。",
        "This report is made from the result stored at submission; it is never re-scored.",
    ),
    "peer_method": Text(
        "同行业对比：同一 GB/T 4754 行业大类、同一问卷、已核实的企业，"
        "各取截至本次提交日的最近一次评估；"
        "百分位 = （低于本企业的家数 + 相同家数的一半）÷ 总家数；少于 {min_cell} 家时不显示。",
        "Peer comparison: verified enterprises of the same GB/T 4754 division and questionnaire, "
        "each with its latest assessment up to this submission date; percentile = (firms "
        "below + half the firms equal) ÷ all; not shown under {min_cell} firms.",
    ),
    "disclaimer": Text(
        "本报告为企业自评结果，由 zhizao（智造）生成，不构成任何认证或政策审批意见。",
        "This report is a self-assessment made with zhizao; it is neither a certification nor "
        "a decision on any support programme.",
    ),
}

SIZE_CLASSES: dict[str, Text] = {
    "micro": Text("微型", "Micro"),
    "small": Text("小型", "Small"),
    "medium": Text("中型", "Medium"),
    "large": Text("大型", "Large"),
}

KINDS: dict[str, Text] = {
    "grant": Text("资金补助", "Grant"),
    "voucher": Text("服务券", "Voucher"),
    "insurance_compensation": Text("保险补偿", "Insurance compensation"),
    "loan_interest": Text("贷款贴息", "Loan interest subsidy"),
    "lease_subsidy": Text("融资租赁补贴", "Lease subsidy"),
    "award": Text("奖励", "Award"),
    "recognition": Text("认定", "Recognition"),
    "service": Text("服务", "Service"),
}

LEVELS: dict[str, Text] = {
    "national": Text("国家级", "National"),
    "municipal": Text("市级", "Municipal"),
    "district": Text("区级", "District"),
}

CONFIDENCE: dict[str, Text] = {
    "verified": Text("已核实", "verified"),
    "secondary": Text("二手来源", "secondary source"),
    "unverified": Text("未核实", "unverified"),
}


@cache
def labels(lang: str) -> dict[str, str]:
    """Every label in ``lang``."""
    return {key: text.get(lang) for key, text in LABELS.items()}


def label_of(table: dict[str, Text], key: str | None, lang: str) -> str:
    """A coded value's label, or the code itself when the table does not know it."""
    if key is None:
        return ""
    text = table.get(key)
    return key if text is None else text.get(lang)
