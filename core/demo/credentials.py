"""The demo's credentials: one mailbox password, the demo operators, and pools of secrets.

Shortcuts taken for speed, on purpose, and visible to whoever inspects the demo data:

* every mailbox has the same password, ``DEMO_MAILBOX_PASSWORD``, hashed once with
  argon2 and the one hash string reused for every user (argon2 per user would take hours);
* enrolled mailboxes draw their TOTP secret from a pool of ``SECRET_POOL_SIZE`` secrets,
  each encrypted once: demo users share secrets (the plaintexts come from the system's
  random generator; only the choice from the pool is deterministic);
* app-password hashes likewise come from a small pool of hashed random passwords.

The demo operators (``DEMO_OPERATORS``) sign in with ``<username>-demo-pass`` and a fixed
TOTP secret per operator (``demo_operator_totp_secret``), so ``operators totp USERNAME``
prints a valid code.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

from core.platform.crypto import encrypt_secret, hash_password
from core.platform.totp import new_secret

DEMO_MAILBOX_PASSWORD = "demo-mailbox-password"  # noqa: S105 (documented demo password)
# username -> (role, password)
DEMO_OPERATORS: dict[str, tuple[str, str]] = {
    "admin": ("admin", "admin-demo-pass"),
    "support": ("support", "support-demo-pass"),
    "manager": ("account_manager", "manager-demo-pass"),
    "analyst": ("analyst", "analyst-demo-pass"),
}
SECRET_POOL_SIZE = 64
APP_PASSWORD_POOL_SIZE = 4


def demo_operator_totp_secret(username: str) -> str:
    """The fixed base32 TOTP secret of a demo operator (160 bits, as ``new_secret``)."""
    digest = hashlib.sha1(f"mac-demo-{username}".encode()).digest()[:20]  # noqa: S324 (a derivation, not a hash for security)
    return base64.b32encode(digest).decode()


@dataclass(frozen=True)
class Hashes:
    mailbox: str
    app_passwords: list[str]
    operators: dict[str, str]


@lru_cache(maxsize=1)
def password_hashes() -> Hashes:
    """The mailbox password's hash, the app-password hash pool and the operators' hashes.

    argon2 takes a noticeable fraction of a second a hash, so they are made once a process.
    """
    return Hashes(
        mailbox=hash_password(DEMO_MAILBOX_PASSWORD),
        app_passwords=[hash_password(secrets.token_urlsafe(12)) for _ in range(APP_PASSWORD_POOL_SIZE)],
        operators={name: hash_password(password) for name, (_role, password) in DEMO_OPERATORS.items()},
    )


def secret_pool() -> list[str]:
    """``SECRET_POOL_SIZE`` new TOTP secrets, encrypted for storage."""
    return [encrypt_secret(new_secret()) for _ in range(SECRET_POOL_SIZE)]
