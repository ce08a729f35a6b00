"""Enterprise settings: profile, integrator grants, delete everything (the export is
tests/app/portability)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.enterprises.repository import EnterpriseRepository
from app.enterprises.schemas import ProfileUpdate
from app.enterprises.service import scoring_profile, update_profile
from app.heatmaps.verify import verify
from app.kit.guards import _AccessRepository
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.models import (
    Answer,
    Assessment,
    AuditEvent,
    Enterprise,
    Grant,
    HeatmapCell,
    HeatmapContribution,
    ReportJob,
    ReportPdf,
    Result,
    User,
)
from tests.answers import complete_answers
from tests.answers import questionnaire as served_questionnaire
from tests.app.heatmaps.helpers import submit as store_submission
from tests.app.heatmaps.helpers import verified_firm
from tests.factories import create_api_key, create_enterprise, create_user, login
from tests.pages import HTML, HTMX, hidden, sign_in, soup
from tests.races import at_once, meet_after


def test_settings_show_profile(client: TestClient, db: Session) -> None:
    enterprise = create_enterprise(db)
    sign_in(client, create_user(db, enterprise=enterprise))
    page = soup(client.get("/settings", headers=HTML))
    text = page.get_text()
    assert enterprise.credit_code in text and enterprise.name in text
    assert "浦东新区" in text  # district 310115, named in Chinese


def test_grant_and_revoke_an_integrator(
    client: TestClient, db: Session, settings: Settings
) -> None:
    enterprise = create_enterprise(db)
    sign_in(client, create_user(db, enterprise=enterprise))
    _, integrator = create_api_key(db, settings)
    page = soup(client.get("/settings", headers=HTML))
    form = page.select_one("form[action='/settings/grants']")
    response = client.post(
        "/settings/grants",
        data={"csrf_token": hidden(form, "csrf_token"), "client_id": str(integrator.id)},
        headers=HTML,
    )
    assert response.status_code == 200
    assert "已授权" in soup(response).select_one(".flash").get_text()
    grant = db.scalar(select(Grant).where(Grant.enterprise_id == enterprise.id))
    assert grant is not None and grant.revoked_at is None and grant.method == "web"
    grant_id = grant.id
    page = soup(response)
    revoke = page.select_one(f"form[action='/settings/grants/{integrator.id}/revoke']")
    response = client.post(
        revoke["action"], data={"csrf_token": hidden(revoke, "csrf_token")}, headers=HTMX
    )
    assert response.headers["hx-redirect"] == "/settings#integrators"
    db.rollback()  # a fresh snapshot: the request committed in its own session
    db.expunge_all()
    assert db.get(Grant, grant_id).revoked_at is not None


def _submitted_firm(client: TestClient, db: Session) -> tuple[Enterprise, User, str]:
    enterprise = create_enterprise(db)
    user = create_user(db, enterprise=enterprise)
    csrf = sign_in(client, user)
    headers = {"X-CSRF-Token": csrf}
    created = client.post(
        f"/api/v1/enterprises/{enterprise.id}/assessments",
        json={"questionnaire_id": "quick-check"},
        headers=headers,
    ).json()
    questionnaire = served_questionnaire("quick-check")
    answers = complete_answers(questionnaire, scoring_profile(enterprise))
    put = client.put(
        f"/api/v1/assessments/{created['id']}/answers",
        json={"answers": answers},
        headers={**headers, "If-Match": created["etag"]},
    )
    assert put.status_code == 200, put.text
    submitted = client.post(
        f"/api/v1/assessments/{created['id']}/submit",
        headers={**headers, "If-Match": put.json()["etag"]},
    )
    assert submitted.status_code == 200, submitted.text
    return enterprise, user, created["id"]


def test_delete_needs_confirmation_then_removes_every_row(client: TestClient, db: Session) -> None:
    enterprise, user, _ = _submitted_firm(client, db)
    enterprise_id, credit_code = enterprise.id, enterprise.credit_code
    other = create_enterprise(db)
    other_id = other.id
    create_user(db, enterprise=other)
    page = soup(client.get("/settings", headers=HTML))
    form = page.select_one("form[action^='/settings/delete']")
    # What is kept is said as it is (it said "only a record that a deletion took place").
    said = page.select_one("#delete-h").parent.get_text()
    assert "审计记录将保留" in said and "不含答案" in said
    token = hidden(form, "csrf_token")
    wrong = client.post("/settings/delete", data={"csrf_token": token, "confirm": "nope"})
    assert wrong.status_code == 422
    assert soup(wrong).select_one("#err-confirm")["role"] == "alert"
    assert db.get(Enterprise, enterprise.id) is not None
    response = client.post(
        "/settings/delete",
        data={"csrf_token": token, "confirm": credit_code.lower()},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    # The home page confirms it, once.
    home = client.get("/", headers=HTML)
    assert "审计记录" in soup(home).select_one(".flash").get_text()
    assert soup(client.get("/", headers=HTML)).select_one(".flash") is None
    db.rollback()  # a fresh snapshot: the request committed in its own session
    db.expunge_all()
    assert db.get(Enterprise, enterprise_id) is None
    for model in (User, Assessment, Result, Grant):
        assert (
            db.scalar(
                select(func.count()).select_from(model).where(model.enterprise_id == enterprise_id)
            )
            == 0
        )
    assert db.scalar(select(func.count()).select_from(Answer)) == 0
    # The other firm is untouched; the audit trail keeps a tombstone saying what happened.
    assert db.get(Enterprise, other_id) is not None
    tombstone = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "enterprise.delete", AuditEvent.enterprise_id == enterprise_id
        )
    )
    assert tombstone is not None and tombstone.detail["rows_deleted"]["answer"] >= 5
    kept = db.scalars(select(AuditEvent).where(AuditEvent.enterprise_id == enterprise_id)).all()
    assert {"assessment.submit", "enterprise.delete"} <= {event.action for event in kept}
    # The session went with the user.
    assert client.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("lang", "year_range", "money_range"),
    [
        ("zh", "1900 至 2100", "0 至 10,000,000,000,000"),
        ("en", "from 1900 to 2100", "from 0 to 10,000,000,000,000"),
    ],
)
def test_a_year_facts_range_is_not_grouped_like_a_figure(
    client: TestClient, db: Session, lang: str, year_range: str, money_range: str
) -> None:
    """The year founded read "1,900 至 2,100": a year is no figure to group by thousands."""
    sign_in(client, create_user(db, enterprise=create_enterprise(db)))
    page = soup(client.get(f"/settings?lang={lang}", headers=HTML))
    year = page.select_one("#hint-fact_founding_year").get_text()  # type: ignore[union-attr]
    assert year.endswith(year_range) and "1,900" not in year
    money = page.select_one("#hint-fact_project_investment_cny").get_text()  # type: ignore[union-attr]
    assert money.endswith(money_range)


def test_declare_facts_for_subsidy_matching(client: TestClient, db: Session) -> None:
    enterprise = create_enterprise(db)
    enterprise_id = enterprise.id
    sign_in(client, create_user(db, enterprise=enterprise))
    page = soup(client.get("/settings", headers=HTML))
    form = page.select_one("form[action^='/settings/facts']")
    money = next(
        field["name"] for field in form.select("input[name^=fact_]") if field.get("inputmode")
    )
    token = hidden(form, "csrf_token")
    # Each was stored before: 1e400 and 1e26 as such, "4,0" as 40, "1_000" as 1000.
    for junk in ("lots", "1e400", "1e26", "4,0", "1_000"):
        bad = client.post("/settings/facts", data={"csrf_token": token, money: junk}, headers=HTML)
        assert bad.status_code == 422, junk
        assert soup(bad).select_one(f"#err-{money}") is not None
    ok = client.post(
        "/settings/facts", data={"csrf_token": token, money: "2,000,000"}, headers=HTML
    )
    assert ok.status_code == 200 and "已保存" in soup(ok).get_text()
    db.rollback()
    db.expunge_all()
    stored = db.get(Enterprise, enterprise_id)
    assert stored is not None and stored.facts[money.removeprefix("fact_")] == 2_000_000


def refused_facts(client: TestClient, db: Session, **fields: str) -> Any:
    """The owner's facts form sent with ``fields`` (``fact_<name>``: text); it must be refused
    whole (422, nothing stored). Returns the page it answered with."""
    enterprise = create_enterprise(db)
    sign_in(client, create_user(db, enterprise=enterprise))
    form = soup(client.get("/settings", headers=HTML)).select_one("form[action^='/settings/facts']")
    data = {"csrf_token": hidden(form, "csrf_token"), **fields}
    response = client.post("/settings/facts", data=data, headers=HTML)
    assert response.status_code == 422
    db.rollback()
    db.expire_all()
    assert db.get(Enterprise, enterprise.id).facts == {}  # type: ignore[union-attr]
    return soup(response)


def test_every_bad_fact_is_marked_in_one_round(client: TestClient, db: Session) -> None:
    """A negative figure beside one the form could not read went unmarked until the typo was
    fixed and the form sent again."""
    typed = {"fact_project_investment_cny": "abc", "fact_rd_spend_cny": "-5"}
    page = refused_facts(client, db, **typed)
    summary = {a["href"] for a in page.select("#error-summary a")}
    for name, value in typed.items():
        assert page.select_one(f"#err-{name}") is not None, name
        assert f"#f-{name}" in summary, name
        assert page.select_one(f"#f-{name}")["value"] == value, name


def test_a_yes_no_or_choice_fact_takes_only_its_own_values(client: TestClient, db: Session) -> None:
    """A tampered yes/no value ("maybe") was stored as "no", a "no" the firm never declared
    that can change its subsidy matching; and a bad choice was told to enter a number."""
    page = refused_facts(client, db, fact_project_ready="maybe", fact_zjtx_status="bogus")
    for name in ("project_ready", "zjtx_status"):
        error = page.select_one(f"#err-fact_{name}").get_text(strip=True)
        assert error.endswith("请从列出的选项中选择。"), name


def test_a_money_fact_in_fractions_of_a_fen_is_a_field_error(
    client: TestClient, db: Session
) -> None:
    enterprise = create_enterprise(db)
    sign_in(client, create_user(db, enterprise=enterprise))
    form = soup(client.get("/settings", headers=HTML)).select_one("form[action^='/settings/facts']")
    token = hidden(form, "csrf_token")
    data = {"csrf_token": token, "fact_project_investment_cny": "1500000.005"}
    response = client.post("/settings/facts", data=data, headers=HTML)
    assert response.status_code == 422
    page = soup(response)
    assert "两位小数" in page.select_one("#err-fact_project_investment_cny").get_text()
    assert page.select_one("#f-fact_project_investment_cny")["value"] == "1500000.005"
    db.rollback()
    db.expire_all()
    assert db.get(Enterprise, enterprise.id).facts == {}  # type: ignore[union-attr]


def profile_form_token(client: TestClient) -> str:
    """The CSRF token of the profile form as the signed-in owner gets it."""
    form = soup(client.get("/settings/profile", headers=HTML)).select_one(
        "form[action='/settings/profile']"
    )
    return str(hidden(form, "csrf_token"))


def post_profile(
    client: TestClient, csrf: str, name: str, district_code: str, industry_code: str, **sizes: str
) -> Any:
    """The profile form as the owner sends it (``sizes``: ``employees``, ``annual_revenue_wan``)."""
    return client.post(
        "/settings/profile",
        data={
            "csrf_token": csrf,
            "name": name,
            "district_code": district_code,
            "industry_code": industry_code,
            **sizes,
        },
        headers=HTML,
    )


def test_a_move_and_a_confirmation_at_once_leave_no_confirmed_firm_in_unconfirmed_cells(
    app: FastAPI, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner moves the firm to another district while that district's official confirms
    it (on another app instance, say): both read it unconfirmed, so the move did not let the
    confirmation lapse, and the firm stood confirmed in a district no one had confirmed it in,
    its history still in the old district's cells. The move reads the firm under its lock: the
    confirmation comes first (and lapses with the move) or after it (and finds the firm gone
    from the official's district)."""
    firm = create_enterprise(db, district_code="310117", industry_code="34")
    store_submission(db, firm, datetime.now(UTC))
    owner = TestClient(app, base_url="http://testserver")
    official = TestClient(app, base_url="http://testserver")
    try:
        sign_in(owner, create_user(db, enterprise=firm))
        login(official, create_user(db, role="official", district_code="310117"))
        csrf = profile_form_token(owner)
        barrier = meet_after(monkeypatch, _AccessRepository, "enterprise", 2)
        # The confirmation's read of the firm (the move's locked read is wrapped too: while the
        # lock keeps the other request out, its wait times out and it goes on).
        meet_after(monkeypatch, EnterpriseRepository, "locked", 2, barrier)
        moved, _confirmed = at_once(
            [
                lambda: post_profile(
                    owner,
                    csrf,
                    firm.name,
                    "310115",
                    "34",
                    employees=str(firm.employees),
                    annual_revenue_wan=f"{firm.annual_revenue_cny / 10_000:g}",
                ),
                lambda: official.put(
                    f"/api/v1/verification/enterprises/{firm.id}", json={"verified": True}
                ),
            ]
        )
    finally:
        owner.close()
        official.close()
    assert moved.status_code == 200, moved.text
    db.rollback()
    db.expire_all()
    stored = db.get(Enterprise, firm.id)
    assert stored is not None and stored.district_code == "310115"
    assert not stored.verified
    assert verify(db).differences == []


