"""A customer mailbox's authenticator: its TOTP secret and last step live on its ``users`` row.

Its failures share the mailbox's sign-in throttle (``user:<email>``) with wrong passwords
and wrong app passwords.
"""

from __future__ import annotations

from core.platform.authenticator import StoredAuthenticator
from core.platform.models import User


def throttle_subject(email: str) -> str:
    """The throttle's name for a mailbox's sign-in."""
    return f"user:{email}"


class MailboxAuthenticator(StoredAuthenticator):
    """The TOTP authenticator a mailbox enrolled (``users.totp_secret``, ``users.totp_last_step``)."""

    def __init__(self, user: User) -> None:
        super().__init__(user, subject=throttle_subject(user.email))
