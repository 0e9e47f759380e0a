"""Reports: adoption over time, users at risk and the Overview's headline figures.

Every figure is an SQL aggregate; Python only folds the few aggregated rows (months,
brands) together. Decisions where the product rules are silent:

* **Adoption over time** is rebuilt from ``security_events`` only (through their counts per
  month, brand and kind, which the database keeps: ``core.reporting.running_counts``). Each event carries the
  user's effective brand *when it happened*, so a reset today or a later brand switch
  never rewrites a past month. Months are UTC calendar months ("YYYY-MM") and every month
  row is a whole month: the window is the last ``months`` months up to and including the
  month of ``until`` (default now), and the events of that whole month are counted.
  ``users_2fa_end`` = enrolments - resets - self-disables from the beginning of history
  to the end of the month; ``app_passwords_end`` = created - revoked likewise. They are
  *enrolled* users and *live* app passwords: whether a brand's switch is on at the time
  (dormant / suspended) is not an event and is not reflected.
* **At risk** looks at active mailboxes only (a suspended mailbox cannot sign in).
  ``app_passwords_unused_90d`` lists live (not revoked) app passwords with no use in the
  last 90 days: last used more than 90 days ago, or never used and created more than 90
  days ago (a password made this morning is not "unused for 90 days"). Suspended ones
  (their brand disallows app passwords) are listed too, with ``state`` "suspended": they
  wake up when the brand turns the switch back on. Its count counts app passwords, the
  two other counts count users.
* **Overview** changes over 30 days count security events of the last 30 days under the
  brand they happened in; ``new_users_30d`` counts mailboxes created in the last 30 days
  in their current effective brand, with the same status filter as the headline figures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlmodel import Session

from core.platform.models import (
    AppPassword,
    Brand,
    Company,
    Domain,
    EventMonthCount,
    SecurityEvent,
    User,
    UserGroupCount,
    utcnow,
)
from core.reporting.queries import (
    AdoptionFilter,
    adoption_by_brand,
    adoption_totals,
    counted_brand_id,
    counted_groups,
    effective_brand_id,
    twofa_state_sql,
)

MONTH_FIELDS = (
    "month",
    "brand",
    "enrolments",
    "resets",
    "self_disables",
    "app_passwords_created",
    "app_passwords_revoked",
    "users_2fa_end",
    "app_passwords_end",
)
# security_events.kind -> the month column it counts in
_KIND_COLUMNS = {
    "2fa_enrolled": "enrolments",
    "2fa_reset": "resets",
    "2fa_self_disabled": "self_disables",
    "app_password_created": "app_passwords_created",
    "app_password_revoked": "app_passwords_revoked",
}
MONTHS_MAX = 240
# The month report's window when none is named: the Overview's chart, the Reports page's
# month file, ``python -m core report adoption --by month`` and the notebook alike.
DEFAULT_MONTHS = 24
ALL_BRANDS = "All"
UNUSED_DAYS = 90
AT_RISK_KEYS = ("app_passwords_no_2fa", "app_passwords_unused_90d", "dormant_2fa")


# --- months --------------------------------------------------------------------------------


def _month_window(months: int, until: datetime | None) -> tuple[list[str], datetime]:
    """The month keys of the window, oldest first, and the first instant after it."""
    if not 1 <= int(months) <= MONTHS_MAX:
        raise ValueError(f"months must be between 1 and {MONTHS_MAX}, not {months}")
    until = until or utcnow()
    until = until.astimezone(UTC) if until.tzinfo else until.replace(tzinfo=UTC)
    y, m = until.year, until.month
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    keys = []
    for _ in range(int(months)):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return keys[::-1], end


def _month_counts(session: Session, *, by_brand: bool, brand: str | None, last: str):
    """(month, brand name or None, kind, n) up to and including month ``last``, from the
    per-month counts of ``security_events`` that the database keeps (``core.reporting.running_counts``)."""
    m = EventMonthCount
    cols = [m.month, (Brand.name if by_brand else literal(None)).label("brand"), m.kind]
    stmt = select(*cols, func.sum(m.n)).select_from(m).where(m.month <= last)
    if by_brand or brand:
        stmt = stmt.join(Brand, Brand.id == m.brand_id)
    if brand:
        stmt = stmt.where(func.lower(Brand.name) == brand.strip().lower())
    group = [m.month, m.kind] + ([Brand.name] if by_brand else [])
    return session.execute(stmt.group_by(*group)).all()


def _fold_months(keys: list[str], brand: str, counts: list[tuple[str, str, int]]) -> list[dict]:
    """Month rows of one brand from (month, kind, n) counts over the whole history."""
    per_month: dict[str, dict[str, int]] = {}
    users_end = ap_end = 0
    first = keys[0]
    for month, kind, n in counts:
        col = _KIND_COLUMNS.get(kind)
        if col is None:
            continue
        n = int(n)
        if month < first:  # before the window: only the running totals
            users_end += n if col == "enrolments" else -n if col in ("resets", "self_disables") else 0
            ap_end += n if col == "app_passwords_created" else -n if col == "app_passwords_revoked" else 0
            continue
        per_month.setdefault(month, {})[col] = per_month.get(month, {}).get(col, 0) + n
    rows = []
    for key in keys:
        c = per_month.get(key, {})
        row = {"month": key, "brand": brand}
        for col in _KIND_COLUMNS.values():
            row[col] = c.get(col, 0)
        users_end += row["enrolments"] - row["resets"] - row["self_disables"]
        ap_end += row["app_passwords_created"] - row["app_passwords_revoked"]
        row["users_2fa_end"] = users_end
        row["app_passwords_end"] = ap_end
        rows.append(row)
    return rows


def adoption_by_month(
    session: Session, *, brand: str | None = None, months: int = DEFAULT_MONTHS, until: datetime | None = None
) -> list[dict]:
    """Adoption per UTC month, oldest first, ``months`` rows ending with ``until``'s month.

    ``brand`` None: every brand combined, with brand "All"; a brand name (any case):
    the events that happened under that brand, with the brand's stored name (the name
    as given when no such brand exists, all rows zero). Columns: ``MONTH_FIELDS``.
    """
    keys, _end = _month_window(months, until)
    counts = _month_counts(session, by_brand=False, brand=brand, last=keys[-1])
    label = ALL_BRANDS
    if brand:
        label = session.scalar(select(Brand.name).where(func.lower(Brand.name) == brand.strip().lower()))
        label = label or brand.strip()
    return _fold_months(keys, label, [(m, k, n) for m, _b, k, n in counts])


def adoption_by_month_per_brand(
    session: Session, *, months: int = DEFAULT_MONTHS, until: datetime | None = None
) -> list[dict]:
    """``adoption_by_month`` for every brand (brands without events too), for charts.

    Sorted by month, then brand name; summing the brands of a month gives the "All" row.
    """
    keys, _end = _month_window(months, until)
    counts = _month_counts(session, by_brand=True, brand=None, last=keys[-1])
    by_brand: dict[str, list[tuple[str, str, int]]] = {
        name: [] for name in session.scalars(select(Brand.name).order_by(Brand.name))
    }
    for month, name, kind, n in counts:
        by_brand.setdefault(name, []).append((month, kind, n))
    rows = [r for name, c in by_brand.items() for r in _fold_months(keys, name, c)]
    rows.sort(key=lambda r: (r["month"], r["brand"]))
    return rows


# --- at risk -------------------------------------------------------------------------------


def _with_brand(stmt, brand: str | None):
    stmt = (
        stmt.join(Domain, Domain.id == User.domain_id)
        .join(Company, Company.id == Domain.company_id)
        .join(Brand, Brand.id == effective_brand_id())
        .where(User.status == "active")
    )
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
        or_(User.totp_enrolled_at.is_(None), Brand.allow_2fa.is_(False)),
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
            case((Brand.allow_app_passwords.is_(True), literal("active")), else_=literal("suspended")).label(
                "state"
            ),
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
    ).where(User.totp_enrolled_at.is_not(None), Brand.allow_2fa.is_(False))
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
    dormant = case((Brand.allow_2fa.is_(True), 0), else_=g.enrolled)
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


# --- overview ------------------------------------------------------------------------------


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
        new_users = (
            new_users.join(Domain, Domain.id == User.domain_id)
            .join(Company, Company.id == Domain.company_id)
            .join(Brand, Brand.id == effective_brand_id())
            .where(func.lower(Brand.name) == brand.strip().lower())
        )
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


__all__ = [
    "ALL_BRANDS",
    "AT_RISK_KEYS",
    "MONTH_FIELDS",
    "adoption_by_month",
    "adoption_by_month_per_brand",
    "at_risk",
    "at_risk_counts",
    "overview",
]
