"""A firm's export: the documented JSON of its own data (profile, people, contacts, assessments
with answers and results, grants, consent records, what integrators were given; for its owners
also requests to join, invitations, mails and the audit trail) and a CSV that a spreadsheet opens
in Chinese; for the firm's users and admins only, never a secret, nothing of another firm."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.models import AuditEvent, Enterprise, WebhookEndpoint
from app.portability.schemas import EXPORT_FORMAT, EnterpriseExport
from tests.answers import questionnaire, submit_assessment
from tests.app.accounts.test_claims import file_claim
from tests.app.accounts.test_members import invite
from tests.app.accounts.test_passwords import ask_reset
from tests.app.integrators.helpers import CONSENT
from tests.factories import (
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
    login,
)
from tests.mailbox import outbox_link
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


# --- what else is held about the firm (format /3) -------------------------------------------------

HOOK_URL = "https://hooks.integrator.example/zhizao/private-path"


def _active_endpoint(db: Session, client_id: object) -> None:
    """An approved endpoint of the integrator (arranged in the database: the export test's
    settings refuse loopback receivers, and nothing is sent here)."""
    db.add(
        WebhookEndpoint(
            client_id=client_id,
            url=HOOK_URL,
            events=["assessment.submitted", "grant.created", "grant.revoked"],
            secret_ciphertext="sealed-secret-not-exported",
            secret_key_id="k1",
            status="active",
        )
    )
    db.commit()


def _export(client: TestClient, enterprise_id: object) -> tuple[EnterpriseExport, str]:
    response = client.get(f"/api/v1/enterprises/{enterprise_id}/export?lang=en")
    assert response.status_code == 200, response.text
    return EnterpriseExport.model_validate(response.json()), response.text


def test_every_member_sees_what_each_integrator_was_given(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The firm's result went into the integrator's feed and out to its webhook: the firm is
    told who got which assessment's result and when, not the integrator's endpoint, its feed
    numbers (they count other firms' results) or the payload."""
    enterprise = create_enterprise(db)
    owner = create_user(db, enterprise=enterprise)
    member = create_user(db, enterprise=enterprise, firm_role="member")
    _, integrator = create_api_key(db, settings)
    _active_endpoint(db, integrator.id)  # type: ignore[attr-defined]
    login(client, owner)
    grants = f"/api/v1/enterprises/{enterprise.id}/grants"
    assert client.post(grants, json={"client_id": str(integrator.id)}).status_code == 201  # type: ignore[attr-defined]
    submitted = submit_assessment(client, enterprise, questionnaire())
    login(client, member)

    body, text = _export(client, enterprise.id)

    assessment_id = uuid.UUID(submitted["assessment_id"])
    assert [(e.integrator, e.assessment_id) for e in body.feed_entries] == [
        ("Integrator Ltd", assessment_id)
    ]
    assert [
        (d.integrator, d.event, d.assessment_id, d.status) for d in body.webhook_deliveries
    ] == [
        ("Integrator Ltd", "grant.created", None, "pending"),
        ("Integrator Ltd", "assessment.submitted", assessment_id, "pending"),
    ]
    for hidden in (HOOK_URL, "sealed-secret-not-exported", '"seq"', '"payload"', "msg_"):
        assert hidden not in text


def test_the_owners_export_holds_requests_invitations_mails_and_the_trail(
    client: TestClient, other: TestClient, db: Session
) -> None:
    """What only owners see in the app: requests to join (and the mails telling them), the
    invitations, the mails to the firm's people, and the audit trail of the firm. Never a
    link that grants something, a mail to anyone outside the firm, or an official's note."""
    enterprise = create_enterprise(db, district_code="310115")
    owner = create_user(db, enterprise=enterprise, email="owner@example.com")
    official = create_user(
        db, role="official", district_code="310115", email="official@example.com"
    )
    create_user(db, role="admin", email="admin@example.com")
    # Someone asks to join: the owner and the district's official are mailed, the person too.
    assert file_claim(other, enterprise.credit_code, "liu@example.com").status_code == 200
    # The owner invites a colleague, and asks for a reset link for itself.
    sign_in(client, owner)
    assert invite(client, "new@example.com").status_code == 200
    other.cookies.clear()
    ask_reset(other, "owner@example.com")
    reset_link = outbox_link(db, "owner@example.com", "/password/reset/")
    invitation_link = outbox_link(db, "new@example.com", "/invitations/")
    # The official flags the firm with a note for the administrators.
    login(other, official)
    note = "疑似与另一家企业重复登记"
    flagged = other.put(
        f"/api/v1/verification/enterprises/{enterprise.id}/flag",
        json={"flagged": True, "reason": note},
    )
    assert flagged.status_code == 200, flagged.text
    login(client, owner)

    body, text = _export(client, enterprise.id)

    assert body.access_claims is not None
    assert [(c.email, c.display_name, c.status) for c in body.access_claims] == [
        ("liu@example.com", "刘会计", "pending")
    ]
    assert body.invitations is not None
    assert [(i.email, i.firm_role, i.accepted_at) for i in body.invitations] == [
        ("new@example.com", "member", None)
    ]
    assert body.mails is not None
    mails = {(m.to, m.kind): m for m in body.mails}
    assert set(mails) == {
        ("owner@example.com", "claim_received"),
        ("owner@example.com", "password_reset"),
    }
    assert "liu@example.com" in (mails["owner@example.com", "claim_received"].body or "")
    assert mails["owner@example.com", "password_reset"].body is None
    assert body.audit_trail is not None
    trail = [(e.action, e.by, e.member) for e in body.audit_trail]
    assert ("session.login", "user", "owner@example.com") in trail
    assert ("claim.create", "anonymous", None) in trail
    assert ("invitation.create", "user", "owner@example.com") in trail
    assert ("enterprise.flag", "user", None) in trail  # the official: no one's id
    flag = next(e for e in body.audit_trail if e.action == "enterprise.flag")
    assert flag.detail == {}
    assert [e.at for e in body.audit_trail] == sorted(e.at for e in body.audit_trail)
    for hidden in (
        reset_link,
        invitation_link,
        urlsplit(reset_link).path,
        note,
        "official@example.com",
        "admin@example.com",
        str(official.id),
        "token_hash",
        "password_hash",
    ):
        assert hidden not in text, hidden


