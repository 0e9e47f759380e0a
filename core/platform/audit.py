"""The audit log: events (``core.platform.events``) written in the caller's transaction, and read back.

``record`` only adds to the session; the service that made the change commits both
together, so an event exists exactly when its change does. Events are never edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlmodel import Session

from core.platform.events import EVENT_TYPES, Event
from core.platform.models import AuditEvent, Brand, SecurityEvent, User


def record(session: Session, event: Event, *, actor: str) -> AuditEvent:
    """Add ``event``, done by ``actor``, to the session's transaction."""
    if type(event) not in EVENT_TYPES:
        raise ValueError(f"{type(event).__name__} is not one of core.platform.events.EVENT_TYPES")
    row = AuditEvent(actor=actor, **event.columns())
    session.add(row)
    return row


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    brand: str | None = None
    user_email: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_query(filters: AuditFilter | None = None) -> Select:
    """The audit log as a select of plain columns, newest first, with the filters applied."""
    f = filters or AuditFilter()
    stmt = (
        select(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.object_type,
            AuditEvent.object_key,
            Brand.name.label("brand"),
            User.email.label("user"),
            AuditEvent.before,
            AuditEvent.after,
            AuditEvent.reason,
        )
        .select_from(AuditEvent)
        .outerjoin(Brand, Brand.id == AuditEvent.brand_id)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    if f.actor:
        stmt = stmt.where(AuditEvent.actor == f.actor)
    if f.action:
        stmt = stmt.where(AuditEvent.action == f.action)
    if f.brand:
        stmt = stmt.where(func.lower(Brand.name) == f.brand.lower())
    if f.user_email:
        stmt = stmt.where(User.email == f.user_email.strip().lower())
    if f.since:
        stmt = stmt.where(AuditEvent.at >= f.since)
    if f.until:
        stmt = stmt.where(AuditEvent.at < f.until)
    return stmt


def list_events(session: Session, filters: AuditFilter | None = None, *, limit: int = 100) -> list[dict]:
    """The newest ``limit`` events matching ``filters``, as plain dicts."""
    rows = session.execute(audit_query(filters).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


SECURITY_KINDS = (
    "2fa_enrolled",
    "2fa_reset",
    "2fa_self_disabled",
    "app_password_created",
    "app_password_revoked",
    # A mail client's sign-in that matched no password (core.mailboxes.mail_auth): the
    # user's page counts them, so a burst of guesses is seen.
    "mail_sign_in_failed",
)


def security_event(session: Session, *, user_id: int, brand_id: int, kind: str) -> SecurityEvent:
    """A change of a user's protection, with the brand it happened under (for history)."""
    if kind not in SECURITY_KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    event = SecurityEvent(user_id=user_id, brand_id=brand_id, kind=kind)
    session.add(event)
    return event
