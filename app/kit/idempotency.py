"""``Idempotency-Key`` for unsafe requests (after draft-ietf-httpapi-idempotency-key-header).

The same key with the same request replays the first response; the same key with a different
request is refused (422).

A claim is a lease held by the request's own transaction: it is inserted, never committed on
its own, and committed together with the work and its stored response. A retry while the first
request runs waits on the key (PostgreSQL's unique index; SQLite's write lock) and then replays
it. Any failure (a 4xx, an OperationalError, a database restart, a crash before the commit)
rolls the claim back with the work, so the next retry runs again at once: nothing has to reach
the database to release it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.kit.clock import utcnow
from app.kit.db import begin_write
from app.kit.errors import Conflict, FieldError, InvalidInput
from app.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: Any


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            "Idempotency-Key must be 1 to 255 characters.",
            errors=[FieldError("header.Idempotency-Key", "1 to 255 characters", "invalid")],
        )


def claim(
    session: Session, caller: str, key: str, request_fingerprint: str
) -> StoredResponse | None:
    """Claim ``key`` in the request's transaction (the lease), or return the stored response."""
    _check_key(key)
    begin_write(session)
    repository = IdempotencyRepository(session)
    try:
        with session.begin_nested():
            repository.add(
                IdempotencyRecord(caller=caller, key=key, request_fingerprint=request_fingerprint)
            )
        return None
    except IntegrityError:
        pass  # committed by an earlier request (that we may have waited for)
    existing = repository.get(caller, key)
    if existing is None:  # its transaction rolled back after our insert failed
        raise Conflict(
            "A request with this Idempotency-Key was just abandoned; retry.",
            headers={"Retry-After": "1"},
        )
    if existing.request_fingerprint != request_fingerprint:
        raise InvalidInput(
            "This Idempotency-Key was used for a different request.",
            errors=[FieldError("header.Idempotency-Key", "reused for another request", "reused")],
        )
    if existing.status_code is not None:
        return StoredResponse(existing.status_code, existing.response_body)
    # A claim committed without a response (by a version that committed claims on their own):
    # nobody holds it any more, take it over.
    existing.created_at = utcnow()
    return None


def complete(session: Session, caller: str, key: str, status_code: int, body: Any) -> None:
    """Store the response, in the transaction of the work it describes."""
    record = IdempotencyRepository(session).get(caller, key)
    if record is not None:
        record.status_code = status_code
        record.response_body = body


def release(session: Session) -> None:
    """Drop an unfinished claim after the request failed, with everything else it did: the
    claim lives in the transaction, so this works even when the database is unreachable."""
    session.rollback()


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, caller: str, key: str) -> IdempotencyRecord | None:
        return self.session.get(IdempotencyRecord, (caller, key))

    def add(self, record: IdempotencyRecord) -> None:
        self.session.add(record)
        self.session.flush()
