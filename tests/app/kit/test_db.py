"""Request sessions (``app.kit.db.get_session``): a route marked ``single_statement_writes``
runs without a transaction on PostgreSQL (no BEGIN, no COMMIT), every other write keeps its
transaction, also on the connection such a route used before (the pool resets it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg.pq
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from scoring import Questionnaire
from tests.app.assessments.test_api import first_question, put


def _in_transaction(dbapi_connection: Any) -> bool:
    if isinstance(dbapi_connection, psycopg.Connection):
        return dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    return bool(dbapi_connection.in_transaction)  # sqlite3


def test_only_the_answer_put_writes_without_a_transaction_and_only_on_postgresql(
    app: FastAPI,
    signed_in: TestClient,
    start: Callable[..., dict[str, Any]],
    full_questionnaire: Questionnaire,
) -> None:
    engine = app.state.database.engine
    postgresql = engine.dialect.name == "postgresql"
    #: Each write statement: its connection, and whether it ran inside a transaction.
    writes: list[tuple[int, bool]] = []

    def after_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("WITH", "INSERT", "UPDATE", "DELETE")):
            dbapi_connection = conn.connection.dbapi_connection
            writes.append((id(dbapi_connection), _in_transaction(dbapi_connection)))

    event.listen(engine, "after_cursor_execute", after_execute)
    try:
        assessment = start()
        created, writes[:] = list(writes), []
        question = first_question(full_questionnaire, "single")
        saved = put(signed_in, assessment, {question.id: question.options[0].id})
        assert saved.status_code == 200, saved.text
        answered, writes[:] = list(writes), []
        put_connections = {connection for connection, _ in answered}
        # Writes again until one runs on a connection the PUT used (the pool hands them out
        # in turn): it must be back in a transaction.
        after: list[tuple[int, bool]] = []
        for _ in range(20):
            start()
            after += [w for w in writes if w[0] in put_connections]
            writes.clear()
            if after:
                break
    finally:
        event.remove(engine, "after_cursor_execute", after_execute)

    assert created and all(in_transaction for _, in_transaction in created)
    assert answered and all(in_transaction is not postgresql for _, in_transaction in answered)
    assert after and all(in_transaction for _, in_transaction in after)
