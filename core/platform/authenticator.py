"""One object owns a second factor's verification, so there is one path to accept a code.

Modelled on django-otp's ``Device.verify_token`` and its ``ThrottlingMixin``. A device
kind says where its secret and its last accepted step live; the base does the rest the
same way for every kind:

* :meth:`Authenticator.check`: the code's form, then RFC 6238 with one step of drift and
  the replay guard (:func:`core.platform.totp.match_step`); an accepted step is stored,
  so the same code, or an older one, is refused the next time (RFC 6238 §5.2).
* :meth:`ThrottledAuthenticator.verify`: the failure throttle around ``check``
  (:mod:`core.platform.throttle`): a throttled subject is refused before its code is
  looked at, a wrong or used code counts as a failure, a right one clears them. A code
  of the wrong form is not a failure: it never reached the secret.

The kinds: ``core.mailboxes.mailbox_authenticator`` (a customer's mailbox) and
``core.access.operator_authenticator`` (an operator), each a :class:`StoredAuthenticator`
on its own row, and the Branding sandbox's demo mailbox in ``core.brands.preview_mailbox``,
which stores nothing and so has no throttle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session

from core.platform import throttle, totp
from core.platform.crypto import decrypt_secret
from core.platform.errors import BadInput
from core.platform.models import Operator, User

Reason = Literal["ok", "throttled", "malformed", "wrong", "reused"]


@dataclass(frozen=True)
class Verdict:
    """The answer to one code: ``ok``, or why not; each caller words it for its own person."""

    ok: bool
    reason: Reason
    message: str = ""  # for "malformed": what is wrong with the code
    until: datetime | None = None  # for "throttled": when sign-in opens again


class Authenticator(ABC):
    """A TOTP second factor (RFC 6238) that accepts each time step once."""

    @abstractmethod
    def secret(self) -> str:
        """The plain base32 secret."""

    @property
    @abstractmethod
    def last_step(self) -> int | None:
        """The last time step accepted, or None when none was."""

    @abstractmethod
    def accept(self, step: int) -> None:
        """Remember ``step`` as used, in the caller's transaction."""

    def current_code(self, *, now: float | None = None) -> str:
        """The code the authenticator app shows now (or at ``now``)."""
        return totp.current_code(self.secret(), now)

    def check(self, code: str, *, now: float | None = None) -> Verdict:
        """Is ``code`` right, and unused? Stores its step when it is; counts nothing."""
        try:
            clean = totp.clean_code(code)
        except BadInput as exc:
            return Verdict(ok=False, reason="malformed", message=str(exc))
        match = totp.match_step(self.secret(), clean, last_step=self.last_step, now=now)
        if match.step is None:
            return Verdict(ok=False, reason="reused" if match.reused else "wrong")
        self.accept(match.step)
        return Verdict(ok=True, reason="ok")


class ThrottledAuthenticator(Authenticator):
    """An authenticator whose failures count towards its ``subject``'s sign-in throttle."""

    subject: str

    def verify(self, session: Session, code: str, *, now: float | None = None) -> Verdict:
        """The throttle, then :meth:`check`; a failure is added to ``session``, a success clears them."""
        until = throttle.throttled_until(session, self.subject)
        if until is not None:
            return Verdict(ok=False, reason="throttled", until=until)
        verdict = self.check(code, now=now)
        if verdict.ok:
            throttle.clear_failures(session, self.subject)
        elif verdict.reason != "malformed":
            throttle.note_failure(session, self.subject)
        return verdict


class StoredAuthenticator(ThrottledAuthenticator):
    """A throttled authenticator kept on one row: ``totp_secret`` (encrypted) and ``totp_last_step``.

    The row must be read ``FOR UPDATE`` in the caller's write transaction, so two sign-ins
    with one code cannot both pass the replay guard.
    """

    def __init__(self, row: User | Operator, *, subject: str) -> None:
        self.row = row
        self.subject = subject

    def secret(self) -> str:
        return decrypt_secret(self.row.totp_secret)

    @property
    def last_step(self) -> int | None:
        return self.row.totp_last_step

    def accept(self, step: int) -> None:
        self.row.totp_last_step = step
