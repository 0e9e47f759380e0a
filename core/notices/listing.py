"""Listing notices: all of them for the command line, a mailbox's for the pages.

What a person is shown (``state`` of ``notices_for`` and ``notice``): ``queued`` (pending,
never tried), ``sending`` (claimed; stuck there only when a sender died mid-send: check the
mail log), ``sent`` (at ``sent_at``), ``failed`` (pending again after a failed attempt:
``attempts``, ``last_error`` and ``next_attempt_at`` say when it is tried next). No listing
gives a notice's body.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.platform.models import Notification, User

_NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]


_NOTICE_COLUMNS = (
    _NOTIFICATIONS.c.id,
    _NOTIFICATIONS.c.created_at,
    _NOTIFICATIONS.c.recipient,
    _NOTIFICATIONS.c.kind,
    _NOTIFICATIONS.c.subject,
    _NOTIFICATIONS.c.status,
    _NOTIFICATIONS.c.attempts,
    _NOTIFICATIONS.c.sent_at,
    _NOTIFICATIONS.c.next_attempt_at,
    _NOTIFICATIONS.c.last_error,
)


def list_notifications(session: Session, *, pending_only: bool = False, limit: int = 200) -> list[dict]:
    """Notifications newest first, as plain dicts (never the body).

    ``pending_only`` keeps the rows not yet known to be delivered: ``pending`` and
    ``sending`` (a ``sending`` row may be stuck; see the at-most-once rule of ``core.notices``).
    """
    stmt = select(*(c for c in _NOTICE_COLUMNS if c.name != "next_attempt_at")).order_by(
        _NOTIFICATIONS.c.created_at.desc(), _NOTIFICATIONS.c.id.desc()
    )
    if pending_only:
        stmt = stmt.where(_NOTIFICATIONS.c.status.in_(("pending", "sending")))
    rows = session.execute(stmt.limit(max(limit, 0))).mappings().all()
    return [dict(r) for r in rows]


def _state(status: str, attempts: int) -> str:
    if status == "pending":
        return "failed" if attempts else "queued"
    return status


def _notice_dict(row: Any) -> dict:
    d = dict(row)
    d["state"] = _state(d["status"], d["attempts"])
    if d["state"] != "failed":
        d["next_attempt_at"] = None  # a retry time means something only after a failure
    return d


def notices_for(session: Session, email: str, *, limit: int = 20) -> list[dict]:
    """A mailbox's notifications, newest first, as plain dicts (never the body).

    Keys: ``id, created_at, recipient, kind, subject, status, state, attempts, sent_at,
    next_attempt_at, last_error``; ``state`` is ``queued``, ``sending``, ``sent`` or
    ``failed`` (see this module's docstring); ``next_attempt_at`` is set for ``failed`` only.
    An address with no mailbox has none.
    """
    addr = (email or "").strip().lower()
    rows = (
        session.execute(
            select(*_NOTICE_COLUMNS)
            .join(User, User.id == _NOTIFICATIONS.c.user_id)
            .where(User.email == addr)
            .order_by(_NOTIFICATIONS.c.created_at.desc(), _NOTIFICATIONS.c.id.desc())
            .limit(max(limit, 0))
        )
        .mappings()
        .all()
    )
    return [_notice_dict(r) for r in rows]


def notice(session: Session, notification_id: int) -> dict | None:
    """One notification as ``notices_for`` gives it, or None."""
    row = (
        session.execute(select(*_NOTICE_COLUMNS).where(_NOTIFICATIONS.c.id == notification_id))
        .mappings()
        .first()
    )
    return _notice_dict(row) if row is not None else None
