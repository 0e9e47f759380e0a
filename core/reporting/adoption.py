"""Adoption per brand and per domain, the overall figures, and a brand's counts.

The adoption queries never walk users one by one: they read the counts per (domain,
user-level brand, status) that database triggers keep (``core.reporting.running_counts``),
resolve the effective brand (``core.mailboxes.effective_brand``) on those few groups and
sum again. Each group is judged by its own effective brand's switches
(``core.mailboxes.state``): enrolled users are on or dormant, live app passwords count only
where the brand allows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Select, Subquery, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from core.mailboxes.effective_brand import domain_brand_id, effective_brand_id, join_owners
from core.mailboxes.state import (
    active_count,
    active_count_sql,
    enrolled_dormant_sql,
    enrolled_on_sql,
    enrolled_split,
)
from core.platform.models import Brand, Company, Domain, UserGroupCount

# The figures of one row, per brand and per domain alike.
FIGURES = (
    "users",
    "users_2fa",
    "pct_2fa",
    "users_2fa_dormant",
    "users_app_passwords",
    "pct_app_passwords",
    "app_passwords",
)
ADOPTION_FIELDS = ("brand", *FIGURES, "allow_2fa", "allow_user_disable_2fa", "allow_app_passwords")
ADOPTION_DOMAIN_FIELDS = ("domain", "company", "brand", *FIGURES)
# The figures that add up over rows (the percentages are made again from them).
_COUNTED = ("users", "users_2fa", "users_2fa_dormant", "users_app_passwords", "app_passwords")


@dataclass(frozen=True)
class AdoptionFilter:
    brand: str | None = None
    # "active" counts active mailboxes (the default, as PRODUCT.md's figures do);
    # "suspended" or "all" for the Overview's status filter.
    status: Literal["active", "suspended", "all"] = "active"


def _group_counts(status: str) -> Subquery:
    """Users and app passwords per (domain, user-level brand override), from the running
    counts that the database keeps (``core.reporting.running_counts``): a few thousand rows,
    not a scan of every mailbox. Groups left empty are dropped."""
    g = UserGroupCount
    stmt = (
        select(
            g.domain_id.label("domain_id"),
            func.nullif(g.user_brand_id, 0).label("user_brand_id"),
            func.sum(g.users).label("users"),
            func.sum(g.enrolled).label("enrolled"),
            func.sum(g.ap_users).label("ap_users"),
            func.sum(g.ap_count).label("ap_count"),
        )
        .group_by(g.domain_id, g.user_brand_id)
        .having(func.sum(g.users) > 0)
    )
    if status != "all":
        stmt = stmt.where(g.status == status)
    return stmt.subquery("g")


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _figures(users: int, on: int, dormant: int, ap_users: int, ap_count: int) -> dict:
    """The ``FIGURES`` of one row from its counts (app passwords already those allowed)."""
    users, on, ap_users = int(users), int(on), int(ap_users)
    return {
        "users": users,
        "users_2fa": on,
        "pct_2fa": _pct(on, users),
        "users_2fa_dormant": int(dormant),
        "users_app_passwords": ap_users,
        "pct_app_passwords": _pct(ap_users, users),
        "app_passwords": int(ap_count),
    }


def adoption_by_brand(session: Session, filters: AdoptionFilter | None = None) -> list[dict]:
    """One row per brand (brands without users too), sorted by brand name.

    users = mailboxes of the status filter (active by default); users_2fa = of those,
    enrolled in a brand that allows 2FA; users_2fa_dormant = enrolled in a brand that
    does not; users_app_passwords / app_passwords = users with, and the number of,
    live app passwords in a brand that allows them (suspended ones are not counted).
    """
    f = filters or AdoptionFilter()
    brands = select(
        Brand.id, Brand.name, Brand.allow_2fa, Brand.allow_user_disable_2fa, Brand.allow_app_passwords
    ).order_by(Brand.name)
    if f.brand:
        brands = brands.where(func.lower(Brand.name) == f.brand.strip().lower())
    g = _group_counts(f.status)
    eff = effective_brand_id(g.c.user_brand_id)
    per_brand = join_owners(
        select(
            eff, func.sum(g.c.users), func.sum(g.c.enrolled), func.sum(g.c.ap_users), func.sum(g.c.ap_count)
        ).select_from(g),
        g.c.domain_id,
    ).group_by(eff)
    # Two small results joined here: SQLite would rescan the per-brand sums once a brand.
    sums = {bid: counts for bid, *counts in session.execute(per_brand)}
    return [
        _adoption_row(name, a2, aud, aap, *sums.get(bid, (0, 0, 0, 0)))
        for bid, name, a2, aud, aap in session.execute(brands)
    ]


def _adoption_row(
    brand: str, a2: bool, aud: bool, aap: bool, users: int, enrolled: int, ap_users: int, ap_count: int
) -> dict:
    on, dormant = enrolled_split(int(enrolled), a2)
    return {
        "brand": brand,
        **_figures(users, on, dormant, active_count(int(ap_users), aap), active_count(int(ap_count), aap)),
        "allow_2fa": bool(a2),
        "allow_user_disable_2fa": bool(aud),
        "allow_app_passwords": bool(aap),
    }


def adoption_by_domain(session: Session, filters: AdoptionFilter | None = None) -> list[dict]:
    """One row per domain with users, with the same figures as ``adoption_by_brand``.

    Each group of users is judged by its own effective brand's switches, so a domain
    whose users override the brand is counted right. ``brand`` is the domain's own
    effective brand (domain, else company).
    """
    f = filters or AdoptionFilter()
    g = _group_counts(f.status)
    eff_brand = aliased(Brand)
    dom_brand = aliased(Brand)
    stmt = (
        join_owners(
            select(
                Domain.name,
                Company.name,
                dom_brand.name,
                func.sum(g.c.users),
                func.sum(enrolled_on_sql(g.c.enrolled, eff_brand.allow_2fa)),
                func.sum(enrolled_dormant_sql(g.c.enrolled, eff_brand.allow_2fa)),
                func.sum(active_count_sql(g.c.ap_users, eff_brand.allow_app_passwords)),
                func.sum(active_count_sql(g.c.ap_count, eff_brand.allow_app_passwords)),
            ).select_from(g),
            g.c.domain_id,
        )
        .join(eff_brand, eff_brand.id == effective_brand_id(g.c.user_brand_id))
        .join(dom_brand, dom_brand.id == domain_brand_id())
        .group_by(Domain.name, Company.name, dom_brand.name)
        .order_by(Domain.name)
    )
    if f.brand:
        stmt = stmt.where(func.lower(eff_brand.name) == f.brand.strip().lower())
    return [
        {"domain": domain, "company": company, "brand": brand, **_figures(*counts)}
        for domain, company, brand, *counts in session.execute(stmt)
    ]


def counted_brand_id() -> ColumnElement[int]:
    """A ``user_group_counts`` group's effective brand; needs ``counted_groups``' joins."""
    return effective_brand_id(func.nullif(UserGroupCount.user_brand_id, 0))


def counted_groups(*columns: ColumnElement) -> Select:
    """``columns`` over the running counts per group (``core.reporting.running_counts``),
    joined to the group's domain and company so that ``counted_brand_id`` resolves its brand."""
    return join_owners(select(*columns).select_from(UserGroupCount), UserGroupCount.domain_id)


