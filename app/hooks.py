"""Who reacts to which event (``app.kit.events``): the one place that wires domains together.

Every subscriber runs in the publisher's transaction (design §9: the aggregates and the
integrators' gap-free feed stay exact because they commit or roll back with the change).
``install()`` is called by the app factory, the CLI root and the test suite; it is idempotent.
Subscribers look their targets up at call time, so a benchmark or test may wrap one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.heatmaps import upkeep as heatmap_upkeep
from app.integrators import events as integrator_events
from app.kit.events import (
    AssessmentSubmitted,
    EnterpriseChanged,
    EnterpriseDeleted,
    EnterpriseRevised,
    EnterpriseVerified,
    EventHub,
    hub,
)
from app.reports import service as reports


def _heatmaps_count_submission(session: Session, event: AssessmentSubmitted) -> None:
    heatmap_upkeep.record_submission(session, event.enterprise, event.assessment, event.result)


def _integrators_announce_submission(session: Session, event: AssessmentSubmitted) -> None:
    integrator_events.on_assessment_submitted(session, event.assessment, event.result)


def _reports_render_ahead(session: Session, event: AssessmentSubmitted) -> None:
    reports.queue_renders(session, event.assessment)


def _reports_refresh_the_firms(session: Session, event: EnterpriseRevised) -> None:
    reports.queue_refreshes(session, enterprise_id=event.enterprise.id)


def _heatmaps_follow_verification(session: Session, event: EnterpriseVerified) -> None:
    heatmap_upkeep.verification_changed(session, event.enterprise, event.was_verified)


def _heatmaps_follow_profile(session: Session, event: EnterpriseChanged) -> None:
    heatmap_upkeep.profile_changed(session, event.enterprise)


def _heatmaps_withdraw(session: Session, event: EnterpriseDeleted) -> None:
    heatmap_upkeep.withdraw_enterprise(session, event.enterprise_id, event.verified)


def _integrators_announce_deletion(session: Session, event: EnterpriseDeleted) -> None:
    integrator_events.on_enterprise_deleted(session, event.enterprise_id)


def install(target: EventHub = hub) -> EventHub:
    """Wire the subscribers (once; later calls change nothing)."""
    if target.wired:
        return target
    target.subscribe(AssessmentSubmitted, _heatmaps_count_submission)
    target.subscribe(AssessmentSubmitted, _integrators_announce_submission)
    target.subscribe(AssessmentSubmitted, _reports_render_ahead)
    target.subscribe(EnterpriseVerified, _heatmaps_follow_verification)
    target.subscribe(EnterpriseChanged, _heatmaps_follow_profile)
    target.subscribe(EnterpriseDeleted, _heatmaps_withdraw)
    target.subscribe(EnterpriseDeleted, _integrators_announce_deletion)
    target.subscribe(EnterpriseRevised, _reports_refresh_the_firms)
    target.wired = True
    return target
