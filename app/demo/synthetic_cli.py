"""The bulk path of ``zhizao seed-demo --enterprises N --seed S``."""

from __future__ import annotations

import typer

from app.demo.synthetic import seed_synthetic
from app.kit.cli import migrated_database
from app.kit.settings import Settings
from app.questionnaires.catalog import QuestionnaireCatalog


def seed_synthetic_firms(settings: Settings, *, enterprises: int, seed: int) -> None:
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    questionnaire = catalog.get("smart-manufacturing-maturity") or catalog.latest()[0]
    with migrated_database(settings) as database:
        with database.engine.begin() as connection:
            catalog_session = database.sessions(bind=connection)
            catalog.record_published(catalog_session)
            catalog_session.flush()
            report = seed_synthetic(
                connection,
                questionnaire,
                enterprises=enterprises,
                seed=seed,
                progress=lambda line: typer.echo(f"  … {line}", err=True),
            )
        if connection.dialect.name == "postgresql":
            # Fresh statistics, and no dead versions of the upserted cell rows.
            with database.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as vacuum:
                vacuum.exec_driver_sql("VACUUM ANALYZE")
    if report.created == 0:
        typer.echo(f"{report.existing:,} synthetic firms already present; nothing added.")
        return
    typer.echo(
        f"Added {report.created:,} synthetic firms with {report.assessments:,} submitted "
        f"assessments (scored by the engine) in {report.seconds:.1f} s; "
        f"{report.existing + report.created:,} synthetic firms now. Labelled synthetic "
        "(names end in （合成演示）)."
    )
