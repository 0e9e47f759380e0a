"""Users at risk: app passwords without 2FA, app passwords unused for 90 days, dormant 2FA.

Active mailboxes only (a suspended mailbox cannot sign in). ``app_passwords_unused_90d``
lists live (not revoked) app passwords with no use in the last 90 days: last used more
than 90 days ago, or never used and created more than 90 days ago (a password made this
morning is not "unused for 90 days"). Suspended ones (their brand disallows app passwords)
are listed too, with ``state`` "suspended": they wake up when the brand turns the switch
back on. Its count counts app passwords, the two other counts count users.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, exists, func, select
from sqlmodel import Session

from core.mailboxes.effective_brand import join_effective_brand
from core.mailboxes.state import (
    enrolled_dormant_sql,
    live_app_password_state_sql,
    twofa_state_is,
    twofa_state_sql,
)
from core.platform.models import AppPassword, Brand, User, UserGroupCount, utcnow
from core.reporting.adoption import counted_brand_id, counted_groups

UNUSED_DAYS = 90
AT_RISK_KEYS = ("app_passwords_no_2fa", "app_passwords_unused_90d", "dormant_2fa")


def _with_brand(stmt: Select, brand: str | None) -> Select:
    """Active mailboxes only, their effective brand joined as ``Brand`` (and ``brand`` it)."""
    stmt = join_effective_brand(stmt).where(User.status == "active")
    if brand:
        stmt = stmt.where(func.lower(Brand.name) == brand.strip().lower())
    return stmt


def _at_risk_selects(brand: str | None, now: datetime) -> dict:
    # Per user, from the user's own live app passwords (the index on user_id): walking users
    # in address order finds the first page without aggregating every app password.
    live = AppPassword.__table__.alias("live")
    is_live = and_(live.c.user_id == User.id, live.c.revoked_at.is_(None))

    def per_user(value):
        return select(value).where(is_live).correlate(User).scalar_subquery()

    no_2fa = _with_brand(
        select(
            User.email,
            Brand.name.label("brand"),
            twofa_state_sql().label("twofa"),
            per_user(func.count()).label("app_passwords"),
            per_user(func.min(live.c.created_at)).label("oldest_created_at"),
            per_user(func.max(live.c.last_used_at)).label("last_used_at"),
        ).select_from(User),
        brand,
    ).where(
        Brand.allow_app_passwords.is_(True),
        ~twofa_state_is("on"),
        exists().where(is_live),
    )
    last_activity = func.coalesce(AppPassword.last_used_at, AppPassword.created_at)
    unused = _with_brand(
        select(
            User.email,
            Brand.name.label("brand"),
            AppPassword.label,
            AppPassword.created_at,
            AppPassword.last_used_at,
            live_app_password_state_sql().label("state"),
        )
        .select_from(AppPassword)
        .join(User, User.id == AppPassword.user_id),
        brand,
    ).where(AppPassword.revoked_at.is_(None), last_activity < now - timedelta(days=UNUSED_DAYS))
    dormant = _with_brand(
        select(User.email, Brand.name.label("brand"), User.totp_enrolled_at, User.last_login_at).select_from(
            User
        ),
        brand,
    ).where(twofa_state_is("dormant"))
    return {
        "app_passwords_no_2fa": (no_2fa, (User.email,)),
        "app_passwords_unused_90d": (unused, (last_activity, User.email, AppPassword.label)),
        "dormant_2fa": (dormant, (User.email,)),
    }


def at_risk(
    session: Session, *, brand: str | None = None, limit: int = 100, now: datetime | None = None
) -> dict[str, list[dict]]:
    """The first ``limit`` rows of each at-risk list (keys ``AT_RISK_KEYS``).

    * ``app_passwords_no_2fa``: email, brand, twofa ("off"/"dormant"), app_passwords,
      oldest_created_at, last_used_at — active users with live app passwords in a brand
      that allows them and no 2FA asked at login; by address.
    * ``app_passwords_unused_90d``: email, brand, label, created_at, last_used_at, state —
      least recently active first.
    * ``dormant_2fa``: email, brand, totp_enrolled_at, last_login_at; by address.
    """
    limit = max(1, int(limit))
    out = {}
    for key, (stmt, order) in _at_risk_selects(brand, now or utcnow()).items():
        rows = session.execute(stmt.order_by(*order).limit(limit)).mappings()
        out[key] = [dict(r) for r in rows]
    return out


def at_risk_counts(
    session: Session, *, brand: str | None = None, now: datetime | None = None
) -> dict[str, int]:
    """The full size of each ``at_risk`` list.

    The two lists of users are counted from the running counts per group (``core.reporting.running_counts``);
    the unused app passwords depend on the time, so they are counted in the table.
    """
    g = UserGroupCount
    no_2fa = case(
        (Brand.allow_app_passwords.is_(False), 0),
        (Brand.allow_2fa.is_(True), g.ap_users - g.ap_users_enrolled),
        else_=g.ap_users,
    )
    dormant = enrolled_dormant_sql(g.enrolled, Brand.allow_2fa)
    stmt = (
        counted_groups(func.coalesce(func.sum(no_2fa), 0), func.coalesce(func.sum(dormant), 0))
        .join(Brand, Brand.id == counted_brand_id())
        .where(g.status == "active")
    )
    if brand:
        stmt = stmt.where(func.lower(Brand.name) == brand.strip().lower())
    users_no_2fa, users_dormant = session.execute(stmt).one()
    unused, _order = _at_risk_selects(brand, now or utcnow())["app_passwords_unused_90d"]
    return {
        "app_passwords_no_2fa": int(users_no_2fa),
        "app_passwords_unused_90d": int(
            session.scalar(select(func.count()).select_from(unused.subquery())) or 0
        ),
        "dormant_2fa": int(users_dormant),
    }