def test_the_owner_edits_the_profile_and_the_firm_moves_in_the_heatmaps(
    client: TestClient, db: Session
) -> None:
    enterprise = verified_firm(db, district_code="310115", industry_code="36")
    store_submission(db, enterprise, datetime(2026, 10, 1, tzinfo=UTC))
    sign_in(client, create_user(db, enterprise=enterprise))
    page = soup(client.get("/settings/profile", headers=HTML))
    form = page.select_one("form[action='/settings/profile']")
    assert page.select_one("#f-annual_revenue_wan")["value"] == "4500"
    response = post_profile(
        client,
        hidden(form, "csrf_token"),
        "上海更名精密机械有限公司",
        "310104",
        "34",
        employees="15",
        annual_revenue_wan="280",
    )
    assert response.status_code == 200 and soup(response).select_one(".flash") is not None
    db.rollback()
    db.expire_all()
    changed = db.get(Enterprise, enterprise.id)
    assert changed is not None
    assert (changed.name, changed.district_code, changed.size_class) == (
        "上海更名精密机械有限公司",
        "310104",
        "micro",
    )
    # enterprise.changed moved the firm's history to its new cells.
    cells = {(c.district_code, c.industry_code) for c in db.scalars(select(HeatmapContribution))}
    assert cells == {("310104", "34")}
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "enterprise.profile"))


