from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.models import (
    AccessClaim,
    AuthAttempt,
    Enterprise,
    Invitation,
    PasswordReset,
    User,
)


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: uuid.UUID) -> User | None:
        return self.session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email.strip().lower()))

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def members(self, enterprise_id: uuid.UUID) -> list[User]:
        return list(
            self.session.scalars(
                select(User)
                .where(User.enterprise_id == enterprise_id)
                .order_by(User.created_at, User.id)
            )
        )

    def owners(self, enterprise_id: uuid.UUID) -> list[User]:
        return list(
            self.session.scalars(
                select(User).where(
                    User.enterprise_id == enterprise_id,
                    User.firm_role == "owner",
                    User.is_active.is_(True),
                )
            )
        )

    def has_owner(self, enterprise_id: uuid.UUID) -> bool:
        return (
            self.session.scalar(
                select(User.id)
                .where(User.enterprise_id == enterprise_id, User.firm_role == "owner")
                .limit(1)
            )
            is not None
        )

    def lock_firm(self, enterprise_id: uuid.UUID) -> None:
        """Lock the firm's row until the transaction ends (PostgreSQL; SQLite's writers hold
        the database's write lock already): acceptances that may make the firm's owner wait
        for each other, so that the second sees the owner the first made."""
        self.session.execute(
            select(Enterprise.id).where(Enterprise.id == enterprise_id).with_for_update()
        )

    def deciders(self, district_code: str) -> list[User]:
        """Active admins and the district's officials: who hears of an access request."""
        return list(
            self.session.scalars(
                select(User)
                .where(
                    User.is_active.is_(True),
                    (User.role == "admin")
                    | ((User.role == "official") & (User.district_code == district_code)),
                )
                .order_by(User.created_at, User.id)
            )
        )

    def delete(self, user: User) -> None:
        self.session.delete(user)
        self.session.flush()

    def page(
        self, *, after: tuple[datetime, uuid.UUID] | None, limit: int, email: str | None = None
    ) -> list[User]:
        query = select(User).order_by(User.created_at, User.id).limit(limit)
        if email:
            query = query.where(User.email.contains(email.strip().lower(), autoescape=True))
        if after is not None:
            query = query.where(
                (User.created_at > after[0]) | and_(User.created_at == after[0], User.id > after[1])
            )
        return list(self.session.scalars(query))


class InvitationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, invitation: Invitation) -> Invitation:
        self.session.add(invitation)
        self.session.flush()
        return invitation

    def get(self, invitation_id: uuid.UUID) -> Invitation | None:
        return self.session.get(Invitation, invitation_id)

    def by_token_hash(self, token_hash: str) -> Invitation | None:
        return self.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash))

    def use_up(self, invitation: Invitation, now: datetime) -> bool:
        """Mark ``invitation`` accepted if it still is open (not accepted, withdrawn or expired):
        of requests that use one link at once exactly one gets True (:func:`_update_if`)."""
        return _update_if(
            self.session,
            invitation,
            [
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            ],
            accepted_at=now,
        )

    def open_for(
        self, enterprise_id: uuid.UUID, *, email: str | None = None, firm_role: str | None = None
    ) -> list[Invitation]:
        """Not accepted, not withdrawn (expired ones included: withdrawing them is harmless)."""
        query = select(Invitation).where(
            Invitation.enterprise_id == enterprise_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        if email is not None:
            query = query.where(Invitation.email == email)
        if firm_role is not None:
            query = query.where(Invitation.firm_role == firm_role)
        return list(self.session.scalars(query.order_by(Invitation.created_at, Invitation.id)))


class PasswordResetRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, reset: PasswordReset) -> None:
        self.session.add(reset)

    def by_token_hash(self, token_hash: str) -> PasswordReset | None:
        return self.session.scalar(
            select(PasswordReset).where(PasswordReset.token_hash == token_hash)
        )

    def use_up(self, reset: PasswordReset, now: datetime) -> bool:
        """Mark ``reset`` used if it still is unused and unexpired: of requests that use one link
        at once exactly one gets True (:func:`_update_if`)."""
        return _update_if(
            self.session,
            reset,
            [PasswordReset.used_at.is_(None), PasswordReset.expires_at > now],
            used_at=now,
        )

    def unused_of(self, user_id: uuid.UUID) -> list[PasswordReset]:
        return list(
            self.session.scalars(
                select(PasswordReset).where(
                    PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None)
                )
            )
        )


class ClaimRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, claim: AccessClaim) -> AccessClaim:
        self.session.add(claim)
        self.session.flush()
        return claim

    def get(self, claim_id: uuid.UUID) -> AccessClaim | None:
        return self.session.get(AccessClaim, claim_id)

    def decide(
        self, claim: AccessClaim, *, status: str, reason: str, decided_by: str, now: datetime
    ) -> bool:
        """Record the decision if ``claim`` is still pending, in one conditional UPDATE: of two
        deciders at once exactly one gets True."""
        return _update_if(
            self.session,
            claim,
            [AccessClaim.status == "pending"],
            status=status,
            reason=reason,
            decided_by=decided_by,
            decided_at=now,
        )

    def pending_of(self, enterprise_id: uuid.UUID, email: str) -> AccessClaim | None:
        return self.session.scalar(
            select(AccessClaim).where(
                AccessClaim.enterprise_id == enterprise_id,
                AccessClaim.email == email,
                AccessClaim.status == "pending",
            )
        )

    def listing(
        self,
        *,
        statuses: Collection[str] | None,
        enterprise_id: uuid.UUID | None = None,
        district_code: str | None = None,
        limit: int = 200,
    ) -> list[tuple[AccessClaim, Enterprise]]:
        """Claims with their firm, newest first, of these statuses (None: any), narrowed to a
        firm or a district."""
        query = (
            select(AccessClaim, Enterprise)
            .join(Enterprise, Enterprise.id == AccessClaim.enterprise_id)
            .order_by(AccessClaim.created_at.desc(), AccessClaim.id.desc())
            .limit(limit)
        )
        if statuses is not None:
            query = query.where(AccessClaim.status.in_(statuses))
        if enterprise_id is not None:
            query = query.where(AccessClaim.enterprise_id == enterprise_id)
        if district_code is not None:
            query = query.where(Enterprise.district_code == district_code)
        return [(claim, enterprise) for claim, enterprise in self.session.execute(query)]


class AttemptRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def take_turn(self, kind: str, client: str) -> None:
        """Attempts of ``kind`` from one client take turns until this transaction ends, so that
        each counts the ones before it (PostgreSQL: a transaction-level advisory lock named by
        both; SQLite's write lock, taken by ``begin_write``, already serialises every writer).
        Without it, attempts sent at once all read the same count and all went ahead."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        digest = hashlib.sha256(f"auth_attempt:{kind}:{client}".encode()).digest()
        lock = int.from_bytes(digest[:8], "big", signed=True)
        self.session.execute(select(func.pg_advisory_xact_lock(lock)))

    def recent(
        self, kind: str, since: datetime, *, account: str | None = None, client: str | None = None
    ) -> tuple[int, datetime | None]:
        """How many attempts of ``kind`` since ``since`` (of one account, one client, or both;
        neither: all of them), and when the latest was."""
        query = select(func.count(), func.max(AuthAttempt.at)).where(
            AuthAttempt.kind == kind, AuthAttempt.at >= since
        )
        if account is not None:
            query = query.where(AuthAttempt.account == account)
        if client is not None:
            query = query.where(AuthAttempt.client == client)
        count, latest = self.session.execute(query).one()
        return int(count or 0), latest

    def add(self, attempt: AuthAttempt) -> None:
        self.session.add(attempt)

    def forget(self, kind: str, *, account: str, client: str) -> None:
        self.session.execute(
            delete(AuthAttempt).where(
                AuthAttempt.kind == kind,
                AuthAttempt.account == account,
                AuthAttempt.client == client,
            )
        )

    def purge_before(self, before: datetime) -> None:
        self.session.execute(delete(AuthAttempt).where(AuthAttempt.at < before))


def _update_if(
    session: Session,
    row: Invitation | PasswordReset | AccessClaim,
    conditions: list[Any],
    **values: Any,
) -> bool:
    """Set ``values`` on ``row`` if ``conditions`` still hold, in one conditional UPDATE whose
    row count decides: of requests that try at once exactly one gets True (on PostgreSQL the
    others wait for its row lock, then find the conditions gone; SQLite's writers take turns).
    The loaded ``row`` is then given the values the database now holds."""
    model = type(row)
    result = session.execute(
        update(model)
        .where(model.id == row.id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True
