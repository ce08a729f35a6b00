"""Every write of a row that belongs to a firm, racing the deletion of all the firm's data (two
app instances; two threads of the test app here), both ways around the deletion's lock.

``deleted-first``: the deletion has locked the firm and deleted its rows, not yet committed,
while the write, its checks passed, writes. The write must be answered as a request made after
the deletion (404; a user of the firm signed in only after it: 401), with nothing of it saved.
It waited for the deletion's lock (its foreign key's KEY SHARE, or a lock of its own) and then
failed at its write: 409 (the foreign key), 412 (a version claim), 500 (an update of a row that
was gone) or 503 (a deadlock), before the fix.

``written-first``: the write has written its rows, not yet committed, while the deletion holds
the lock and has deleted nothing yet. The deletion must then delete what the write committed.

Either way, afterwards nothing names the firm but its audit trail and the notices that its
consent ended, and the heatmap sums agree with the rows they are made of. On SQLite the write
gate runs the two one after the other (the meeting times out): the orders are one test there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import claims, members
from app.accounts.repository import UserRepository
from app.assessments import service as assessments
from app.assessments.repository import AssessmentRepository
from app.enterprises import privacy
from app.enterprises import service as enterprises
from app.enterprises.data_repository import EnterpriseDataRepository
from app.heatmaps.verify import verify
from app.integrators import service as integrators
from app.integrators.repository import ClientRepository
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.models import AccessClaim, Base, Enterprise, IntegratorNotice, User, WebhookDelivery
from app.questionnaires.catalog import QuestionnaireCatalog
from app.reports import pdf as report_pdf
from app.reports import service as reports
from app.verification import service as verification
from tests.answers import QUICK
from tests.app.enterprises.test_privacy import references
from tests.app.heatmaps.helpers import submit as store_submission
from tests.app.integrators.helpers import PROFILE, full_answers, prepare_assessment, submitted
from tests.factories import (
    PASSWORD,
    create_api_key,
    create_enterprise,
    create_user,
    delete_firm,
    login,
)
from tests.pages import HTML, hidden, soup
from tests.races import at_once, meet_after

Meeting = tuple[object, str]
Send = Callable[[], httpx.Response]

#: Where the deletion waits for the write: ``deleted-first``, with everything deleted;
#: ``written-first``, locked with nothing deleted yet (its last read before deleting).
DELETION_MEETS: dict[str, Meeting] = {
    "deleted-first": (EnterpriseDataRepository, "delete_everything"),
    "written-first": (EnterpriseDataRepository, "user_ids"),
}


@dataclass
class Scene:
    """A firm, and browsers of the shared app (closed after the test)."""

    app: FastAPI
    db: Session
    settings: Settings
    firm: Enterprise
    browsers: list[TestClient] = field(default_factory=list)

    @property
    def firm_id(self) -> uuid.UUID:
        return self.firm.id

    def browser(self, user: User | None = None) -> TestClient:
        browser = TestClient(self.app, base_url="http://testserver")
        self.browsers.append(browser)
        if user is not None:
            login(browser, user)
        return browser

    def owner(self) -> TestClient:
        """A new owner of the firm, signed in."""
        return self.browser(create_user(self.db, enterprise=self.firm, firm_role="owner"))

    def admin(self) -> TestClient:
        return self.browser(create_user(self.db, role="admin"))

    def integrator(self, *, webhooks: bool = False) -> tuple[dict[str, str], uuid.UUID]:
        """An integrator's key; ``webhooks``: with an approved endpoint taking every event."""
        key, client = create_api_key(self.db, self.settings)
        headers = {"Authorization": f"Bearer {key}"}
        if webhooks:
            endpoint = self.browser().post(
                "/api/v1/webhooks", json={"url": "https://hooks.example.com/h"}, headers=headers
            )
            assert endpoint.status_code == 201, endpoint.text
            approved = self.admin().post(f"/api/v1/admin/webhooks/{endpoint.json()['id']}/approve")
            assert approved.status_code == 200, approved.text
        return headers, client.id  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Write:
    """One write racing the deletion: where it meets it (``checked``: its checks passed,
    nothing written; ``written``: its service has written, the transaction not committed) and
    the request."""

    checked: Meeting
    written: Meeting
    send: Send
    #: The deletion is made by an admin (a firm without users: the owner-to-be's link).
    by_admin: bool = False
    #: What a request made after the deletion gets (a user of the firm: 401, see ``_gone``).
    gone: int = 404