@pytest.mark.parametrize("by_admin", [False, True])
def test_a_confirmed_firm_that_moves_is_confirmed_again_before_it_counts(
    client: TestClient, db: Session, by_admin: bool
) -> None:
    """A confirmation vouches for the firm where it was registered: a firm a district official
    confirmed moved itself to another district (or division, or size) and counted at once in
    cells no one had confirmed it for, so one official could pad another district's cells. Its
    confirmation now lapses, unless an admin made the change."""
    enterprise = verified_firm(db, district_code="310115", industry_code="36")
    store_submission(db, enterprise, datetime(2026, 10, 1, tzinfo=UTC))

    def counted(district: str) -> int:
        return int(
            db.scalar(
                select(func.coalesce(func.sum(HeatmapCell.firms), 0)).where(
                    HeatmapCell.district_code == district
                )
            )
        )

    before = counted("310115")
    assert before > 0
    if by_admin:
        sign_in(client, create_user(db, role="admin"))
        client.cookies.set("zhizao_firm", str(enterprise.id))
        service_update(db, enterprise.id, "310104")
    else:
        sign_in(client, create_user(db, enterprise=enterprise))
        token = profile_form_token(client)
        response = post_profile(
            client,
            token,
            enterprise.name,
            "310104",
            "36",
            employees="120",
            annual_revenue_wan="4500",
        )
        assert response.status_code == 200
    db.rollback()
    db.expire_all()
    moved = db.get(Enterprise, enterprise.id)
    assert moved is not None and moved.district_code == "310104"
    assert moved.verified is by_admin
    assert counted("310104") == (before if by_admin else 0)
    assert counted("310115") == 0
    if not by_admin:
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "enterprise.profile"))
        assert event is not None and event.detail["verification"] == "lapsed"


