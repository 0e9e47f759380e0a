"""TOTP per RFC 6238 (SHA-1, 6 digits, 30-second steps), and nothing else.

Shared by the customers' 2FA, the operators' sign-in and the Branding sandbox's demo
mailbox, through :mod:`core.platform.authenticator`. :func:`match_step` is the one place
a code is matched to a time step, and so the one place a used step is refused.
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass

import pyotp

from core.platform.errors import BadInput

STEP_SECONDS = 30
DIGITS = 6
# RFC 6238 §5.2: accept one step of clock drift either way.
DRIFT_STEPS = 1

_CODE_RE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226 §4 recommends at least 128)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def current_code(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret).at(at if at is not None else time.time())


def clean_code(code: str) -> str:
    """The code without spaces, or BadInput saying what is wrong with it."""
    cleaned = (code or "").replace(" ", "").strip()
    if not _CODE_RE.match(cleaned):
        raise BadInput("The code must be exactly 6 digits (0-9), as the authenticator app shows it.")
    return cleaned


@dataclass(frozen=True)
class StepMatch:
    """What a code matched: the ``step`` to accept, or None; ``reused`` when it was used up."""

    step: int | None
    reused: bool = False


def _code_step(secret: str, code: str, now: float) -> int | None:
    """The time step within the drift window whose code is ``code``, or None."""
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate in constant time, and do not stop early.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def match_step(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> StepMatch:
    """The time step that ``code`` belongs to, within one step of drift either way.

    RFC 6238 §5.2: a code is accepted once. A step at or before ``last_step`` never
    matches, so a replayed code, or an older one, comes back ``reused`` and without a step.
    """
    step = _code_step(secret, code, time.time() if now is None else now)
    if step is None:
        return StepMatch(step=None)
    if last_step is not None and step <= last_step:
        return StepMatch(step=None, reused=True)
    return StepMatch(step=step)
