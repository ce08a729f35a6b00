"""An Idempotency-Key claim is a lease that any failure releases: a submit cut off by the
database going away (a restart) must not leave its key "in progress", or every retry with the
same key answers 409 for a minute after the database is back.

The database sits behind a TCP relay (tests/relay.py) that the test cuts while the submit
writes its result: the submit fails for real (OperationalError), and the database stays away
while the request cleans up, as in a restart.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.enterprises.service import scoring_profile
from app.kit.settings import Settings
from app.main import create_app
from app.models import IdempotencyRecord, Result
from tests.answers import FULL, complete_answers, questionnaire
from tests.factories import create_enterprise, create_user, login
from tests.relay import StallingRelay, relay, through

__all__ = ["relay"]  # the fixture


def test_a_submit_cut_off_by_the_database_releases_its_key(
    relay: StallingRelay, settings: Settings, db: Session
) -> None:
    enterprise = create_enterprise(db)
    user = create_user(db, enterprise=enterprise)
    app = create_app(through(relay, settings))
    with TestClient(app) as client:
        login(client, user)
        started = client.post(
            f"/api/v1/enterprises/{enterprise.id}/assessments", json={"questionnaire_id": FULL}
        ).json()
        answers = complete_answers(questionnaire(FULL), scoring_profile(enterprise))
        filled = client.put(
            f"/api/v1/assessments/{started['id']}/answers",
            json={"answers": answers},
            headers={"If-Match": started["etag"]},
        ).json()
        submit_url = f"/api/v1/assessments/{filled['id']}/submit"
        headers = {"If-Match": filled["etag"], "Idempotency-Key": "cut-off-submit"}

        def cut_before_the_result(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith("INSERT INTO result "):
                relay.cut()

        engine = app.state.database.engine
        event.listen(engine, "before_cursor_execute", cut_before_the_result)
        try:
            failed = client.post(submit_url, headers=headers)
        finally:
            event.remove(engine, "before_cursor_execute", cut_before_the_result)
        assert failed.status_code == 503, failed.text[:500]
        assert failed.headers["content-type"] == "application/problem+json"

        relay.resume()  # the database is back
        retried = client.post(submit_url, headers=headers)
        assert retried.status_code == 200, retried.text[:500]
        replayed = client.post(submit_url, headers=headers)
        assert replayed.status_code == 200
        assert replayed.json() == retried.json()
    assert db.scalar(select(func.count()).select_from(Result)) == 1
    record = db.scalars(select(IdempotencyRecord)).one()
    assert record.status_code == 200
