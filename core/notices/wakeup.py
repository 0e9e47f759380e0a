"""Waking this process's senders: at once after a commit that queued a notice, or by ``wake``.

``queueing.queue`` marks its session with ``WAKE_ON_COMMIT``; the session's commit wakes the
senders (never before: the row does not exist for another connection until then), and a
rollback forgets the mark. A sender reads ``count()`` before a pass and waits on
``condition`` for it to change, so a wake during a pass makes the next pass start at once.
"""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

WAKE_ON_COMMIT = "notify.wake_on_commit"
condition = threading.Condition()
_count = 0


def wake() -> None:
    """Make every sender of this process look for due notifications now."""
    global _count
    with condition:
        _count += 1
        condition.notify_all()


def count() -> int:
    """How many wakes this process has had; a change means "look again"."""
    return _count


@event.listens_for(OrmSession, "after_commit")
def _wake_after_commit(session: OrmSession) -> None:
    if session.info.pop(WAKE_ON_COMMIT, False):
        wake()


@event.listens_for(OrmSession, "after_rollback")
def _forget_wake(session: OrmSession) -> None:
    session.info.pop(WAKE_ON_COMMIT, None)
