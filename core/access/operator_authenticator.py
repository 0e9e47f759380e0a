"""An operator's authenticator: its TOTP secret and last step live on its ``operators`` row.

Its failures share the operator's sign-in throttle (``operator:<username>``) with wrong
passwords. The row must be read ``FOR UPDATE`` in the caller's write transaction, so two
sign-ins with one code cannot both pass the replay guard.
"""

from __future__ import annotations

from core.platform.authenticator import ThrottledAuthenticator
from core.platform.crypto import decrypt_secret
from core.platform.models import Operator


def throttle_subject(username: str) -> str:
    """The throttle's name for an operator's sign-in (any name typed, known or not)."""
    return f"operator:{username}"


class OperatorAuthenticator(ThrottledAuthenticator):
    """The TOTP authenticator an operator enrolled (``operators.totp_secret``, ``operators.totp_last_step``)."""

    def __init__(self, op: Operator) -> None:
        self.op = op
        self.subject = throttle_subject(op.username)

    def secret(self) -> str:
        return decrypt_secret(self.op.totp_secret)

    @property
    def last_step(self) -> int | None:
        return self.op.totp_last_step

    def accept(self, step: int) -> None:
        self.op.totp_last_step = step
