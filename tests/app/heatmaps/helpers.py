"""Heatmap test helpers: submitted results arranged without filling questionnaires, and which
suppressed cells the published figures give away."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.orm import Session

from app.heatmaps import publication
from app.heatmaps.disclosure import TOTAL
from app.heatmaps.perturbation import Parameters
from app.kit import events
from app.kit.events import AssessmentSubmitted
from app.kit.principal import CLI
from app.kit.settings import PROJECT_ROOT
from app.models import Assessment, Enterprise, Result
from app.questionnaires.catalog import QuestionnaireCatalog
from app.verification import service as verification
from tests.factories import create_enterprise

FULL = "smart-manufacturing-maturity"
STAGES = ("digitization", "automation", "data_collection", "cloud_adoption")


def submit(
    db: Session,
    enterprise: Enterprise,
    at: datetime,
    overall: str = "3.40",
    rung: str = "3.25",
    stages: dict[str, float] | None = None,
    questionnaire_id: str = FULL,
) -> Assessment:
    """Store a submitted assessment with its result and publish ``assessment.submitted``, as
    ``assessments.service._submit`` does (heatmap upkeep, feed entry)."""
    assessment = Assessment(
        enterprise_id=enterprise.id,
        questionnaire_id=questionnaire_id,
        questionnaire_version=1,
        questionnaire_hash="0" * 64,
        status="submitted",
        submitted_at=at,
    )
    db.add(assessment)
    db.flush()
    result = Result(
        assessment_id=assessment.id,
        enterprise_id=enterprise.id,
        overall=Decimal(overall),
        rung=Decimal(rung),
        stages=stages or {s: float(overall) for s in STAGES},
        payload={},
        subsidies=[],
        computed_at=at,
    )
    db.add(result)
    db.flush()
    events.publish(db, AssessmentSubmitted(enterprise, assessment, result))
    db.commit()
    return assessment


CATALOG = QuestionnaireCatalog.from_directory(PROJECT_ROOT / "questionnaires")


def publish_now(db: Session, min_cell: int = 5) -> None:
    """Publish the heatmaps now, as the worker does on its schedule (officials read only
    published tables)."""
    publication.publish(db, CATALOG, Parameters(min_cell=min_cell))
    db.commit()


def verified_firm(db: Session, **profile: object) -> Enterprise:
    enterprise = create_enterprise(db, **profile)
    verification.set_verified(db, CLI, enterprise.id, True)
    db.commit()
    return enterprise


def _rank(matrix: list[list[Fraction]]) -> int:
    rows = [row[:] for row in matrix]
    rank, columns = 0, len(rows[0]) if rows else 0
    for col in range(columns):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def recoverable(rows: list[str], cols: list[str], suppressed: frozenset[tuple[str, str]]) -> set:
    """Suppressed cells whose value the published cells and margins determine exactly."""
    unknown = sorted(suppressed, key=repr)
    index = {key: i for i, key in enumerate(unknown)}
    equations: list[list[Fraction]] = []
    for r in [*rows, TOTAL]:  # Σ_c x[r,c] − x[r,TOTAL] = 0 (known terms move to the right)
        equation = [Fraction(0)] * len(unknown)
        for c in cols:
            if (r, c) in index:
                equation[index[(r, c)]] += 1
        if (r, TOTAL) in index:
            equation[index[(r, TOTAL)]] -= 1
        equations.append(equation)
    for c in [*cols, TOTAL]:
        equation = [Fraction(0)] * len(unknown)
        for r in rows:
            if (r, c) in index:
                equation[index[(r, c)]] += 1
        if (TOTAL, c) in index:
            equation[index[(TOTAL, c)]] -= 1
        equations.append(equation)
    equations = [e for e in equations if any(e)]
    base = _rank(equations) if equations else 0
    found = set()
    for key in unknown:
        unit = [Fraction(int(i == index[key])) for i in range(len(unknown))]
        if _rank([*equations, unit]) == base:
            found.add(key)
    return found
