"""Password hashing: the service's parameters, and what happens to hashes made with others."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth import security
from app.models import Enterprise, User
from tests.factories import PASSWORD, create_user, login


@pytest.fixture
def owasp_hashing() -> Iterator[None]:
    """The service's own hasher for one test (the suite swaps in a fast one: tests/conftest.py)."""
    suite_hasher = security.use_password_hasher(security.OWASP_PASSWORD_HASHER)
    yield
    security.use_password_hasher(suite_hasher)


@pytest.mark.usefixtures("owasp_hashing")
def test_passwords_are_hashed_with_argon2id_at_owasp_parameters() -> None:
    password_hash = security.hash_password(PASSWORD)

    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert security.verify_password(password_hash, PASSWORD)
    assert not security.verify_password(password_hash, PASSWORD + "!")
    assert not security.password_needs_rehash(password_hash)


def test_a_hash_made_with_other_parameters_is_replaced_at_the_next_sign_in(
    client: TestClient, db: Session, enterprise: Enterprise, owasp_hashing: None
) -> None:
    user = create_user(db, enterprise=enterprise)
    weaker = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    user.password_hash = weaker
    db.commit()

    login(client, user)

    db.expire_all()
    stored = db.get(User, user.id)
    assert stored is not None
    assert stored.password_hash != weaker
    assert stored.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_an_issued_key_splits_into_its_id_and_secret() -> None:
    issued = security.issue_api_key("zk_test")
    assert security.split_api_key(issued.plaintext) == (
        issued.key_id,
        issued.plaintext.rsplit("_", 1)[1],
    )


@pytest.mark.parametrize(
    "presented",
    [
        "zk_test_0123456789ABCDEF_secret",
        "zk_test_0123456789abcde\x00_secret",
        "zk_test_short_secret",
    ],
)
def test_a_key_id_not_of_the_issued_shape_is_malformed(presented: str) -> None:
    """Only 16 lowercase hex characters name a key: anything else never reaches the database
    (a NUL there is an error on PostgreSQL)."""
    assert security.split_api_key(presented) is None
