"""Secrets at rest: Fernet for TOTP secrets, argon2 for passwords.

Nothing here logs or returns a secret except to the caller that asked for it.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken

from core.platform.config import get_settings

# argon2id at the OWASP Password Storage Cheat Sheet's first profile (m=19 MiB, t=2,
# p=1): slow enough to hurt guessing, quick enough for a mail client that signs in with
# an app password many times a day (up to four hashes to try per sign-in).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt_secret(plain: str) -> str:
    return _fernet(get_settings().secret_key).encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet(get_settings().secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError(
            "A stored secret cannot be decrypted with this MAC_SECRET_KEY; "
            "the key differs from the one the data was written with."
        ) from exc


def hash_password(plain: str) -> str:
    return _hasher.hash(plain)


def verify_password(stored_hash: str | None, plain: str) -> bool:
    """Constant-time check of ``plain`` against an argon2 hash (False when none is set)."""
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, plain)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """SHA-256 of a random session token: the table stores this, the cookie the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(value: str) -> str:
    """HMAC-SHA256 of ``value`` with the settings key (signed cookies and links)."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def signature_ok(value: str, signature: str) -> bool:
    return hmac.compare_digest(sign(value), signature)
