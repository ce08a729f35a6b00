from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import QuestionnaireRecord


class QuestionnaireRecordRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all_hashes(self) -> dict[tuple[str, int], str]:
        rows = self.session.execute(
            select(
                QuestionnaireRecord.questionnaire_id,
                QuestionnaireRecord.version,
                QuestionnaireRecord.content_hash,
            )
        )
        return {(qid, version): content_hash for qid, version, content_hash in rows}

    def add(self, questionnaire_id: str, version: int, content_hash: str) -> None:
        self.session.add(
            QuestionnaireRecord(
                questionnaire_id=questionnaire_id, version=version, content_hash=content_hash
            )
        )
