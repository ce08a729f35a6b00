"""Events written in the transaction of the change they report: the score-feed entries, the
webhook outbox rows and the integrators' notices.

Feed order. ``Result.id`` is an autoincrement, and autoincrement values are handed out when a row
is inserted, not when its transaction commits: two concurrent submits can commit ids 8 then 7, and
a reader that saw 8 and moved its cursor past it would never see 7. So each integrator's feed has
its own sequence 1, 2, 3, …, taken from that integrator's counter row in the submit's transaction
(``FeedRepository.next_seq``): a global one would let gaps show other integrators' activity.
The update locks the row until commit, so the submit that took n+1 cannot commit before the one
that took n has committed or rolled back (giving n back): whoever sees n+1 also sees n. The lock
is taken at the end of the submit, just before commit, so it serialises only that last moment;
a submit for several integrators locks their rows in one order (by id), so two such submits
cannot deadlock. On SQLite every write transaction is already serialised (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import models
from app.integrators.repository import (
    FeedRepository,
    GrantRepository,
    NoticeRepository,
    WebhookRepository,
)
from app.kit.clock import utcnow


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def submitted_event(
    assessment: models.Assessment, result: models.Result, seq: int, at: datetime
) -> dict[str, Any]:
    return {
        "type": "assessment.submitted",
        "timestamp": at.isoformat(),
        "data": {
            "seq": seq,
            "assessment_id": str(assessment.id),
            "enterprise_id": str(assessment.enterprise_id),
            "questionnaire_id": assessment.questionnaire_id,
            "questionnaire_version": assessment.questionnaire_version,
            "submitted_at": (assessment.submitted_at or at).isoformat(),
            "overall": float(result.overall) if result.overall is not None else None,
            "rung": float(result.rung),
            "stages": dict(result.stages),
            "result_url": f"/api/v1/assessments/{assessment.id}/result",
        },
    }


def on_assessment_submitted(
    session: Session, assessment: models.Assessment, result: models.Result
) -> None:
    """Called by ``app.assessments.service._submit`` in the submit's transaction: a feed entry
    for every integrator the firm consents to, each numbered in that integrator's sequence, and
    one outbox row per active endpoint of theirs."""
    now = utcnow()
    feed = FeedRepository(session)
    grants = GrantRepository(session)
    grants.lock_enterprise(assessment.enterprise_id)  # a grant or revocation beside it waits
    for client_id in sorted(grants.active_client_ids(assessment.enterprise_id)):
        seq = feed.next_seq(client_id)
        feed.add(
            models.FeedEntry(
                client_id=client_id,
                seq=seq,
                result_id=result.id,
                assessment_id=assessment.id,
                enterprise_id=assessment.enterprise_id,
                created_at=now,
            )
        )
        payload = submitted_event(assessment, result, seq, now)
        _enqueue(session, [client_id], assessment.enterprise_id, payload, now)


def on_grant_created(session: Session, grant: models.Grant, enterprise: models.Enterprise) -> None:
    """In the grant's transaction: the firm's latest result enters this integrator's feed (an
    entry for it alone, so it needs no resubmission to appear), its endpoints get
    ``grant.created``, and a notice says who granted access."""
    now = utcnow()
    latest = GrantRepository(session).latest_result(enterprise.id)
    if latest is not None:
        result, assessment = latest
        feed = FeedRepository(session)
        feed.add(
            models.FeedEntry(
                seq=feed.next_seq(grant.client_id),
                result_id=result.id,
                assessment_id=assessment.id,
                enterprise_id=enterprise.id,
                client_id=grant.client_id,
                created_at=now,
            )
        )
    payload = {
        "type": "grant.created",
        "timestamp": now.isoformat(),
        "data": {
            "enterprise_id": str(enterprise.id),
            "credit_code": enterprise.credit_code,
            "name": enterprise.name,
            "granted_at": grant.granted_at.isoformat(),
            "latest_assessment_id": str(latest[1].id) if latest is not None else None,
        },
    }
    message = {
        "zh": f"{enterprise.name}（{enterprise.credit_code}）授权您访问其评估数据。"
        + ("其最新结果已加入您的评分流。" if latest is not None else "该企业尚未提交评估。"),
        "en": f"{enterprise.name} ({enterprise.credit_code}) granted you access to its "
        "assessments. "
        + (
            "Its latest result is in your score feed now."
            if latest is not None
            else "It has not submitted an assessment yet."
        ),
    }
    detail = {"enterprise_id": str(enterprise.id), "credit_code": enterprise.credit_code}
    _tell(session, grant.client_id, grant.enterprise_id, payload, now, message, detail)


def revoked_event(enterprise_id: uuid.UUID, revoked_at: datetime, now: datetime) -> dict[str, Any]:
    """``grant.revoked``: which firm's consent ended, and when; nothing else (no name, no credit
    code), whether the firm revoked it or deleted its data."""
    return {
        "type": "grant.revoked",
        "timestamp": now.isoformat(),
        "data": {"enterprise_id": str(enterprise_id), "revoked_at": revoked_at.isoformat()},
    }


def on_grant_revoked(session: Session, grant: models.Grant) -> None:
    """In the revocation's transaction: undelivered events about the firm are cancelled, and the
    integrator's endpoints get ``grant.revoked`` (which names the firm and nothing else)."""
    now = utcnow()
    webhooks = WebhookRepository(session)
    webhooks.cancel_pending(grant.client_id, grant.enterprise_id, "cancelled: consent revoked")
    payload = revoked_event(grant.enterprise_id, grant.revoked_at or now, now)
    message = {
        "zh": f"企业 {grant.enterprise_id} 撤销了对您的授权：关于它的接口、评分流和 "
        "Webhook 均已停止。",
        "en": f"Enterprise {grant.enterprise_id} revoked your access: its data, feed "
        "entries and webhooks stopped.",
    }
    detail = {"enterprise_id": str(grant.enterprise_id)}
    _tell(session, grant.client_id, grant.enterprise_id, payload, now, message, detail)


