"""Keeping the aggregates current, inside the transaction of the change that moves them.

How a firm counts (design §9): each *verified* firm counts once per questionnaire, with its latest
submitted assessment of that questionnaire **as of the end of the quarter shown** (quarters in
China Standard Time). A firm that submitted in 2026 Q1 and again in Q3 counts with its Q1 result
in Q1 and Q2 and with its Q3 result from Q3 on; a firm that has not submitted by a quarter's end
is not in that quarter. Verification is a property of the firm now: verifying a firm adds its
whole history, un-verifying removes it, so every quarter shown counts only firms verified today.

Cost: a submission reads two index ranges of its own firm and upserts the few cell rows of at
most two quarters (its quarter, and the firm's next recorded quarter when a back-dated row is
written), whatever the number of firms or assessments.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.heatmaps import perturbation, quarters
from app.heatmaps.repository import HeatmapRepository
from app.heatmaps.sums import Changes, Contribution, centi
from app.models import Assessment, Enterprise, HeatmapContribution, Result


def contribution_of(row: HeatmapContribution) -> Contribution:
    return Contribution(
        district_code=row.district_code,
        industry_code=row.industry_code,
        size_class=row.size_class,
        overall_c=row.overall_c,
        rung_c=row.rung_c,
        stages={k: int(v) for k, v in row.stages.items()},
        count_key=row.count_key,
        submission_key=row.submission_key,
    )


def _secret(enterprise: Enterprise) -> bytes:
    """The firm's record secret; one is made for a firm that has none (one inserted by hand:
    it has no keyed contribution yet, so nothing depends on an earlier secret)."""
    if enterprise.record_secret is None:
        enterprise.record_secret = perturbation.new_record_secret()
    return enterprise.record_secret


def record_submission(
    session: Session, enterprise: Enterprise, assessment: Assessment, result: Result
) -> None:
    """Called by the submit transaction: the firm's contribution for this quarter becomes this
    submission, replacing an earlier one of the same quarter (cells change only for verified
    firms)."""
    assert assessment.submitted_at is not None
    repository = HeatmapRepository(session)
    repository.lock_enterprise(enterprise.id)
    quarter = quarters.quarter_of(assessment.submitted_at)
    before, at, after = repository.around(enterprise.id, assessment.questionnaire_id, quarter)
    if at is not None and (at.submitted_at, at.assessment_id.int) > (
        assessment.submitted_at,
        assessment.id.int,
    ):
        return  # a later submission of the same quarter is already counted (ties: larger id)
    new = Contribution(
        district_code=enterprise.district_code,
        industry_code=enterprise.industry_code,
        size_class=enterprise.size_class,
        overall_c=None if result.overall is None else centi(result.overall),
        rung_c=centi(result.rung),
        stages={k: centi(v) for k, v in result.stages.items()},
        count_key=perturbation.count_key(_secret(enterprise)),
        submission_key=perturbation.submission_key(_secret(enterprise), str(assessment.id)),
    )
    old = (
        contribution_of(at)
        if at is not None
        else (contribution_of(before) if before is not None else None)
    )
    if at is None:
        at = HeatmapContribution(
            enterprise_id=enterprise.id,
            questionnaire_id=assessment.questionnaire_id,
            quarter=quarter,
        )
        repository.add_contribution(at)
    at.assessment_id = assessment.id
    at.submitted_at = assessment.submitted_at
    at.district_code = new.district_code
    at.industry_code = new.industry_code
    at.size_class = new.size_class
    at.overall_c = new.overall_c
    at.rung_c = new.rung_c
    at.stages = dict(new.stages)
    at.count_key = new.count_key
    at.submission_key = new.submission_key
    if enterprise.verified:
        changes = Changes()
        changes.replace(
            assessment.questionnaire_id,
            quarter,
            old,
            new,
            after.quarter if after is not None else None,
        )
        repository.apply(changes)
    else:
        session.flush()


def _timeline_changes(rows: list[HeatmapContribution], sign: int) -> Changes:
    changes = Changes()
    by_questionnaire: dict[str, list[tuple[int, Contribution]]] = {}
    for row in rows:
        by_questionnaire.setdefault(row.questionnaire_id, []).append(
            (row.quarter, contribution_of(row))
        )
    for questionnaire_id, timeline in by_questionnaire.items():
        changes.timeline(questionnaire_id, timeline, sign)
    return changes


def verification_changed(session: Session, enterprise: Enterprise, was_verified: bool) -> None:
    """Call after changing ``enterprise.verified``: a firm becoming verified adds its whole
    history to the cells; one losing verification removes it."""
    if was_verified == enterprise.verified:
        return
    repository = HeatmapRepository(session)
    repository.lock_enterprise(enterprise.id)
    rows = repository.contributions(enterprise.id)
    repository.apply(_timeline_changes(rows, +1 if enterprise.verified else -1))


def profile_changed(session: Session, enterprise: Enterprise) -> None:
    """Call after changing a firm's district, industry or size class: its history moves to the
    cells of its current profile (the heatmaps show firms as registered now)."""
    repository = HeatmapRepository(session)
    repository.lock_enterprise(enterprise.id)
    rows = repository.contributions(enterprise.id)
    changes = _timeline_changes(rows, -1) if enterprise.verified else Changes()
    for row in rows:
        row.district_code = enterprise.district_code
        row.industry_code = enterprise.industry_code
        row.size_class = enterprise.size_class
    if enterprise.verified:
        changes.merge(_timeline_changes(rows, +1))
    repository.apply(changes)


def withdraw_enterprise(session: Session, enterprise_id: uuid.UUID, verified: bool) -> None:
    """Call before deleting a firm: its history leaves the cells and its rows are deleted."""
    repository = HeatmapRepository(session)
    repository.lock_enterprise(enterprise_id)
    rows = repository.contributions(enterprise_id)
    if verified:
        repository.apply(_timeline_changes(rows, -1))
    repository.delete_contributions(enterprise_id)
