"""One delivery pass, ``send_pending``: claim, deliver outside any transaction, mark.

Run by ``notify send`` and by each server's ``Sender``. For each ``pending`` row whose
``next_attempt_at`` has come, oldest first: ``claims.claim`` it (skipped when another sender
took it first), build its message, hand it to ``SMTP_URL`` or the outbox with no database
lock held, then ``claims.mark_sent`` or ``claims.mark_failed``. A database error while
marking propagates (the row stays ``sending`` and is never sent again by itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.notices.claims import claim, error_text, mark_failed, mark_sent
from core.notices.destination import destination
from core.notices.messages import build_message
from core.notices.transports import deliver
from core.platform.config import Settings, get_settings
from core.platform.db import get_engine, session_scope
from core.platform.errors import BadInput
from core.platform.models import Notification, utcnow

Outcome = Literal["sent", "failed", "skipped"]

_NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MessageOutcome:
    """What became of one notification in a pass; ``error`` is set for ``failed``."""

    id: int
    recipient: str
    outcome: Outcome
    error: str | None = None


@dataclass
class SendReport:
    """A pass's outcomes, counted by kind."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    messages: list[MessageOutcome] = field(default_factory=list)

    def add(self, item: MessageOutcome) -> None:
        """Record one outcome and count it."""
        self.messages.append(item)
        if item.outcome == "sent":
            self.sent += 1
        elif item.outcome == "failed":
            self.failed += 1
        else:
            self.skipped += 1


def send_pending(
    *,
    settings: Settings | None = None,
    engine: Engine | None = None,
    now: datetime | None = None,
    limit: int = 100,
    should_stop: Callable[[], bool] | None = None,
) -> SendReport:
    """Deliver up to ``limit`` due notifications, each at most once (see ``core.notices``).

    ``now`` pins the clock (due-ness, backoff and ``sent_at``); by default each step reads
    the real clock. A malformed ``SMTP_URL`` raises ``BadInput`` before anything is claimed.
    ``should_stop`` is asked before each claim: once it says so, the rest stay pending for
    the next pass (a sender shutting down finishes the message in hand, never more).
    """
    settings = settings or get_settings()
    engine = engine or get_engine(settings.database_url)
    if now is not None and now.utcoffset() is None:
        raise BadInput("send_pending needs an aware datetime for now (UTC).")
    where = destination(settings)

    def clock() -> datetime:
        return now if now is not None else utcnow()

    with session_scope(engine) as session:
        due = session.execute(
            select(_NOTIFICATIONS.c.id, _NOTIFICATIONS.c.recipient)
            .where(_NOTIFICATIONS.c.status == "pending", _NOTIFICATIONS.c.next_attempt_at <= clock())
            .order_by(_NOTIFICATIONS.c.created_at, _NOTIFICATIONS.c.id)
            .limit(max(limit, 0))
        ).all()

    report = SendReport()
    for notification_id, recipient in due:
        if should_stop is not None and should_stop():
            break
        item = claim(engine, notification_id, clock())
        if item is None:
            report.add(MessageOutcome(id=notification_id, recipient=recipient, outcome="skipped"))
            continue
        try:
            msg = build_message(item, sender=settings.smtp_from, at=clock())
            deliver(where, item, msg)
        except Exception as exc:
            error = error_text(exc)
            mark_failed(engine, item, clock(), error)
            report.add(MessageOutcome(id=item.id, recipient=item.recipient, outcome="failed", error=error))
            continue
        mark_sent(engine, item, clock())
        report.add(MessageOutcome(id=item.id, recipient=item.recipient, outcome="sent"))
    return report
