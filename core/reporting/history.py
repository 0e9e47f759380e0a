"""Adoption over time: per UTC month, per brand or all brands combined.

Rebuilt from ``security_events`` only (through their counts per month, brand and kind,
which the database keeps: ``core.reporting.running_counts``). Each event carries the
user's effective brand *when it happened*, so a reset today or a later brand switch never
rewrites a past month. Months are UTC calendar months ("YYYY-MM") and every month row is a
whole month: the window is the last ``months`` months up to and including the month of
``until`` (default now), and the events of that whole month are counted.
``users_2fa_end`` = enrolments - resets - self-disables from the beginning of history to
the end of the month; ``app_passwords_end`` = created - revoked likewise. They are
*enrolled* users and *live* app passwords: whether a brand's switch is on at the time
(dormant / suspended) is not an event and is not reflected.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, literal, select
from sqlmodel import Session

from core.platform.models import Brand, EventMonthCount, utcnow

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
