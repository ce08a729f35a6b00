"""Throttling of sign-in, access requests (``/claim``) and reset requests (``/password/forgot``):
per account and client address, per client address, and over everyone, with exponential backoff
instead of a lock.

The rule, for each of the three scopes (checked before the attempt; an attempt that is refused
is not counted):

- an account from one address: LOGIN_MAX_FAILURES attempts free within
  LOGIN_THROTTLE_WINDOW_SECONDS;
- one address, whatever the accounts: LOGIN_ADDRESS_MAX_FAILURES free (password spraying);
- everyone: LOGIN_GLOBAL_MAX_FAILURES free (a distributed attack);

past its free attempts a scope waits LOGIN_BACKOFF_BASE_SECONDS × 2^(n − free) after its latest
attempt (n = attempts in the window), at most LOGIN_BACKOFF_MAX_SECONDS, and the answer is 429
with Retry-After. Sign-in counts failures (a success forgets that account's failures from that
address); access and reset requests count every request (each may send an e-mail).

Attempts from one address take turns (``AttemptRepository.take_turn``: checked, made and
recorded one after another, on every app instance), so a burst sent at once gets no more than
one sent slowly: without it, 60 wrong passwords sent at once over two instances were all
checked against the same count and 33 went through instead of 5. The global scope is counted
without turns (attempts from many addresses at once may pass it by as many as run together).

No account is ever locked out: its count is kept per address, so an attacker elsewhere slows
only himself and the owner still signs in from her own address. Distributed guessing against one
account is bounded by the global scope and by the password policy (15 characters, no common
ones). E-mails and addresses are stored as keyed hashes (``AuthAttempt``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from app.accounts.repository import AttemptRepository
from app.auth.security import derive_key, keyed_hash
from app.kit.clock import utcnow
from app.kit.errors import TooManyRequests
from app.kit.settings import Settings
from app.models import AuthAttempt

Kind = Literal["login", "claim", "reset"]


def _hashes(settings: Settings, email: str, address: str) -> tuple[str, str]:
    key = derive_key(settings.SECRET_KEY.get_secret_value(), "throttle")
    return keyed_hash(key, "email:" + email.strip().lower()), keyed_hash(key, "ip:" + address)


def backoff_seconds(settings: Settings, attempts: int, free: int) -> float:
    """The wait after the latest attempt once ``attempts`` reached ``free``; 0 before."""
    if attempts < free:
        return 0.0
    exponent = min(attempts - free, 32)
    return min(
        settings.LOGIN_BACKOFF_BASE_SECONDS * 2.0**exponent, settings.LOGIN_BACKOFF_MAX_SECONDS
    )


def check(session: Session, settings: Settings, kind: Kind, email: str, address: str) -> datetime:
    """Refuse (429) while any scope is backing off; returns now (read once the attempt has its
    turn: read before, it was older than the attempts recorded while this one waited, which then
    seemed to be in its future and refused a free attempt)."""
    account, client = _hashes(settings, email, address)
    attempts = AttemptRepository(session)
    # One at a time per address (on every app instance: the lock is the database's), until the
    # caller's transaction ends with its ``record``: attempts sent at once each see the others.
    attempts.take_turn(kind, client)
    now = utcnow()
    since = now - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    scopes = (
        (attempts.recent(kind, since), settings.LOGIN_GLOBAL_MAX_FAILURES),
        (attempts.recent(kind, since, client=client), settings.LOGIN_ADDRESS_MAX_FAILURES),
        (
            attempts.recent(kind, since, account=account, client=client),
            settings.LOGIN_MAX_FAILURES,
        ),
    )
    wait = 0.0
    for (count, latest), free in scopes:
        if latest is not None:
            until = latest + timedelta(seconds=backoff_seconds(settings, count, free))
            wait = max(wait, (until - now).total_seconds())
    if wait > 0:
        raise TooManyRequests(
            "Too many attempts; try again later.", retry_after=max(1, math.ceil(wait))
        )
    return now


def record(
    session: Session, settings: Settings, kind: Kind, email: str, address: str, at: datetime
) -> None:
    """Count one attempt (and drop those older than the window)."""
    account, client = _hashes(settings, email, address)
    attempts = AttemptRepository(session)
    attempts.purge_before(at - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS))
    attempts.add(AuthAttempt(kind=kind, account=account, client=client, at=at))


def forget(session: Session, settings: Settings, kind: Kind, email: str, address: str) -> None:
    """A successful sign-in: the account's failures from this address no longer count."""
    account, client = _hashes(settings, email, address)
    AttemptRepository(session).forget(kind, account=account, client=client)