def service_update(db: Session, enterprise_id: Any, district_code: str) -> None:
    """An admin's change through the service (the CLI's and the admin console's way in)."""
    firm = db.get(Enterprise, enterprise_id)
    assert firm is not None
    update_profile(
        db,
        CLI,
        enterprise_id,
        ProfileUpdate(
            name=firm.name,
            district_code=district_code,
            industry_code=firm.industry_code,
            employees=firm.employees,
            annual_revenue_cny=firm.annual_revenue_cny,
        ),
    )
    db.commit()


def firm_with_a_stored_report(db: Session) -> tuple[Enterprise, Assessment]:
    """A verified small firm (120 employees, 4,500 wan yuan) with one submission whose Chinese
    report the worker rendered and stored (no job left)."""
    enterprise = verified_firm(db, district_code="310115", industry_code="36")
    assessment = store_submission(db, enterprise, datetime(2026, 10, 1, tzinfo=UTC))
    db.execute(delete(ReportJob))
    db.add(
        ReportPdf(
            assessment_id=assessment.id,
            enterprise_id=enterprise.id,
            lang="zh",
            content_version="rendered-before-the-change",
            pdf=b"%PDF-1.7",
        )
    )
    db.commit()
    return enterprise, assessment


@pytest.mark.parametrize(
    ("name", "employees", "revenue_wan", "stale"),
    [
        pytest.param("上海更名精密机械有限公司", "120", "4500", True, id="a new name"),
        pytest.param(None, "150", "4500", True, id="new employees (printed)"),
        pytest.param(None, "120", "280", True, id="a revenue that makes it micro"),
        pytest.param(None, "120", "5000", False, id="a revenue in the same size class"),
    ],
)
def test_a_change_the_reports_print_queues_them_to_render_again(
    client: TestClient,
    db: Session,
    name: str | None,
    employees: str,
    revenue_wan: str,
    stale: bool,
) -> None:
    """Its stored PDFs print the old profile: each is queued for the worker (enterprise.revised)
    in the change's transaction, so the next GET is not the one that renders it. A change the
    reports do not print (a revenue in the same size class) leaves them current: queuing them
    would cost a render of each for the same pages."""
    enterprise, assessment = firm_with_a_stored_report(db)
    revision = enterprise.revision
    sign_in(client, create_user(db, enterprise=enterprise))
    token = profile_form_token(client)
    response = post_profile(
        client,
        token,
        name or enterprise.name,
        "310115",
        "36",
        employees=employees,
        annual_revenue_wan=revenue_wan,
    )
    assert response.status_code == 200 and soup(response).select_one(".flash") is not None
    db.rollback()
    db.expire_all()
    changed = db.get(Enterprise, enterprise.id)
    assert changed is not None and changed.annual_revenue_cny == int(revenue_wan) * 10_000
    jobs = [(job.assessment_id, job.lang) for job in db.scalars(select(ReportJob))]
    assert jobs == ([(assessment.id, "zh")] if stale else [])
    assert changed.revision == revision + stale