def sent_as_a_page(browser: TestClient, path: str, form: dict[str, str]) -> Send:
    """``form`` posted to ``path`` as a page posts it (its redirect not followed)."""
    return lambda: browser.post(path, data=form, headers=HTML, follow_redirects=False)


def page_form(browser: TestClient, path: str, **fields: str) -> Send:
    """The form of the page at ``path`` (opened now, for its CSRF token), filled with
    ``fields`` and sent back to it."""
    page = soup(browser.get(path, headers=HTML))
    return sent_as_a_page(browser, path, {"csrf_token": hidden(page, "csrf_token"), **fields})


# --- the writes -------------------------------------------------------------------------------


def grant(scene: Scene) -> Write:
    """To an integrator with a webhook endpoint, of a firm with a result: a feed entry, the
    ``grant.created`` event (which names the firm) and a notice."""
    owner, (_, client_id) = scene.owner(), scene.integrator(webhooks=True)
    submitted(owner, {}, str(scene.firm_id))
    url = f"/api/v1/enterprises/{scene.firm_id}/grants"
    return Write(
        (integrators, "visible_enterprise"),
        (integrators, "grant_access"),
        lambda: owner.post(url, json={"client_id": str(client_id)}),
    )


def revoke(scene: Scene) -> Write:
    owner, (_, client_id) = scene.owner(), scene.integrator()
    url = f"/api/v1/enterprises/{scene.firm_id}/grants"
    assert owner.post(url, json={"client_id": str(client_id)}).status_code == 201
    return Write(
        (ClientRepository, "get"),
        (integrators, "revoke_access"),
        lambda: owner.delete(f"{url}/{client_id}"),
    )


def create_assessment(scene: Scene) -> Write:
    owner = scene.owner()
    url = f"/api/v1/enterprises/{scene.firm_id}/assessments"
    return Write(
        (QuestionnaireCatalog, "get"),
        (assessments, "create"),
        lambda: owner.post(url, json={"questionnaire_id": QUICK}),
    )


def create_assessment_by_integrator(scene: Scene) -> Write:
    """An integrator's key outlives the firm: after the deletion it is told 404, not 401."""
    headers, client_id = scene.integrator()
    granted = scene.owner().post(
        f"/api/v1/enterprises/{scene.firm_id}/grants", json={"client_id": str(client_id)}
    )
    assert granted.status_code == 201, granted.text
    url = f"/api/v1/enterprises/{scene.firm_id}/assessments"
    return Write(
        (QuestionnaireCatalog, "get"),
        (assessments, "create"),
        lambda: scene.browser().post(url, json={"questionnaire_id": QUICK}, headers=headers),
    )


def answers(scene: Scene) -> Write:
    owner = scene.owner()
    created = owner.post(
        f"/api/v1/enterprises/{scene.firm_id}/assessments", json={"questionnaire_id": QUICK}
    )
    assert created.status_code == 201, created.text
    url, etag = f"/api/v1/assessments/{created.json()['id']}/answers", created.headers["ETag"]
    return Write(
        (AssessmentRepository, "draft_state"),
        (assessments, "update_answers"),
        lambda: owner.put(url, json={"answers": full_answers(PROFILE)}, headers={"If-Match": etag}),
    )


def submit(scene: Scene) -> Write:
    """With an Idempotency-Key: its stored response (the result) is no row of the firm's."""
    owner = scene.owner()
    assessment_id, etag = prepare_assessment(owner, {}, str(scene.firm_id))
    headers = {"If-Match": etag, "Idempotency-Key": "submit-1"}
    return Write(
        (assessments, "check_if_match"),
        (assessments, "submit"),
        lambda: owner.post(f"/api/v1/assessments/{assessment_id}/submit", headers=headers),
    )


def facts(scene: Scene) -> Write:
    owner = scene.owner()
    url = f"/api/v1/enterprises/{scene.firm_id}/facts"
    return Write(
        (enterprises, "checked_facts"),
        (enterprises, "update_facts"),
        lambda: owner.put(url, json={"facts": {"project_ready": True}}),
    )


