"""The support programmes this service matches against, loaded once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.questionnaires.catalog import QuestionnaireCatalog
from scoring.subsidies import Programme
from scoring.subsidy_loader import load_subsidies


@dataclass
class SubsidyCatalog:
    programmes: list[Programme] = field(default_factory=list)

    @classmethod
    def from_directory(
        cls, directory: Path, questionnaires: QuestionnaireCatalog
    ) -> SubsidyCatalog:
        # `answers.<id>` in eligibility must name a question some served questionnaire asks.
        questions = {q.id for qn in questionnaires.by_key.values() for q in qn.questions}
        return cls(load_subsidies(directory, questions=questions))

    def get(self, programme_id: str) -> Programme | None:
        return next((p for p in self.programmes if p.id == programme_id), None)
