"""A firm's export: the documented JSON of its own data (profile, people, contacts, assessments
with answers and results, grants, consent records) and a CSV that a spreadsheet opens in
Chinese; for the firm's users and admins only, never a secret."""

from __future__ import annotations

import csv
import io
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.models import AuditEvent, Enterprise
from app.portability.schemas import EXPORT_FORMAT, EnterpriseExport
from tests.answers import questionnaire, submit_assessment
from tests.app.integrators.helpers import CONSENT
from tests.factories import (
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
    login,
)
from tests.pages import HTML, sign_in

KPIS = {"inventory_days": 45, "oee": 62.5}
CONTACTS = {"contacts": [{"name": "王经理", "phone": "+86 21 5555 0100", "role": "生产经理"}]}


def _firm_with_history(client: TestClient, db: Session, settings: Settings) -> tuple[object, str]:
    enterprise = create_enterprise(db, name="上海导出测试机械有限公司")
    owner = create_user(db, enterprise=enterprise, email="owner@example.com")
    create_user(db, enterprise=enterprise, email="colleague@example.com")
    login(client, owner)
    submitted = submit_assessment(client, enterprise, questionnaire(), kpis=KPIS)
    draft = client.post(
        f"/api/v1/enterprises/{enterprise.id}/assessments",
        json={"questionnaire_id": "quick-check"},
    )
    assert draft.status_code == 201
    _, integrator = create_api_key(db, settings)
    url = f"/api/v1/enterprises/{enterprise.id}/grants"
    assert client.post(url, json={"client_id": str(integrator.id)}).status_code == 201  # type: ignore[attr-defined]
    assert client.delete(f"{url}/{integrator.id}").status_code == 200  # type: ignore[attr-defined]
    assert (
        client.put(f"/api/v1/enterprises/{enterprise.id}/contacts", json=CONTACTS).status_code
        == 200
    )
    return enterprise, str(submitted["assessment_id"])


def test_json_export_is_the_documented_shape_with_answers_results_and_consent(
    client: TestClient, db: Session, settings: Settings
) -> None:
    enterprise, submitted_id = _firm_with_history(client, db, settings)
    response = client.get(f"/api/v1/enterprises/{enterprise.id}/export?lang=en")  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    body = EnterpriseExport.model_validate(response.json())
    assert body.format == EXPORT_FORMAT and body.language == "en"
    assert body.enterprise.credit_code == enterprise.credit_code  # type: ignore[attr-defined]
    assert body.enterprise.district == "Pudong New Area"
    assert {m.email for m in body.members} == {"owner@example.com", "colleague@example.com"}
    assert [c.name for c in body.contacts] == ["王经理"]
    assert [a.status for a in body.assessments] == ["draft", "submitted"]  # newest first
    done = body.assessments[1]
    assert str(done.id) == submitted_id
    assert done.result is not None and done.result["rung"] >= 2.75
    assert done.answers and all(a.question and a.answer for a in done.answers)
    # The answer in words is the option's text, not its id.
    single = next(a for a in done.answers if isinstance(a.value, str) and a.value != "n/a")
    assert single.answer != single.value
    # The baseline KPIs, in the questionnaire's order; the draft has none.
    assert [(k.kpi_id, k.value, k.unit, k.better) for k in done.kpis] == [
        ("oee", 62.5, "%", "higher"),
        ("inventory_days", 45, "days", "lower"),
    ]
    assert done.kpis[0].text.startswith("Overall equipment effectiveness")
    assert body.assessments[0].kpis == []
    assert [g.active for g in body.grants] == [False]
    assert [r.action for r in body.consent_records] == ["granted", "revoked"]
    assert body.consent_records[0].integrator == "Integrator Ltd"
    for secret in ("password_hash", "token_hash", "csrf_token", "secret_sha256", "whsec_"):
        assert secret not in response.text
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "enterprise.export"))


