"""Audit events: typed records with a stable action name, written in the caller's transaction.

``record`` only adds to the session; the service that made the change commits both
together, so an event exists exactly when its change does. Events are never edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session

from core.platform.models import AuditEvent, Brand, SecurityEvent, User

# The stable names of every action, as they appear in the log and its exports.
ACTIONS = {
    "brand.switches_changed": "Brand switches changed",
    "brand.css_saved": "Brand login CSS saved",
    "user.created": "Mailbox created",
    "user.imported": "Mailboxes imported",
    "user.2fa_enrolled": "2FA enrolled",
    "user.2fa_reset": "2FA reset by support",
    "user.2fa_self_disabled": "2FA turned off by the user",
    "app_password.created": "App password created",
    "app_password.revoked": "App password revoked",
    "operator.created": "Operator created",
    "operator.role_changed": "Operator role changed",
    "operator.deactivated": "Operator deactivated",
    "operator.password_changed": "Operator password changed",
    "operator.totp_reset": "Operator authenticator reset",
    "operator.totp_enrolled": "Operator authenticator enrolled",
    "operator.sign_in": "Operator signed in",
    "operator.sign_in_failed": "Operator sign-in failed",
    "operator.sign_out": "Operator signed out",
    "operator.signed_out_everywhere": "Operator signed out everywhere",
    "access.refused": "Action refused",
    "notification.sent": "Customer notification sent",
    "demo.seeded": "Demo data loaded",
}


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    brand_id: int | None = None,
    user_id: int | None = None,
) -> AuditEvent:
    """Add one audit event to the session's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=object_type,
        object_key=object_key,
        before=before,
        after=after,
        reason=reason,
        brand_id=brand_id,
        user_id=user_id,
    )
    session.add(event)
    return event


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
)


def security_event(session: Session, *, user_id: int, brand_id: int, kind: str) -> SecurityEvent:
    """A change of a user's protection, with the brand it happened under (for history)."""
    if kind not in SECURITY_KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    event = SecurityEvent(user_id=user_id, brand_id=brand_id, kind=kind)
    session.add(event)
    return event
