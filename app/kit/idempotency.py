"""``Idempotency-Key`` for unsafe requests (after draft-ietf-httpapi-idempotency-key-header).

The same key with the same request replays the first response; the same key with a different
request is refused (422); a retry while the first is still running gets 409. A claim left
behind by a crashed worker may be taken over after CLAIM_TIMEOUT.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.kit.clock import utcnow
from app.kit.db import begin_write
from app.kit.errors import Conflict, FieldError, InvalidInput
from app.models import IdempotencyRecord

CLAIM_TIMEOUT = timedelta(seconds=60)
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
    """Claim ``key`` for this request and commit the claim, or return the stored response."""
    _check_key(key)
    begin_write(session)
    repository = IdempotencyRepository(session)
    try:
        with session.begin_nested():
            repository.add(
                IdempotencyRecord(caller=caller, key=key, request_fingerprint=request_fingerprint)
            )
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    existing = repository.get(caller, key)
    if existing is None:  # released between our insert and read: the caller may retry
        raise Conflict("A request with this Idempotency-Key was just abandoned; retry.")
    if existing.request_fingerprint != request_fingerprint:
        raise InvalidInput(
            "This Idempotency-Key was used for a different request.",
            errors=[FieldError("header.Idempotency-Key", "reused for another request", "reused")],
        )
    if existing.status_code is not None:
        return StoredResponse(existing.status_code, existing.response_body)
    if utcnow() - existing.created_at < CLAIM_TIMEOUT:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            headers={"Retry-After": "1"},
        )
    existing.created_at = utcnow()  # take over an abandoned claim
    session.commit()
    return None


def complete(session: Session, caller: str, key: str, status_code: int, body: Any) -> None:
    """Store the response, in the transaction of the work it describes."""
    record = IdempotencyRepository(session).get(caller, key)
    if record is not None:
        record.status_code = status_code
        record.response_body = body


def release(session: Session, caller: str, key: str) -> None:
    """Drop an unfinished claim after the request failed, so that a retry runs again."""
    session.rollback()
    try:
        IdempotencyRepository(session).delete(caller, key)
        session.commit()
    except OperationalError:
        # The database is unreachable: the claim times out after CLAIM_TIMEOUT instead.
        session.rollback()


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, caller: str, key: str) -> IdempotencyRecord | None:
        return self.session.get(IdempotencyRecord, (caller, key))

    def add(self, record: IdempotencyRecord) -> None:
        self.session.add(record)
        self.session.flush()

    def delete(self, caller: str, key: str) -> None:
        self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
            )
        )
