"""The verification page: a district official (or an admin) confirms firms registered in their
district. A plain form per firm; no JavaScript needed."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.kit.db import SessionDep
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.routing import domain_router
from app.kit.web.csrf import check_same_origin
from app.kit.web.deps import FormDep, PageLang, SignedInPage, base_context, form_str
from app.kit.web.templating import render
from app.verification import service

router = domain_router(include_in_schema=False)

TEXT = {
    "zh": {
        "title": "企业核验",
        "intro": "确认在本区注册的企业真实存在。只有已核验企业计入热力图。",
        "pending": "待核验",
        "verified": "已核验",
        "all": "全部",
        "name": "企业名称",
        "credit_code": "统一社会信用代码",
        "district": "区",
        "industry": "行业",
        "size": "规模",
        "status": "状态",
        "action": "操作",
        "verify": "核验",
        "revoke": "撤销核验",
        "synthetic": "合成演示",
        "none": "没有符合条件的企业。",
        "next": "下一页",
        "method": {
            "admin": "管理员",
            "official": "区级官员",
            "integrator": "集成商证明",
            "synthetic": "合成数据",
        },
    },
    "en": {
        "title": "Verify enterprises",
        "intro": "Confirm that firms registered in your district are real. Only verified firms "
        "count in the heatmaps.",
        "pending": "Pending",
        "verified": "Verified",
        "all": "All",
        "name": "Name",
        "credit_code": "Credit code",
        "district": "District",
        "industry": "Industry",
        "size": "Size",
        "status": "Status",
        "action": "Action",
        "verify": "Verify",
        "revoke": "Withdraw",
        "synthetic": "synthetic demo",
        "none": "No firms match.",
        "next": "Next page",
        "method": {
            "admin": "admin",
            "official": "district official",
            "integrator": "integrator attestation",
            "synthetic": "synthetic data",
        },
    },
}


@router.get("/verification", response_class=HTMLResponse)
def verification_page(
    request: Request, session: SessionDep, principal: SignedInPage, lang: PageLang
) -> HTMLResponse:
    status = request.query_params.get("status", "pending")
    status = status if status in ("pending", "verified", "all") else "pending"
    page = service.listing(
        session,
        principal,
        status=None if status == "all" else status,
        district_code=None,
        cursor=request.query_params.get("cursor") or None,
        limit=50,
    )
    context = {
        **base_context(request, principal, lang),
        "T": TEXT[lang],
        "status": status,
        "page": page,
        "districts": {c: (d.en if lang == "en" else d.zh) for c, d in DISTRICTS.items()},
        "industries": {c: (i.en if lang == "en" else i.zh) for c, i in INDUSTRIES.items()},
    }
    return render(request, "verification/list.html", context, lang=lang)


@router.post("/verification/{enterprise_id}")
def verification_submit(
    enterprise_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: SignedInPage,
    form: FormDep,
) -> Response:
    check_same_origin(request)
    service.set_verified(session, principal, enterprise_id, form_str(form, "verified") == "1")
    status = form_str(form, "status") or "pending"
    return RedirectResponse(f"/verification?status={status}", status_code=303)
