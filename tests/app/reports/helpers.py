"""Report tests' firm name (Chinese, to check glyphs), the submit fixture's type and a stored
report's view-model."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from app.kit.i18n import Lang
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.questionnaires.catalog import QuestionnaireCatalog
from app.reports import service
from app.reports.context import ReportContext

FIRM_NAME = "上海智造示范精密机械有限公司"
Submit = Callable[..., dict[str, Any]]


def context(db: Session, settings: Settings, assessment_id: Any, lang: Lang) -> ReportContext:
    """The view-model of a submitted assessment's report, as the PDF route builds it."""
    db.commit()  # a fresh snapshot: the app committed since
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    located = service.locate(db, CLI, catalog, uuid.UUID(str(assessment_id)), lang)
    return service.context_for(db, settings, located, lang)
