"""Secrets: password hashing, session tokens and API keys.

Passwords use Argon2id at OWASP's recommended parameters (19 MiB memory, 2 iterations, 1 lane).
Session tokens and API-key secrets are high-entropy random strings, so a plain SHA-256 of them is
what is stored: it cannot be brute-forced and it makes lookup by hash possible.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: OWASP's recommended Argon2id parameters: 19 MiB of memory, 2 iterations, 1 lane.
OWASP_PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_password_hasher = OWASP_PASSWORD_HASHER
# Verifying against this keeps an unknown e-mail as slow as a wrong password.
_DUMMY_HASH = _password_hasher.hash("not-a-real-password")


def use_password_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash and verify passwords with ``hasher`` from now on; returns the one it replaces.

    For the test suite only, as Django's tests swap in a fast hasher: at OWASP's parameters one
    hash costs ~37 ms of CPU, and thousands of tests create and sign in users. Hashes made
    with other parameters still verify (Argon2 reads them from the hash) and are re-hashed on
    the next sign-in, as after any change of parameters.
    """
    global _password_hasher, _DUMMY_HASH
    previous = _password_hasher
    _password_hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password")
    return previous


def hash_password(password: str) -> str:
    # NFC here as in every API body (app.kit.schemas.clean_text): a password typed decomposed on
    # one device and composed on another, or sent through a form and then the API, is one password.
    return _password_hasher.hash(unicodedata.normalize("NFC", password))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        typed = unicodedata.normalize("NFC", password)
        return _password_hasher.verify(password_hash or _DUMMY_HASH, typed) and (
            password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _password_hasher.check_needs_rehash(password_hash)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose`` derived from SECRET_KEY (HKDF-SHA256): each use has
    its own key, and none of them reveals SECRET_KEY or another."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"zhizao:{purpose}".encode()
    ).derive(secret_key.encode())


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value``: equal values match, but nobody without the key can test a
    guess (an e-mail address, an IP address) against it."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A freshly issued key; `plaintext` is shown once and never stored."""

    key_id: str
    secret_sha256: str
    plaintext: str


#: A key id as :func:`issue_api_key` makes them (8 random bytes in lowercase hex); anything
#: else names no key.
KEY_ID_PATTERN = r"^[0-9a-f]{16}$"
_KEY_ID = re.compile(KEY_ID_PATTERN)


def issue_api_key(prefix: str) -> IssuedApiKey:
    """A key ``<prefix>_<key_id>_<secret>``: the key id finds the row, the secret proves it."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_hex(32)  # hex: no '_' inside, so the key splits unambiguously
    return IssuedApiKey(key_id, sha256_hex(secret), f"{prefix}_{key_id}_{secret}")


def split_api_key(presented: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a presented key, or None when it has not the key's shape."""
    parts = presented.rsplit("_", 2)
    if len(parts) != 3 or not parts[0] or not _KEY_ID.match(parts[1]):
        return None
    return parts[1], parts[2]