def test_csv_has_a_bom_a_translated_header_and_one_row_per_answer(
    client: TestClient, db: Session, settings: Settings
) -> None:
    enterprise, _ = _firm_with_history(client, db, settings)
    response = client.get(f"/api/v1/enterprises/{enterprise.id}/export.csv")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    raw = response.content
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 Chinese only with the BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "评估" and rows[0][-1] == "答案"
    exported = client.get(f"/api/v1/enterprises/{enterprise.id}/export").json()  # type: ignore[attr-defined]
    assert len(rows) - 1 == sum(len(a["answers"]) + len(a["kpis"]) for a in exported["assessments"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in rows[1][9])  # the question, in Chinese
    # The KPIs follow their assessment's answers, marked as baseline figures.
    kpi_rows = [row[7:] for row in rows if row[7] == "经营指标"]
    assert kpi_rows == [
        ["经营指标", "oee", "设备综合效率（OEE）或设备利用率，近三个月平均", "62.5", "62.5 %"],
        [
            "经营指标",
            "inventory_days",
            "库存周转天数（平均库存金额 ÷ 年销售成本 × 365）",
            "45",
            "45 天",
        ],
    ]
    english = client.get(f"/api/v1/enterprises/{enterprise.id}/export.csv?lang=en")  # type: ignore[attr-defined]
    english_rows = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert ["Baseline figures", "inventory_days"] in [row[7:9] for row in english_rows]
    assert english_rows[-1][-1] == "45 days"


def test_the_consent_of_a_firm_an_integrator_registered_names_the_integrator(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The grant recorded at registration (its audit row names no ``client_id``: the integrator
    is the actor) was exported under the integrator's id instead of its name."""
    key, _ = create_api_key(db, settings)
    registered = client.post(
        "/api/v1/enterprises",
        json={**enterprise_payload(), "consent": CONSENT},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert registered.status_code == 201, registered.text
    enterprise = db.get(Enterprise, uuid.UUID(registered.json()["id"]))
    login(client, create_user(db, enterprise=enterprise))
    body = EnterpriseExport.model_validate(
        client.get(f"/api/v1/enterprises/{registered.json()['id']}/export").json()
    )
    assert [(g.integrator, g.method) for g in body.grants] == [("Integrator Ltd", "registration")]
    assert [(r.action, r.integrator, r.method, r.by) for r in body.consent_records] == [
        ("granted", "Integrator Ltd", "registration", "api_client")
    ]


def test_only_the_firms_people_and_admins_may_export(
    client: TestClient, db: Session, settings: Settings
) -> None:
    enterprise = create_enterprise(db)
    url = f"/api/v1/enterprises/{enterprise.id}/export"
    assert client.get(url).status_code == 401
    key, api_client = create_api_key(db, settings)
    login(client, create_user(db, enterprise=enterprise))
    grants = f"/api/v1/enterprises/{enterprise.id}/grants"
    assert client.post(grants, json={"client_id": str(api_client.id)}).status_code == 201  # type: ignore[attr-defined]
    client.cookies.clear()
    # Even with the firm's grant an integrator never gets the whole firm.
    for path in (url, url + ".csv"):
        assert client.get(path, headers={"Authorization": f"Bearer {key}"}).status_code == 404
    for other in (
        create_user(db, enterprise=create_enterprise(db)),
        create_user(db, role="official", district_code=enterprise.district_code),
    ):
        login(client, other)
        assert client.get(url).status_code == 404
        assert client.get(url + ".csv").status_code == 404
    login(client, create_user(db, role="admin"))
    assert client.get(url).status_code == 200


def test_settings_page_downloads_both(client: TestClient, db: Session) -> None:
    enterprise = create_enterprise(db)
    sign_in(client, create_user(db, enterprise=enterprise))
    page = client.get("/settings", headers=HTML).text
    assert 'href="/settings/export.json"' in page and 'href="/settings/export.csv"' in page
    json_download = client.get("/settings/export.json", headers=HTML)
    assert json_download.headers["content-disposition"].startswith("attachment;")
    assert json_download.json()["enterprise"]["credit_code"] == enterprise.credit_code
    csv_download = client.get("/settings/export.csv", headers=HTML)
    assert csv_download.content.startswith("\ufeff".encode())
