"""A customer mailbox's authenticator: its TOTP secret and last step live on its ``users`` row.

Its failures share the mailbox's sign-in throttle (``user:<email>``) with wrong passwords
and wrong app passwords. The row must be read ``FOR UPDATE`` in the caller's write
transaction, so two logins with one code cannot both pass the replay guard.
"""

from __future__ import annotations

from core.platform.authenticator import ThrottledAuthenticator
from core.platform.crypto import decrypt_secret
from core.platform.models import User


def throttle_subject(email: str) -> str:
    """The throttle's name for a mailbox's sign-in."""
    return f"user:{email}"


class MailboxAuthenticator(ThrottledAuthenticator):
    """The TOTP authenticator a mailbox enrolled (``users.totp_secret``, ``users.totp_last_step``)."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.subject = throttle_subject(user.email)

    def secret(self) -> str:
        return decrypt_secret(self.user.totp_secret)

    @property
    def last_step(self) -> int | None:
        return self.user.totp_last_step

    def accept(self, step: int) -> None:
        self.user.totp_last_step = step