def test_a_members_export_leaves_out_what_only_owners_see(
    client: TestClient, other: TestClient, db: Session
) -> None:
    enterprise = create_enterprise(db)
    create_user(db, enterprise=enterprise, email="owner@example.com")
    member = create_user(db, enterprise=enterprise, email="member@example.com", firm_role="member")
    assert file_claim(other, enterprise.credit_code, "liu@example.com").status_code == 200
    login(client, member)

    body, text = _export(client, enterprise.id)

    assert body.access_claims is None and body.invitations is None
    assert body.mails is None and body.audit_trail is None
    assert "liu@example.com" not in text
    assert {m.email for m in body.members} == {"owner@example.com", "member@example.com"}


def test_the_confirmation_and_each_persons_language_and_state(
    client: TestClient, db: Session
) -> None:
    enterprise = create_enterprise(db)
    owner = create_user(db, enterprise=enterprise)
    login(client, create_user(db, role="admin"))
    confirmed = client.put(
        f"/api/v1/verification/enterprises/{enterprise.id}", json={"verified": True}
    )
    assert confirmed.status_code == 200, confirmed.text
    login(client, owner)

    body, _ = _export(client, enterprise.id)

    assert body.enterprise.verified and body.enterprise.verified_method == "admin"
    assert body.enterprise.verified_at is not None and body.enterprise.attested_at is None
    assert [(m.locale, m.active) for m in body.members] == [("zh-CN", True)]


def test_nothing_of_another_firm(
    client: TestClient, other: TestClient, db: Session, settings: Settings
) -> None:
    """Two firms with the same integrator, each with requests, mails, results and a trail:
    neither's export (by its owner, or by an admin) holds anything of the other."""
    _, integrator = create_api_key(db, settings)
    _active_endpoint(db, integrator.id)  # type: ignore[attr-defined]
    firms = []
    for n in range(2):
        firm = create_enterprise(db, name=f"上海隔离测试{n}号机械有限公司")
        owner = create_user(db, enterprise=firm, email=f"owner{n}@example.com")
        assert file_claim(other, firm.credit_code, f"claimant{n}@example.com").status_code == 200
        login(client, owner)
        grants = f"/api/v1/enterprises/{firm.id}/grants"
        assert client.post(grants, json={"client_id": str(integrator.id)}).status_code == 201  # type: ignore[attr-defined]
        result = submit_assessment(client, firm, questionnaire())
        firms.append((firm, owner, result["assessment_id"]))
    (first, first_owner, _), (second, _, second_assessment) = firms
    traces = (
        str(second.id),
        second.credit_code,
        second.name,
        "owner1@example.com",
        "claimant1@example.com",
        second_assessment,
    )
    admin = create_user(db, role="admin")
    for reader in (first_owner, admin):
        login(client, reader)
        body, text = _export(client, first.id)
        assert body.audit_trail and body.mails and body.access_claims
        assert body.feed_entries and body.webhook_deliveries
        for trace in traces:
            assert trace not in text, (reader.email, trace)


def test_a_long_trail_is_exported_whole(client: TestClient, db: Session) -> None:
    """A row per saved answer makes a long trail; read as one page of 10,000 it lost its
    oldest entries."""
    enterprise = create_enterprise(db)
    owner = create_user(db, enterprise=enterprise)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "at": start + timedelta(seconds=i),
            "actor_type": "user",
            "actor_id": str(owner.id),
            "action": "assessment.answer",
            "target_type": "assessment",
            "target_id": str(uuid.uuid4()),
            "enterprise_id": enterprise.id,
            "request_id": None,
            "detail": {"questions": ["q1"], "version": i},
        }
        for i in range(10_050)
    ]
    db.execute(insert(AuditEvent), rows)
    db.commit()
    login(client, owner)

    body, _ = _export(client, enterprise.id)

    assert body.audit_trail is not None
    answers = [e for e in body.audit_trail if e.action == "assessment.answer"]
    assert len(answers) == 10_050
    assert answers[0].at == start and answers[0].detail == {"questions": ["q1"], "version": 0}
