"""The five example firms documented in docs/subsidies.md (shared by tests and the doc)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from scoring.subsidies import ResultSnapshot

#: The assessment date of every example: inside the 2026 technical-transformation call window.
ON = date(2026, 1, 28)


def _result(overall: str, rung: str, dig: str, aut: str, dat: str, cld: str) -> ResultSnapshot:
    stages = {
        "digitization": D(dig), "automation": D(aut), "data_collection": D(dat),
        "cloud_adoption": D(cld),
    }  # fmt: skip
    return ResultSnapshot(D(overall), D(rung), stages)


#: A: micro metal-products workshop in Jinshan.
JINSHAN_MICRO = {
    "district_code": "310116",
    "industry_code": "33",
    "size_class": "micro",
    "above_designated_size": False,
    "employees": 12,
    "annual_revenue_cny": D(2_800_000),
    "diagnosis_scope": "workshop",
    "diagnosis_cost_cny": D(40_000),
    "testing_contract_cny": D(60_000),
}
JINSHAN_RESULT = _result("3.0375", "3.00", "3.20", "3.10", "2.90", "2.95")

#: B: medium automotive supplier (industry 36) in Jiading.
JIADING_AUTO = {
    "district_code": "310114",
    "industry_code": "36",
    "size_class": "medium",
    "above_designated_size": True,
    "employees": 420,
    "annual_revenue_cny": D(180_000_000),
    "project_investment_cny": D(25_000_000),
    "fixed_asset_share_pct": D(75),
    "project_ready": True,
    "project_started": True,
    "other_municipal_funds": False,
    "loan_interest_annual_cny": D(600_000),
    "leased_equipment_value_cny": D(8_000_000),
    "sh_smart_factory": True,
    "smart_factory_tier": "basic",
    "zjtx_status": "specialized",
    "niche_years": 6,
    "rd_spend_cny": D(6_300_000),
}
JIADING_RESULT = _result("3.40", "3.25", "3.55", "3.60", "3.20", "3.25")

#: C: large electronics maker (industry 39) in Pudong, listed.
PUDONG_ELECTRONICS = {
    "district_code": "310115",
    "industry_code": "39",
    "size_class": "large",
    "above_designated_size": True,
    "employees": 3_200,
    "annual_revenue_cny": D(5_600_000_000),
    "project_investment_cny": D(120_000_000),
    "fixed_asset_share_pct": D(55),
    "project_ready": True,
    "project_started": True,
    "other_municipal_funds": False,
    "first_unit_recognised": True,
    "first_unit_national_catalogue": True,
    "first_unit_insured": True,
    "first_unit_premium_cny": D(1_500_000),
    "first_unit_contract_cny": D(80_000_000),
    "compute_contract_cny": D(3_000_000),
    "leads_standard": True,
    "high_tech_enterprise": True,
    "listed": True,
    "smart_factory_tier": "advanced",
}
PUDONG_RESULT = _result("3.8125", "3.75", "3.90", "3.85", "3.80", "3.70")

#: D: large listed machine-tool maker (industry 34) in Minhang: SME-only programmes drop out.
MINHANG_MACHINE_TOOLS = {
    "district_code": "310112",
    "industry_code": "34",
    "size_class": "large",
    "above_designated_size": True,
    "employees": 1_800,
    "annual_revenue_cny": D(900_000_000),
    "listed": True,
    "high_tech_enterprise": True,
    "founding_year": 1998,
    "rd_spend_cny": D(45_000_000),
    "new_equipment_cny": D(12_000_000),
    "deductible_input_vat_cny": D(30_000_000),
    "compute_contract_cny": D(2_000_000),
    "testing_contract_cny": D(400_000),
    "testing_multi_cert": True,
    "first_time_sishang": False,
}
MINHANG_RESULT = _result("3.55", "3.50", "3.60", "3.55", "3.50", "3.45")

#: E: small 规上 precision-parts maker (industry 34) in Songjiang with a declared project.
SONGJIANG_PROJECT = {
    "district_code": "310117",
    "industry_code": "34",
    "size_class": "small",
    "above_designated_size": True,
    "employees": 150,
    "annual_revenue_cny": D(60_000_000),
    "founding_year": 2012,
    "project_investment_cny": D(30_000_000),
    "fixed_asset_share_pct": D(80),
    "project_ready": True,
    "project_started": False,
    "loan_interest_annual_cny": D(800_000),
    "leased_equipment_value_cny": D(12_000_000),
    "high_tech_enterprise": True,
    "first_time_sishang": True,
    "rd_spend_cny": D(3_000_000),
    "testing_contract_cny": D(200_000),
    "testing_multi_cert": True,
}
SONGJIANG_RESULT = _result("3.30", "3.25", "3.40", "3.35", "3.30", "3.15")