def contacts(scene: Scene) -> Write:
    owner = scene.owner()
    url = f"/api/v1/enterprises/{scene.firm_id}/contacts"
    assert owner.put(url, json={"contacts": [{"name": "赵"}]}).status_code == 200
    return Write(
        (privacy, "require_firm_member"),
        (privacy, "replace_contacts"),
        lambda: owner.put(url, json={"contacts": [{"name": "王经理", "phone": "021 5555 0100"}]}),
    )


def confirm(scene: Scene) -> Write:
    """Confirming a firm with a submission moves the heatmap sums."""
    store_submission(scene.db, scene.firm, datetime(2026, 10, 1, tzinfo=UTC))
    admin = scene.admin()
    url = f"/api/v1/verification/enterprises/{scene.firm_id}"
    return Write(
        (verification, "begin_write"),
        (verification, "set_verified"),
        lambda: admin.put(url, json={"verified": True}),
    )


def flag(scene: Scene) -> Write:
    admin = scene.admin()
    url = f"/api/v1/verification/enterprises/{scene.firm_id}/flag"
    return Write(
        (enterprises, "get"),
        (verification, "set_flag"),
        lambda: admin.put(url, json={"flagged": True, "reason": "两个地址"}),
    )


def owner_invitation(scene: Scene) -> Write:
    admin = scene.admin()
    url = f"/api/v1/enterprises/{scene.firm_id}/owner-invitation"
    return Write(
        (UserRepository, "has_owner"),
        (members, "issue_owner_invitation"),
        lambda: admin.post(url),
        by_admin=True,
    )


