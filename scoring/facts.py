"""Optional enterprise facts that subsidy matching needs beyond the profile (issue 6 item 3).

Each fact has a name (conditions read it as ``profile.<name>``), a type, a label and unit in
both languages and bounds, so the service can validate what a firm declares. Every fact is
optional: a fact the firm has not declared is unknown, and a condition leaf on it is false
(design §6) — matching then says which facts to declare.

Types: ``money`` (CNY, ``Decimal`` ≥ 0), ``integer``, ``percent`` (0–100), ``boolean`` and
``choice`` (one of ``choices``). ``derived`` facts are computed by ``derive_facts`` from other
values and are never declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from scoring._raw import describe, to_decimal
from scoring.errors import Phrase
from scoring.models import Profile, Text

__all__ = [
    "DERIVED_FROM",
    "FACTS",
    "FACTS_BY_NAME",
    "FACT_NAMES",
    "FactChoice",
    "FactDef",
    "FactType",
    "MAX_MONEY_CNY",
    "derive_facts",
    "validate_facts",
]

FactType = Literal["money", "integer", "percent", "boolean", "choice"]

_CNY = Text("元", "CNY")
_PCT = Text("%", "%")
_YEARS = Text("年", "years")
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class FactChoice:
    """One allowed value of a ``choice`` fact."""

    id: str
    label: Text


@dataclass(frozen=True, slots=True, kw_only=True)
class FactDef:
    """The definition of one optional enterprise fact."""

    name: str
    type: FactType
    label: Text
    help: Text
    unit: Text | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    choices: tuple[FactChoice, ...] = ()
    derived: bool = False

    def to_dict(self, lang: str) -> dict[str, object]:
        """JSON-able definition (for forms and API documentation)."""
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label.get(lang),
            "help": self.help.get(lang),
            "unit": None if self.unit is None else self.unit.get(lang),
            "min": None if self.min is None else str(self.min),
            "max": None if self.max is None else str(self.max),
            "choices": [{"id": c.id, "label": c.label.get(lang)} for c in self.choices],
            "derived": self.derived,
        }


#: The most a money fact may be: ¥10 trillion, the bound of a firm's annual revenue too (no
#: firm's project, spend or contract is larger). Beyond it a figure is a typing slip, and
#: amounts derived from it would leave the 28 digits of the default decimal context.
MAX_MONEY_CNY = Decimal(10) ** 13


def _money(name: str, label: Text, help: Text) -> FactDef:
    return FactDef(
        name=name, type="money", label=label, help=help, unit=_CNY,
        min=Decimal(0), max=MAX_MONEY_CNY,
    )  # fmt: skip


def _flag(name: str, label: Text, help: Text) -> FactDef:
    return FactDef(name=name, type="boolean", label=label, help=help)


def _percent(name: str, label: Text, help: Text, *, derived: bool = False) -> FactDef:
    return FactDef(
        name=name, type="percent", label=label, help=help, unit=_PCT,
        min=Decimal(0), max=_HUNDRED, derived=derived,
    )  # fmt: skip


#: Every optional fact, in the order a form shows them.
FACTS: tuple[FactDef, ...] = (
    # --- a technical-transformation / smart-factory project -----------------------------------
    _money(
        "project_investment_cny",
        Text("技改或智能化项目总投资", "Total investment of the transformation project"),
        Text(
            "计划或已实施的技术改造、设备更新或智能工厂项目总投资（含厂房、设备、软件、智能化集成等）",
            "Planned or actual total investment of the technical-transformation, equipment-renewal "
            "or smart-factory project (buildings, equipment, software, integration …)",
        ),
    ),
    _percent(
        "fixed_asset_share_pct",
        Text("项目固定资产投资占比", "Fixed-asset share of the project"),
        Text(
            "项目总投资中固定资产投资所占比例",
            "Share of fixed assets in the project's total investment",
        ),
    ),
    _flag(
        "project_ready",
        Text("项目手续齐全、资金落实", "Project approved and funded"),
        Text(
            "立项、规划、土地、环评等手续已办妥，建设资金已落实",
            "Project filing, planning, land and environmental approvals done; funding in place",
        ),
    ),
    _flag(
        "project_started",
        Text("项目已开工", "Project construction started"),
        Text("技改项目已开工建设", "Construction of the project has started"),
    ),
    _flag(
        "other_municipal_funds",
        Text("项目已获其他市级专项资金", "Project already has other municipal funds"),
        Text(
            "该项目已获得其他市级财政专项资金支持",
            "The project already received another municipal special fund",
        ),
    ),
    _money(
        "loan_interest_annual_cny",
        Text("项目银行贷款年利息", "Annual interest on the project's bank loan"),
        Text(
            "为该技改/设备更新项目所借银行贷款每年应付的利息",
            "Interest payable per year on the bank loan taken for the project",
        ),
    ),
    _money(
        "leased_equipment_value_cny",
        Text("融资租赁合同设备投资额", "Equipment value in a financial-leasing contract"),
        Text(
            "通过融资租赁方式取得的项目设备投资额（租赁合同中的设备价值）",
            "Equipment investment acquired through a financial-leasing contract",
        ),
    ),
    # --- first unit (首台套) / first batch ------------------------------------------------------
    _flag(
        "first_unit_recognised",
        Text("产品获首台(套)/首批次认定", "Product recognised as first unit / first batch"),
        Text(
            "产品列入《首台(套)重大技术装备推广应用指导目录》或获上海市首台(套)/首批次认定",
            "The product is listed in the national first-unit major-equipment catalogue or "
            "recognised as first unit / first batch in Shanghai",
        ),
    ),
    _flag(
        "first_unit_national_catalogue",
        Text("产品列入国家首台(套)指导目录", "Product in the national first-unit catalogue"),
        Text(
            "产品列入国家《首台(套)重大技术装备推广应用指导目录（2024版）》；"
            "仅获上海市首台(套)/首批次认定的不算",
            "The product is listed in the national catalogue of first-unit major technical "
            "equipment (首台(套)推广应用指导目录, 2024 edition); a Shanghai first-unit / "
            "first-batch recognition alone does not count",
        ),
    ),
    _flag(
        "first_unit_insured",
        Text("已投保首台(套)保险", "First-unit insurance taken out"),
        Text("已为首台(套)装备投保综合险", "The first-unit equipment is insured under the scheme"),
    ),
    _money(
        "first_unit_premium_cny",
        Text("首台(套)保险年保费", "First-unit insurance premium (per year)"),
        Text("实际缴纳的首台(套)保险年保费", "Insurance premium actually paid per year"),
    ),
    _money(
        "first_unit_contract_cny",
        Text("首台(套)/首批次产品销售合同金额", "First-unit / first-batch sales contract amount"),
        Text("首台(套)或首批次产品的销售合同金额", "Amount of the sales contract of the product"),
    ),
    # --- services and vouchers ------------------------------------------------------------------
    _money(
        "compute_contract_cny",
        Text("智能算力租用合同金额", "Intelligent-compute rental contract"),
        Text(
            "为核心算法或模型研发租用上海智能算力的合同金额",
            "Contract value for renting Shanghai intelligent compute for core-algorithm R&D",
        ),
    ),
    _money(
        "diagnosis_cost_cny",
        Text("工业互联网诊断服务费用", "Industrial-internet diagnosis cost"),
        Text(
            "数字化/工业互联网诊断服务的合同费用",
            "Cost of the digital / industrial-internet diagnosis",
        ),
    ),
    _money(
        "testing_contract_cny",
        Text("检验检测认证服务合同金额", "Testing and certification contract"),
        Text(
            "购买检验检测认证服务的合同金额", "Contract value of testing and certification services"
        ),
    ),
    _flag(
        "testing_multi_cert",
        Text("检验检测为“一测多证”服务", "Testing is a “one test, many certificates” service"),
        Text(
            "所购检验检测认证服务为“一测多证”（一次检测、取得多个认证）",
            "The testing bought is a 'one test, many certificates' service (one test yields "
            "several certificates)",
        ),
    ),
    FactDef(
        name="diagnosis_scope",
        type="choice",
        label=Text("诊断范围", "Diagnosis scope"),
        help=Text(
            "诊断覆盖一个车间还是整个工厂",
            "Whether the diagnosis covers a workshop or the whole factory",
        ),
        choices=(
            FactChoice("workshop", Text("车间级", "Workshop")),
            FactChoice("factory", Text("工厂级", "Factory")),
        ),
    ),
    # --- R&D and innovation status -------------------------------------------------------------
    _money(
        "rd_spend_cny",
        Text("上年度研发费用", "R&D spend last year"),
        Text("上一会计年度的研发费用总额", "Total R&D expenditure in the previous financial year"),
    ),
    _percent(
        "rd_intensity_pct",
        Text("研发费用占营业收入比例", "R&D spend as a share of revenue"),
        Text(
            "由上年度研发费用和年营业收入计算，无需填写",
            "Computed from last year's R&D spend and annual revenue; not declared",
        ),
        derived=True,
    ),
    _percent(
        "rd_staff_pct",
        Text("研发人员占职工总数比例", "R&D staff share of all staff"),
        Text("研发人员占全部职工的比例", "R&D staff as a share of all employees"),
    ),
    _flag(
        "high_tech_enterprise",
        Text("有效期内的高新技术企业", "Valid high-tech enterprise (HNTE)"),
        Text("持有有效期内的高新技术企业证书", "Holds a valid high-tech enterprise certificate"),
    ),
    _flag(
        "tech_sme",
        Text("科技型中小企业（已入库）", "Registered technology-based SME"),
        Text(
            "已通过科技型中小企业评价并入库", "Evaluated and registered as a technology-based SME"
        ),
    ),
    _flag(
        "high_tech_products",
        Text("主营高新技术产品或服务", "Sells high-tech products or services"),
        Text("主要产品或服务属于高新技术领域", "Main products or services are high-tech"),
    ),
    _flag(
        "listed",
        Text("上市企业", "Listed company"),
        Text("企业已在证券交易所上市", "The company is listed on a stock exchange"),
    ),
    _flag(
        "first_time_sishang",
        Text("首次纳入“四上”统计", "First time in the “four above” statistics"),
        Text(
            "本年度首次纳入“四上”企业统计（小升规或新建入统）",
            "Entered the 'four above' (四上) enterprise statistics for the first time this year "
            "(grown above designated size or newly registered)",
        ),
    ),
    FactDef(
        name="zjtx_status",
        type="choice",
        label=Text("优质中小企业梯度", "Quality-SME recognition (专精特新)"),
        help=Text(
            "目前获得的优质中小企业梯度认定",
            "The recognition currently held in the quality-SME gradient",
        ),
        choices=(
            FactChoice("none", Text("无", "None")),
            FactChoice("innovative", Text("创新型中小企业", "Innovative SME")),
            FactChoice(
                "specialized", Text("专精特新中小企业", "Specialised-refined-distinct-novel SME")
            ),
            FactChoice("little_giant", Text("专精特新“小巨人”企业", "“Little giant”")),
        ),
    ),
    FactDef(
        name="niche_years",
        type="integer",
        label=Text("从事细分市场年限", "Years in the niche market"),
        help=Text("从事特定细分市场的年数", "Years spent in the firm's niche market"),
        unit=_YEARS,
        min=Decimal(0),
        max=Decimal(200),
    ),
    _money(
        "new_equity_2y_cny",
        Text("近两年新增股权融资", "New equity financing in the last two years"),
        Text("近两年新增股权融资总额", "Total new equity financing raised in the last two years"),
    ),
    _flag(
        "revenue_first_over_20m",
        Text("年销售额首次超过2000万元", "Annual sales above 20 M CNY for the first time"),
        Text(
            "本年度年销售额首次超过2000万元",
            "Annual sales exceeded 20,000,000 CNY for the first time this year",
        ),
    ),
    _flag(
        "little_giant_growth",
        Text("营业收入连续两年增长20%以上", "Revenue up 20 % or more two years running"),
        Text(
            "最近两个年度营业收入每年增长20%以上",
            "Revenue grew by at least 20 % in each of the last two years",
        ),
    ),
    _flag(
        "leads_standard",
        Text("主导制定的标准已实施", "Leads a standard now in force"),
        Text(
            "作为唯一起草单位或第一起草单位主导制定的标准在申报期内实施",
            "Sole or first drafter of a standard implemented in the reference period",
        ),
    ),
    # --- tax measures ---------------------------------------------------------------------------
    _money(
        "new_equipment_cny",
        Text("本年新购进设备、器具金额", "New equipment and instruments bought this year"),
        Text(
            "本年度新购进的设备、器具金额（单位价值不超过500万元的部分）",
            "Value of new equipment and instruments bought this year (items of at most "
            "5,000,000 CNY each)",
        ),
    ),
    _money(
        "deductible_input_vat_cny",
        Text("年度可抵扣进项税额", "Deductible input VAT for the year"),
        Text(
            "一般纳税人本年度当期可抵扣的增值税进项税额合计",
            "Total input VAT deductible in the year (general VAT taxpayers)",
        ),
    ),
    # --- company ---------------------------------------------------------------------------------
    FactDef(
        name="founding_year",
        type="integer",
        label=Text("成立年份", "Year founded"),
        help=Text("营业执照上的成立年份", "The year of establishment on the business licence"),
        min=Decimal(1900),
        max=Decimal(2100),
    ),
    FactDef(
        name="firm_age_years",
        type="integer",
        label=Text("企业成立年数", "Years since the firm was founded"),
        help=Text(
            "由成立年份和评估日期计算，无需填写",
            "Computed from the year founded and the assessment date; not declared",
        ),
        unit=_YEARS,
        min=Decimal(0),
        derived=True,
    ),
    # --- management systems, software and innovative products ---------------------------------
    _flag(
        "dcmms_first_certified",
        Text("首次通过两化融合管理体系评定", "First certified under GB/T 23001 (两化融合)"),
        Text(
            "企业首次通过两化融合管理体系（GB/T 23001）贯标评定",
            "The firm obtained its first certification under the integration of informatisation "
            "and industrialisation management system standard (GB/T 23001)",
        ),
    ),
    _flag(
        "first_version_software",
        Text("自主开发首版次软件产品", "Develops a first-version software product"),
        Text(
            "企业自主开发的软件产品属于首版次软件（首次实现市场化应用）",
            "A software product the firm developed is on the market for the first time "
            "(首版次软件)",
        ),
    ),
    _flag(
        "innovation_catalogue_purchase",
        Text("采购创新产品推荐目录产品", "Buys products from the innovation-product catalogue"),
        Text(
            "企业采购列入《上海市创新产品推荐目录》的首次投放市场产品",
            "The firm buys first-to-market products listed in the Shanghai innovation-product "
            "recommendation catalogue",
        ),
    ),
    # --- smart-factory recognition ---------------------------------------------------------------
    FactDef(
        name="smart_factory_tier",
        type="choice",
        label=Text("已获智能工厂梯度等级", "Smart-factory tier held"),
        help=Text("已获得的智能工厂梯度培育等级", "The smart-factory tier the firm already holds"),
        choices=(
            FactChoice("none", Text("无", "None")),
            FactChoice("basic", Text("基础级", "Basic")),
            FactChoice("advanced", Text("先进级", "Advanced")),
            FactChoice("excellent", Text("卓越级", "Excellent")),
            FactChoice("leading", Text("领航级", "Leading")),
        ),
    ),
    _flag(
        "sh_smart_factory",
        Text("已获上海市智能工厂授牌", "Recognised as a Shanghai smart factory"),
        Text("已被认定并授牌为上海市智能工厂", "Recognised (授牌) as a Shanghai smart factory"),
    ),
)

FACTS_BY_NAME: Mapping[str, FactDef] = {fact.name: fact for fact in FACTS}
#: Names a condition may use as ``profile.<name>`` besides the design §6 profile fields.
FACT_NAMES = frozenset(FACTS_BY_NAME)
#: The declared values each derived fact is computed from.
DERIVED_FROM: Mapping[str, tuple[str, ...]] = {
    "rd_intensity_pct": ("rd_spend_cny", "annual_revenue_cny"),
    "firm_age_years": ("founding_year",),
}


def derive_facts(profile: Profile, on: date | None = None) -> dict[str, object]:
    """``profile`` plus the derived facts it allows; the input is not changed.

    * ``rd_intensity_pct`` = rd_spend_cny ÷ annual_revenue_cny × 100, exact, when both are
      declared and revenue is positive.
    * ``firm_age_years`` = the year of ``on`` − founding_year, when ``on`` is given and the
      firm was founded by then. The rule counts calendar years because only the year is
      declared: a firm founded in 2021 is 5 throughout 2026.
    """
    values = {name: value for name, value in profile.items() if name not in DERIVED_FROM}
    spend = to_decimal(profile.get("rd_spend_cny"))
    revenue = to_decimal(profile.get("annual_revenue_cny"))
    if spend is not None and revenue is not None and revenue > 0:
        values["rd_intensity_pct"] = spend * _HUNDRED / revenue
    founded = to_decimal(profile.get("founding_year"))
    if on is not None and founded is not None and founded <= on.year:
        values["firm_age_years"] = Decimal(on.year) - founded
    return values


def _check(fact: FactDef, raw: object) -> tuple[object, str | None]:
    if fact.derived:
        return None, Phrase("is computed, not declared")
    if fact.type == "boolean":
        if isinstance(raw, bool):
            return raw, None
        return None, Phrase("must be true or false, got %(got)s", got=describe(raw))
    if fact.type == "choice":
        ids = [choice.id for choice in fact.choices]
        if raw in ids:
            return raw, None
        return None, Phrase(
            "must be one of %(choices)s, got %(got)s", choices=", ".join(ids), got=describe(raw)
        )
    number = to_decimal(raw)
    if number is None:
        return None, Phrase("must be a number, got %(got)s", got=describe(raw))
    if fact.type == "integer" and number != number.to_integral_value():
        return None, Phrase("must be a whole number, got %(value)s", value=number)
    if fact.min is not None and number < fact.min:
        return None, Phrase("must be ≥ %(min)s, got %(value)s", min=fact.min, value=number)
    if fact.max is not None and number > fact.max:
        return None, Phrase("must be ≤ %(max)s, got %(value)s", max=fact.max, value=number)
    return number, None


def validate_facts(values: Mapping[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """Check declared facts: ``(clean, errors)``.

    ``clean`` holds the valid facts (numbers as ``Decimal``); ``errors`` maps each bad name to an
    English message, a ``Phrase`` (unknown names, derived facts, wrong types, out-of-bounds
    numbers).
    ``None`` means "not declared" and is dropped.
    """
    clean: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, raw in values.items():
        fact = FACTS_BY_NAME.get(name)
        if fact is None:
            errors[name] = Phrase("unknown fact")
            continue
        if raw is None:
            continue
        value, problem = _check(fact, raw)
        if problem is None:
            clean[name] = value
        else:
            errors[name] = problem
    return clean, errors
