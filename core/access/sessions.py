"""Operator sessions: opened by a sign-in, proven by every write, ended in one place.

Sessions are rows of ``operator_sessions``; the browser's cookie (``SESSION_COOKIE``)
holds a random token, the table its SHA-256. One session per operator: signing in again
ends the others. A session ends on sign-out, "sign out everywhere", a password change, an
authenticator reset, a deactivation or a role change, and stops acting after
``MAC_SESSION_IDLE_MINUTES`` idle or ``MAC_SESSION_MAX_HOURS`` after sign-in
(``core.access.permissions.session_problem``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from core.access.permissions import Actor, require, require_self_or, session_problem
from core.platform import audit
from core.platform.crypto import token_digest
from core.platform.errors import BadInput
from core.platform.events import OperatorSignedOut, OperatorSignedOutEverywhere
from core.platform.models import Operator, OperatorSession, utcnow

SESSION_COOKIE = "mac_session"


def open_session(session: Session, op: Operator) -> tuple[str, int]:
    """A new session for ``op`` and how many older ones it ended: one session per operator.

    Signing in again ends the operator's other sessions, so a browser left signed in
    elsewhere (a shared computer, a stolen cookie) stops with the next sign-in.
    """
    ended = end_sessions(session, op.id)
    token = secrets.token_urlsafe(32)
    session.add(OperatorSession(token_hash=token_digest(token), operator_id=op.id))
    return token, ended


def end_sessions(session: Session, operator_id: int | None) -> int:
    """End every open session of an operator; how many there were."""
    result = session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator_id, OperatorSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return result.rowcount or 0


def session_actor(session: Session, token: str | None, *, touch: bool = True) -> Actor | None:
    """The operator behind a session token, or None when the session may no longer act.

    It may not once it ended, went idle, outlived ``MAC_SESSION_MAX_HOURS`` or was issued
    before the operator's last credential change (``core.access.permissions.session_problem``).
    """
    if not token:
        return None
    digest = token_digest(token)
    row = session.execute(
        select(OperatorSession, Operator)
        .join(Operator, Operator.id == OperatorSession.operator_id)
        .where(OperatorSession.token_hash == digest)
    ).first()
    if row is None:
        return None
    sess, op = row
    now = utcnow()
    if session_problem(sess, op, now) is not None:
        return None
    if touch and now - sess.last_seen_at > timedelta(seconds=30):
        # Only every 30 s: a page view is many requests, and each would be a write.
        session.execute(update(OperatorSession).where(OperatorSession.id == sess.id).values(last_seen_at=now))
    return Actor(name=op.username, role=op.role, operator_id=op.id, session_digest=digest)


def session_of(token: str | None) -> Actor:
    """The actor a dashboard request acts as: its session, to be proven by ``core.access.permissions.require``.

    It carries no role: the write's own transaction reads who is behind the session.
    """
    return Actor(name="(signed-in session)", role="session", session_digest=token_digest(token or ""))


def end_session(session: Session, token: str | None) -> None:
    actor = session_actor(session, token, touch=False)
    if actor is None:
        return
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.token_hash == token_digest(token or ""))
        .values(ended_at=utcnow())
    )
    audit.record(session, OperatorSignedOut(username=actor.name), actor=actor.name)


def sign_out_everywhere(session: Session, *, actor: Actor, username: str) -> int:
    """End every session of an operator (one's own, or, for an administrator, anyone's)."""
    op = session.scalars(
        select(Operator).where(Operator.username == (username or "").strip().lower())
    ).first()
    if op is None:
        require(session, actor, "operator.recover")
        raise BadInput(f"There is no operator {username!r}.")
    actor = require_self_or(session, actor, "operator.recover", operator_id=op.id)
    ended = end_sessions(session, op.id)
    audit.record(
        session, OperatorSignedOutEverywhere(username=op.username, ended_sessions=ended), actor=actor.name
    )
    return ended
