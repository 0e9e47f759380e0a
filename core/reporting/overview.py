"""The Overview's headline figures and their change over the last 30 days.

The changes count security events of the last 30 days under the brand they happened in;
``new_users_30d`` counts mailboxes created in the last 30 days in their current effective
brand, with the same status filter as the headline figures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from core.mailboxes.effective_brand import join_effective_brand
from core.platform.models import Brand, SecurityEvent, User, utcnow
from core.reporting.adoption import AdoptionFilter, adoption_by_brand, adoption_totals


def overview(
    session: Session, *, brand: str | None = None, status: str = "active", now: datetime | None = None
) -> dict:
    """The Overview's headline figures: ``adoption_totals`` of ``adoption_by_brand`` (the
    rows are under ``by_brand``), and their change over the last 30 days:
    ``users_2fa_change_30d``, ``app_passwords_change_30d``, ``new_users_30d``."""
    now = now or utcnow()
    since = now - timedelta(days=30)
    rows = adoption_by_brand(session, AdoptionFilter(brand=brand, status=status))  # type: ignore[arg-type]
    totals = adoption_totals(rows)

    kinds = select(SecurityEvent.kind, func.count()).where(SecurityEvent.at >= since, SecurityEvent.at <= now)
    if brand:
        kinds = kinds.join(Brand, Brand.id == SecurityEvent.brand_id).where(
            func.lower(Brand.name) == brand.strip().lower()
        )
    n = {k: int(c) for k, c in session.execute(kinds.group_by(SecurityEvent.kind))}
    new_users = select(func.count()).select_from(User).where(User.created_at >= since, User.created_at <= now)
    if brand:
        new_users = join_effective_brand(new_users).where(func.lower(Brand.name) == brand.strip().lower())
    if status != "all":
        new_users = new_users.where(User.status == status)
    enrolled = n.get("2fa_enrolled", 0)
    return {
        **totals,
        "users_2fa_change_30d": enrolled - n.get("2fa_reset", 0) - n.get("2fa_self_disabled", 0),
        "app_passwords_change_30d": n.get("app_password_created", 0) - n.get("app_password_revoked", 0),
        "new_users_30d": int(session.scalar(new_users) or 0),
        "since": since,
        "as_of": now,
        "by_brand": rows,
    }
