"""An operator's authenticator: its TOTP secret and last step live on its ``operators`` row.

Its failures share the operator's sign-in throttle (``operator:<username>``) with wrong
passwords.
"""

from __future__ import annotations

from core.platform.authenticator import StoredAuthenticator
from core.platform.models import Operator


def throttle_subject(username: str) -> str:
    """The throttle's name for an operator's sign-in (any name typed, known or not)."""
    return f"operator:{username}"


class OperatorAuthenticator(StoredAuthenticator):
    """The TOTP authenticator an operator enrolled (``operators.totp_secret``, ``operators.totp_last_step``)."""

    def __init__(self, op: Operator) -> None:
        super().__init__(op, subject=throttle_subject(op.username))
