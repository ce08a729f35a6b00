"""Webhook signing secrets encrypted at rest.

The sender needs each endpoint's secret in clear to sign, so it cannot be hashed; it is sealed
with AES-256-GCM under a key derived from SECRET_KEY (HKDF-SHA256, purpose ``webhook-secrets``)
and a fresh 96-bit nonce, bound to its endpoint (the endpoint id is the associated data: a
ciphertext copied to another row does not open). Next to the ciphertext the row keeps the key
id (the first 16 hex digits of SHA-256 over the derived key), so a secret sealed under an older
SECRET_KEY is still opened while that key is listed in OLD_SECRET_KEYS, and
``zhizao secrets rotate`` re-seals every secret under the current key. A database dump without
SECRET_KEY reveals no signing secret.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.auth.security import derive_key
from app.kit.settings import Settings

PURPOSE = "webhook-secrets"
NONCE_BYTES = 12


class SecretUnavailable(Exception):
    """A sealed secret whose key is not configured (SECRET_KEY changed and the old one is not
    in OLD_SECRET_KEYS), or whose ciphertext does not open."""


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    ciphertext: str


def _key_with_id(secret_key: str) -> tuple[str, bytes]:
    key = derive_key(secret_key, PURPOSE)
    return hashlib.sha256(key).hexdigest()[:16], key


def current_key_id(settings: Settings) -> str:
    return _key_with_id(settings.SECRET_KEY.get_secret_value())[0]


def keyring(settings: Settings) -> dict[str, bytes]:
    """Every key that may open a secret: the current one and those of OLD_SECRET_KEYS."""
    secrets = [settings.SECRET_KEY, *settings.OLD_SECRET_KEYS]
    return dict(_key_with_id(s.get_secret_value()) for s in secrets)


def seal(settings: Settings, endpoint_id: uuid.UUID, plaintext: str) -> Sealed:
    key_id, key = _key_with_id(settings.SECRET_KEY.get_secret_value())
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode(), endpoint_id.bytes)
    return Sealed(key_id, base64.b64encode(nonce + ciphertext).decode())


def unseal(settings: Settings, endpoint_id: uuid.UUID, sealed: Sealed) -> str:
    key = keyring(settings).get(sealed.key_id)
    if key is None:
        raise SecretUnavailable(
            f"no configured key has id {sealed.key_id}: add the SECRET_KEY it was sealed under "
            "to ZHIZAO_OLD_SECRET_KEYS"
        )
    raw = base64.b64decode(sealed.ciphertext)
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], endpoint_id.bytes)
    except InvalidTag as exc:
        raise SecretUnavailable("the sealed secret does not open (altered or moved)") from exc
    return plain.decode()
