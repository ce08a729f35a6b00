"""The floor for benchmarks/load.py: a bare FastAPI + SQLAlchemy app doing one primary-key
read per request (no auth, no audit, no middleware), served with the same uvicorn flags and
against the same database as the real app, so the result endpoint can be compared with it.

Run by load.py as ``uvicorn benchmarks.floor_app:app --workers 2`` with
``ZHIZAO_DATABASE_URL`` set; ``GET /floor/{assessment_id}`` returns the assessment's status.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.orm import Session, sessionmaker

from app.kit.db import create_db_engine
from app.models import Assessment

engine = create_db_engine(os.environ["ZHIZAO_DATABASE_URL"])  # same pragmas/pre-ping as the app
sessions = sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


def session() -> Iterator[Session]:
    with sessions() as s:
        yield s


@app.get("/floor/{assessment_id}")
def read(assessment_id: uuid.UUID, s: Annotated[Session, Depends(session)]) -> dict[str, str]:
    row = s.get(Assessment, assessment_id)
    if row is None:
        raise HTTPException(404)
    return {"id": str(row.id), "status": row.status}