def brand_counts(session: Session, brand_id: int) -> tuple[int, int, int, int]:
    """(active users, enrolled active users, live app passwords, users with one) of a brand,
    whatever its switches say (the impact preview needs the counts behind them)."""
    g = UserGroupCount
    row = session.execute(
        counted_groups(
            func.coalesce(func.sum(g.users), 0),
            func.coalesce(func.sum(g.enrolled), 0),
            func.coalesce(func.sum(g.ap_count), 0),
            func.coalesce(func.sum(g.ap_users), 0),
        ).where(counted_brand_id() == brand_id, g.status == "active")
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def adoption_totals(rows: list[dict]) -> dict:
    """The overall figures from per-brand rows (every user has exactly one brand)."""
    return {
        "brands": len(rows),
        **_figures(*(sum(r[k] for r in rows) for k in _COUNTED)),
        "brands_allow_2fa": sum(1 for r in rows if r["allow_2fa"]),
        "brands_allow_user_disable_2fa": sum(1 for r in rows if r["allow_user_disable_2fa"]),
        "brands_allow_app_passwords": sum(1 for r in rows if r["allow_app_passwords"]),
    }


def brand_names(session: Session) -> list[str]:
    """Every brand's name, sorted (the reports' brand filter)."""
    return list(session.scalars(select(Brand.name).order_by(Brand.name)))