def on_enterprise_deleted(session: Session, enterprise_id: uuid.UUID) -> None:
    """In the deletion's transaction, before the firm's rows go: every integrator the firm
    consents to gets what a revocation sends (``grant.revoked`` to its endpoints, a notice),
    since deleting the firm ends its consent; without it an integrator learnt of it only from
    404s. The firm's undelivered events need no cancelling: the deletion removes them.

    These rows are about no firm (``enterprise_id`` NULL): they must outlive the firm, and
    name it only by the id in their payload and text, as the audit tombstone does."""
    now = utcnow()
    payload = revoked_event(enterprise_id, now, now)
    message = {
        "zh": f"企业 {enterprise_id} 删除了其在本平台的数据，对您的授权随之结束：关于它的"
        "接口、评分流和 Webhook 均已停止。",
        "en": f"Enterprise {enterprise_id} deleted its data, which ended your access: its "
        "data, feed entries and webhooks stopped.",
    }
    detail = {"enterprise_id": str(enterprise_id)}
    for client_id in sorted(GrantRepository(session).active_client_ids(enterprise_id)):
        _tell(session, client_id, None, payload, now, message, detail)


def _tell(
    session: Session,
    client_id: uuid.UUID,
    enterprise_id: uuid.UUID | None,
    payload: dict[str, Any],
    now: datetime,
    message: dict[str, str],
    detail: dict[str, Any],
) -> None:
    """A grant changed: the integrator's endpoints get ``payload`` and its inbox a notice of the
    same kind (``grant.created`` is ``grant_created``), both about ``enterprise_id`` (None: rows
    that outlive the firm)."""
    _enqueue(session, [client_id], enterprise_id, payload, now)
    NoticeRepository(session).add(
        models.IntegratorNotice(
            client_id=client_id,
            kind=str(payload["type"]).replace(".", "_"),
            enterprise_id=enterprise_id,
            message=message,
            detail=detail,
            created_at=now,
        )
    )


def _enqueue(
    session: Session,
    client_ids: list[uuid.UUID],
    enterprise_id: uuid.UUID | None,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """One outbox row per endpoint of these clients that subscribed to the event and is active
    or disabled for failing (its rows wait for ``POST /webhooks/{id}/enable``)."""
    webhooks = WebhookRepository(session)
    event_type = str(payload["type"])
    for endpoint in webhooks.queueing_endpoints(client_ids, event_type):
        webhooks.add_delivery(
            models.WebhookDelivery(
                id=new_message_id(),
                endpoint_id=endpoint.id,
                client_id=endpoint.client_id,
                enterprise_id=enterprise_id,
                event_type=event_type,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
