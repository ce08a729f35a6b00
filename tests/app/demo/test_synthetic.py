"""The bulk synthetic seeder: realistic, labelled, scored by the engine, and its aggregates
equal a recomputation from the rows it wrote."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.demo.synthetic import answer_profiles, seed_synthetic, synthetic_credit_code
from app.enterprises.classification import credit_code_problem, industrial_size_class
from app.heatmaps.verify import verify
from app.kit.settings import PROJECT_ROOT
from app.models import Assessment, Enterprise, Result
from scoring import load_questionnaire

QUESTIONNAIRE = load_questionnaire(
    PROJECT_ROOT / "questionnaires" / "smart-manufacturing-maturity.yaml"
)


def test_profiles_are_scored_by_the_engine() -> None:
    profiles = answer_profiles(QUESTIONNAIRE, 12, seed=3)
    assert [p.overall for p in profiles] == sorted(p.overall for p in profiles)
    assert profiles[0].overall < profiles[-1].overall
    assert profiles[0].overall < Decimal("3.25") and profiles[-1].overall > Decimal("3.5")
    assert all(p.result.questionnaire_id == QUESTIONNAIRE.id for p in profiles)


def test_credit_codes_are_valid_and_distinct() -> None:
    codes = {synthetic_credit_code(i, "310117") for i in range(2000)}
    assert len(codes) == 2000
    assert all(credit_code_problem(code) is None for code in codes)


def test_seeding_writes_labelled_firms_and_consistent_aggregates(
    engine: Engine, db: Session
) -> None:
    with engine.begin() as connection:
        report = seed_synthetic(connection, QUESTIONNAIRE, enterprises=400, seed=5)
    assert report.created == 400 and report.assessments >= 400
    firms = db.scalars(select(Enterprise)).all()
    assert len(firms) == 400
    assert all(f.synthetic and f.name.endswith("（合成演示）") for f in firms)
    assert all(
        f.size_class == industrial_size_class(f.employees, f.annual_revenue_cny) for f in firms
    )
    districts = Counter(f.district_code for f in firms)
    assert districts.most_common(1)[0][0] in {"310117", "310114", "310115"}  # §6.3 mix
    assert 0.8 < sum(f.verified for f in firms) / len(firms) < 1.0
    results = db.scalars(select(Result)).all()
    assert all(
        isinstance(r.overall, Decimal) and Decimal("2.75") <= r.overall <= 4 for r in results
    )
    submitted = db.scalar(
        select(func.count()).select_from(Assessment).where(Assessment.status == "submitted")
    )
    assert submitted == report.assessments
    checked = verify(db)
    assert checked.differences == []
    assert checked.firms == 400

    with engine.begin() as connection:  # again with a larger N: adds only the missing firms
        more = seed_synthetic(connection, QUESTIONNAIRE, enterprises=450, seed=5)
    assert (more.existing, more.created) == (400, 50)
    db.rollback()
    assert verify(db).differences == []


@pytest.mark.parametrize("n", [0])
def test_nothing_to_do(engine: Engine, n: int) -> None:
    with engine.begin() as connection:
        assert seed_synthetic(connection, QUESTIONNAIRE, enterprises=n, seed=1).created == 0