def report(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> Write:
    """A GET that stores the PDF it rendered (none was stored yet): a write too."""
    owner = scene.owner()
    result = submitted(owner, {}, str(scene.firm_id))
    monkeypatch.setattr(report_pdf, "render_pdf", lambda *args, **kwargs: b"%PDF-1.7 test")
    url = f"/api/v1/assessments/{result['assessment_id']}/report.pdf"
    return Write((reports, "context_for"), (reports, "store"), lambda: owner.get(url))


def profile_page(scene: Scene) -> Write:
    owner = scene.owner()
    form = {
        "csrf_token": owner.headers["X-CSRF-Token"],
        "name": "上海示例精密机械股份有限公司",
        "district_code": "310115",
        "industry_code": "36",
        "employees": "120",
        "annual_revenue_wan": "4500",
    }
    return Write(
        (enterprises, "begin_write"),
        (enterprises, "update_profile"),
        sent_as_a_page(owner, "/settings/profile", form),
    )


def invite_page(scene: Scene) -> Write:
    owner = scene.owner()
    form = {"csrf_token": owner.headers["X-CSRF-Token"], "email": "colleague@example.com"}
    return Write(
        (UserRepository, "get_by_email"),
        (members, "invite_member"),
        sent_as_a_page(owner, "/settings/members/invite", form),
    )


def claim_page(scene: Scene) -> Write:
    """Someone without an account asks to join: the request, and mails naming the firm."""
    return Write(
        (enterprises, "find"),
        (claims, "file_claim"),
        page_form(
            scene.browser(),
            "/claim",
            credit_code=scene.firm.credit_code,
            display_name="刘会计",
            email="liu@example.com",
            message="财务部",
        ),
        gone=422,  # a credit code no firm has: the form says so
    )


def decide_page(scene: Scene) -> Write:
    """An admin approves a request to join: an invitation and its mail."""
    claim = AccessClaim(
        enterprise_id=scene.firm_id, email="liu@example.com", display_name="刘会计", message=""
    )
    scene.db.add(claim)
    scene.db.commit()
    return Write(
        (claims, "get"),
        (claims, "decide"),
        page_form(scene.admin(), f"/claims/{claim.id}", decision="approve", reason=""),
    )


def accept_page(scene: Scene) -> Write:
    """A colleague accepts an invitation: a new user of the firm."""
    issued = members.issue_invitation(
        scene.db, CLI, scene.settings, scene.firm_id, email="li@example.com", firm_role="member"
    )
    scene.db.commit()
    return Write(
        (UserRepository, "get_by_email"),
        (members, "accept_invitation"),
        page_form(
            scene.browser(),
            httpx.URL(issued.url).path,
            display_name="李工",
            password=PASSWORD,
            password_again=PASSWORD,
        ),
    )


WRITES: dict[str, Callable[..., Write]] = {
    "grant": grant,
    "revoke": revoke,
    "create assessment": create_assessment,
    "create assessment (integrator)": create_assessment_by_integrator,
    "answers": answers,
    "submit": submit,
    "facts": facts,
    "contacts": contacts,
    "confirm": confirm,
    "flag": flag,
    "owner invitation": owner_invitation,
    "report": report,
    "profile (page)": profile_page,
    "invite (page)": invite_page,
    "claim (page)": claim_page,
    "decide claim (page)": decide_page,
    "accept invitation (page)": accept_page,
}


@pytest.fixture
def scene(app: FastAPI, db: Session, settings: Settings) -> Iterator[Scene]:
    made = Scene(app, db, settings, create_enterprise(db))
    yield made
    for browser in made.browsers:
        browser.close()


def _gone(write: Write, response: httpx.Response) -> bool:
    """What a request made after the deletion gets: 404 (problem+json from the API; a page
    from a form), or 401 for a user of the firm, whose account went with it."""
    if response.status_code in (404, write.gone):
        return response.request.headers.get("accept") == HTML["accept"] or (
            response.headers["content-type"] == "application/problem+json"
        )
    return response.status_code == 401


@pytest.mark.parametrize("order", sorted(DELETION_MEETS))
@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_and_the_firms_deletion_at_the_same_moment(
    scene: Scene, db: Session, monkeypatch: pytest.MonkeyPatch, name: str, order: str
) -> None:
    engine = db.get_bind().dialect.name
    if engine == "sqlite" and order == "written-first":
        pytest.skip("SQLite's write gate runs the two one after the other: one order is all")
    build = WRITES[name]
    write = build(scene, monkeypatch) if name == "report" else build(scene)
    firm_id, code = scene.firm_id, scene.firm.credit_code
    deleter = scene.admin() if write.by_admin else scene.owner()
    barrier = meet_after(monkeypatch, *DELETION_MEETS[order], 2)
    meet_after(
        monkeypatch, *(write.checked if order == "deleted-first" else write.written), 2, barrier
    )

    deleted, written = at_once(
        [
            lambda: delete_firm(deleter, firm_id, code),
            write.send,
        ]
    )

    assert deleted.status_code == 200, deleted.text
    if engine == "postgresql" and order == "deleted-first":
        # The write's checks passed before the deletion committed: its write met the deletion.
        assert written.status_code == 404, written.text
    assert _gone(write, written) or written.status_code < 400, (written.status_code, written.text)
    db.rollback()
    # Only the trail and what tells integrators the consent ended name the firm (by id).
    left = references(db, firm_id, code)
    assert set(left) <= {"audit_event", "integrator_notice", "webhook_delivery"}, left
    notices = select(IntegratorNotice.enterprise_id, IntegratorNotice.kind)
    assert {(None, "grant_revoked")} >= set(db.execute(notices).all())
    events = select(WebhookDelivery.enterprise_id, WebhookDelivery.event_type)
    assert {(None, "grant.revoked")} >= set(db.execute(events).all())
    report = verify(db)
    assert report.differences == [], report.differences


def test_every_table_that_refers_to_a_firm_has_a_write_here() -> None:
    """The writes above cover each table with a foreign key to the firm (a new one needs its
    race too); a table written only by the deletion itself, or only beside another's row in the
    same transaction, is named with the write that covers it. Each cascades: a row committed
    while the deletion ran goes with the firm's row (``app.enterprises.data``)."""
    keys = [
        (table.name, key.ondelete)
        for table in Base.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name == "enterprise"
    ]
    assert {ondelete for _, ondelete in keys} == {"CASCADE"}
    tables = {name for name, _ in keys}
    covered_by: dict[str, str] = {
        "user": "accept invitation (page)",
        "assessment": "create assessment",
        "grant": "grant",
        "result": "submit",
        "heatmap_contribution": "submit",  # and confirm
        "score_feed_entry": "grant",  # the firm's latest result, into the integrator's feed
        "webhook_delivery": "grant",
        "integrator_notice": "grant",
        "contact": "contacts",
        "access_claim": "claim (page)",
        "mail_message": "claim (page)",  # and invite, decide
        "invitation": "invite (page)",  # and owner invitation, decide
        "report_pdf": "report",
        "report_job": "submit",  # and profile: a revision queues renders
    }
    assert tables == set(covered_by)
    assert set(covered_by.values()) <= set(WRITES)
