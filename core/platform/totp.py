"""TOTP per RFC 6238 (SHA-1, 6 digits, 30-second steps) and the failure throttle.

Shared by the customers' 2FA and the operators' sign-in.
"""

from __future__ import annotations

import hmac
import re
import time
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select
from sqlmodel import Session

from core.platform.errors import BadInput, Refused
from core.platform.models import LoginFailure, utcnow

STEP_SECONDS = 30
DIGITS = 6
# RFC 6238 §5.2: accept one step of clock drift either way.
DRIFT_STEPS = 1
THROTTLE_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)

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


def code_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step within the drift window whose code is ``code``, or None."""
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate in constant time, and do not stop early.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def match_step(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int | None:
    """The time step that ``code`` belongs to, or None.

    A step at or before ``last_step`` never matches (RFC 6238 §5.2: a code is accepted
    once), so a replayed code, or an older one, is refused.
    """
    step = code_step(secret, code, now=now)
    if step is None or (last_step is not None and step <= last_step):
        return None
    return step


def throttled_until(session: Session, subject: str) -> datetime | None:
    """When sign-in for ``subject`` opens again, or None when it is not throttled."""
    since = utcnow() - THROTTLE_WINDOW
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.at)).where(
            LoginFailure.subject == subject, LoginFailure.at > since
        )
    ).one()
    if count >= THROTTLE_FAILURES and oldest is not None:
        return oldest + THROTTLE_WINDOW
    return None


def check_throttle(session: Session, subject: str, who: str) -> None:
    until = throttled_until(session, subject)
    if until is not None:
        minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
        raise Refused(
            f"Too many failed attempts for {who}: sign-in is paused for about {minutes} "
            f"more minute{'s' if minutes != 1 else ''} (until {until:%H:%M} UTC)."
        )


def note_failure(session: Session, subject: str) -> None:
    session.add(LoginFailure(subject=subject))


def clear_failures(session: Session, subject: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.subject == subject))
