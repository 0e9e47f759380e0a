"""The at-most-once claim on one notification, its mark afterwards, and the retry schedule.

A row is claimed (``pending`` to ``sending``, one more attempt) in its own short write
transaction *before* it is delivered, and marked *after*: ``sent`` with its audit event, or
back to ``pending`` with the next attempt pushed out by ``backoff``. Only the sender whose
claim matched the row goes on, so two senders never both deliver it; a row left ``sending``
(the sender died between the two) is never claimed again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.mailboxes.effective_brand import effective_brand_id_of
from core.platform import audit
from core.platform.db import session_scope
from core.platform.events import NotificationSent
from core.platform.models import Notification

ACTOR = "notify"
# Delay before the next attempt, indexed by the number of attempts made; the last repeats.
BACKOFF_MINUTES = (1, 5, 15, 60)
MAX_ERROR_CHARS = 500

_NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claimed:
    """A notification this sender holds: everything needed to deliver and mark it."""

    id: int
    user_id: int
    recipient: str
    kind: str
    subject: str
    body: str
    attempts: int


def backoff(attempts: int) -> timedelta:
    """The wait after a failed attempt, given the attempts made so far (1-based)."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return timedelta(minutes=BACKOFF_MINUTES[index])


def error_text(exc: BaseException) -> str:
    """A short, single-line description of a delivery error."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    return text[:MAX_ERROR_CHARS]


def claim(engine: Engine, notification_id: int, now: datetime) -> Claimed | None:
    """Take one due ``pending`` row for this sender, committed; None when another took it first."""
    with session_scope(engine, write=True) as session:
        result: Any = session.execute(
            update(_NOTIFICATIONS)
            .where(
                _NOTIFICATIONS.c.id == notification_id,
                _NOTIFICATIONS.c.status == "pending",
                _NOTIFICATIONS.c.next_attempt_at <= now,
            )
            .values(status="sending", attempts=_NOTIFICATIONS.c.attempts + 1)
        )
        if result.rowcount != 1:
            return None
        columns = (_NOTIFICATIONS.c[f.name] for f in fields(Claimed))
        row = session.execute(select(*columns).where(_NOTIFICATIONS.c.id == notification_id)).one()
        return Claimed(**row._asdict())


def mark_sent(engine: Engine, item: Claimed, at: datetime) -> None:
    """The claimed row delivered: ``sent`` at ``at``, with its audit event (no message content)."""
    with session_scope(engine, write=True) as session:
        _settle(session, item, status="sent", sent_at=at, last_error=None)
        audit.record(
            session,
            NotificationSent(
                recipient=item.recipient,
                notification_id=item.id,
                kind=item.kind,
                attempts=item.attempts,
                brand_id=effective_brand_id_of(session, item.user_id),
                user_id=item.user_id,
            ),
            actor=ACTOR,
        )


def mark_failed(engine: Engine, item: Claimed, now: datetime, error: str) -> None:
    """The claimed row not delivered: ``pending`` again, tried next after ``backoff``."""
    with session_scope(engine, write=True) as session:
        _settle(
            session, item, status="pending", next_attempt_at=now + backoff(item.attempts), last_error=error
        )


def _settle(session: Session, item: Claimed, **values: Any) -> None:
    """Move a row this sender claimed out of ``sending``; a row no longer ``sending`` is left alone."""
    session.execute(
        update(_NOTIFICATIONS)
        .where(_NOTIFICATIONS.c.id == item.id, _NOTIFICATIONS.c.status == "sending")
        .values(**values)
    )
