"""The questionnaires this service serves, loaded once at start-up from QUESTIONNAIRES_DIR."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from app.questionnaires.repository import QuestionnaireRecordRepository
from scoring import Questionnaire, load_questionnaire_dir


class PublishedVersionChanged(RuntimeError):
    """A questionnaire file's content differs from what was published under its (id, version)."""


@dataclass
class QuestionnaireCatalog:
    by_key: dict[tuple[str, int], Questionnaire] = field(default_factory=dict)

    @classmethod
    def from_directory(cls, directory: Path) -> QuestionnaireCatalog:
        return cls({(q.id, q.version): q for q in load_questionnaire_dir(directory)})

    def get(self, questionnaire_id: str, version: int | None = None) -> Questionnaire | None:
        if version is not None:
            return self.by_key.get((questionnaire_id, version))
        versions = [v for (qid, v) in self.by_key if qid == questionnaire_id]
        return self.by_key[(questionnaire_id, max(versions))] if versions else None

    def versions(self, questionnaire_id: str) -> list[int]:
        return sorted(v for (qid, v) in self.by_key if qid == questionnaire_id)

    def latest(self) -> list[Questionnaire]:
        ids = sorted({qid for qid, _ in self.by_key})
        return [q for qid in ids if (q := self.get(qid)) is not None]

    def record_published(self, session: Session) -> None:
        """Record each (id, version) with its content hash; refuse a changed published version.

        A published version never changes: results name (id, version) and must stay
        explicable. Editing content means publishing a new version.
        """
        repository = QuestionnaireRecordRepository(session)
        recorded = repository.all_hashes()
        changed = [
            f"{q.id} v{q.version} (recorded {recorded[key][:12]}, file {q.content_hash[:12]})"
            for key, q in self.by_key.items()
            if key in recorded and recorded[key] != q.content_hash
        ]
        if changed:
            raise PublishedVersionChanged(
                "published questionnaire versions changed; publish a new version instead: "
                + "; ".join(changed)
            )
        for key, questionnaire in self.by_key.items():
            if key not in recorded:
                repository.add(questionnaire.id, questionnaire.version, questionnaire.content_hash)