def test_only_the_owner_edits_the_profile(client: TestClient, db: Session) -> None:
    enterprise = create_enterprise(db)
    create_user(db, enterprise=enterprise)
    csrf = sign_in(client, create_user(db, enterprise=enterprise, firm_role="member"))
    assert soup(client.get("/settings", headers=HTML)).find("a", href="/settings/profile") is None
    response = post_profile(
        client, csrf, "篡改", "310104", "34", employees="15", annual_revenue_wan="280"
    )
    assert response.status_code == 404
    db.rollback()
    assert db.get(Enterprise, enterprise.id).name != "篡改"  # type: ignore[union-attr]


def test_only_the_owner_deletes_the_firm(client: TestClient, db: Session) -> None:
    """A member, who may not edit the profile or remove a colleague, could delete the whole
    firm with every account in it, the owner's too."""
    enterprise = create_enterprise(db)
    owner = create_user(db, enterprise=enterprise)
    owner_id = owner.id
    csrf = sign_in(client, create_user(db, enterprise=enterprise, firm_role="member"))
    page = soup(client.get("/settings", headers=HTML))
    assert page.select_one("form[action^='/settings/delete']") is None
    assert "只有企业所有者可以删除企业数据" in page.select_one("#delete-h").parent.get_text()
    response = client.post(
        "/settings/delete",
        data={"csrf_token": csrf, "confirm": enterprise.credit_code},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 404
    db.rollback()
    assert db.get(Enterprise, enterprise.id) is not None
    assert db.get(User, owner_id) is not None
    # Nothing happened, so the member is still signed in.
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("typed", ["1e999999999", "1e30"])
def test_a_revenue_too_large_for_any_number_is_a_field_error(
    client: TestClient, db: Session, typed: str
) -> None:
    """ "1e999999999" (万元) overflowed the decimal arithmetic: 500."""
    enterprise = create_enterprise(db)
    sign_in(client, create_user(db, enterprise=enterprise))
    token = profile_form_token(client)
    response = post_profile(
        client,
        token,
        enterprise.name,
        enterprise.district_code,
        enterprise.industry_code,
        employees="120",
        annual_revenue_wan=typed,
    )
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#err-annual_revenue_wan") is not None
    assert page.select_one("#f-annual_revenue_wan")["value"] == typed
    db.rollback()
    db.expire_all()
    assert db.get(Enterprise, enterprise.id).annual_revenue_cny == 45_000_000  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("lang", "told", "exported"),
    [
        (
            "zh",
            ("grant.revoked", "只以编号指代贵企业"),
            ("确认", "语言", "评分流", "加入申请", "审计记录"),
        ),
        (
            "en",
            ("grant.revoked", "by its id only"),
            ("who confirmed", "language", "score-feed", "requests to join", "audit trail"),
        ),
    ],
)
def test_the_settings_say_what_deleting_tells_integrators_and_what_the_export_holds(
    client: TestClient, db: Session, lang: str, told: tuple[str, ...], exported: tuple[str, ...]
) -> None:
    """Deleting now sends each integrator the firm consented to ``grant.revoked`` and a notice
    naming the firm by its id, and the export (format 3) holds more: the page said neither."""
    sign_in(client, create_user(db, enterprise=create_enterprise(db)))
    page = soup(client.get(f"/settings?lang={lang}", headers=HTML))
    kept = page.select_one("#delete-kept")
    assert kept is not None and all(words in kept.get_text() for words in told)
    export = page.select_one("#export-what")
    assert export is not None
    assert [words for words in exported if words not in export.get_text()] == []
