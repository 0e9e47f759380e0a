"""The failure throttle of sign-in: 5 failures within 15 minutes pause a subject's sign-in.

A subject is who signs in, named by kind (``user:<email>``, ``operator:<username>``).
Each failure is a row of ``login_failures``, so a reload or another server process does
not reset the count; a success clears the subject's rows. While throttled, sign-in for
the subject waits until its oldest failure in the window is 15 minutes old, and a
throttled attempt is not counted again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Session

from core.platform.models import LoginFailure, utcnow

FAILURES = 5
WINDOW = timedelta(minutes=15)


def throttled_until(session: Session, subject: str, *, failures: int = FAILURES) -> datetime | None:
    """When sign-in for ``subject`` opens again, or None when it is not throttled.

    ``failures`` is the subject's limit in the window: 5 for whoever signs in, higher for a
    client address that many mailboxes share (``core.mailboxes.mail_auth``).
    """
    since = utcnow() - WINDOW
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.at)).where(
            LoginFailure.subject == subject, LoginFailure.at > since
        )
    ).one()
    if count >= failures and oldest is not None:
        return oldest + WINDOW
    return None


def note_failure(session: Session, subject: str) -> None:
    session.add(LoginFailure(subject=subject))


def clear_failures(session: Session, subject: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.subject == subject))
