"""Read queries: small named questions with bound parameters, answered by SQL aggregates.

A user's effective brand is the first of the user's, the domain's and the company's brand
(PRODUCT.md). The adoption queries never walk users one by one: they read the counts per
(domain, user-level brand, status) that database triggers keep (``core.summary``), then
resolve the effective brand on those few groups and sum again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, column, func, literal, select, table, text
from sqlalchemy.orm import aliased
from sqlmodel import Session

from core import search_index
from core.models import AppPassword, Brand, Company, Domain, User, UserGroupCount

TwofaState = Literal["on", "off", "dormant"]

ADOPTION_FIELDS = (
    "brand",
    "users",
    "users_2fa",
    "pct_2fa",
    "users_2fa_dormant",
    "users_app_passwords",
    "pct_app_passwords",
    "app_passwords",
    "allow_2fa",
    "allow_user_disable_2fa",
    "allow_app_passwords",
)


def effective_brand_id() -> ColumnElement[int]:
    """SQL for a user's effective brand; needs users, domains and companies joined."""
    return func.coalesce(User.brand_id, Domain.brand_id, Company.brand_id)


def users_with_brand() -> Select:
    """users joined to their domain, company and effective brand."""
    return (
        select(User, Domain, Brand)
        .join(Domain, Domain.id == User.domain_id)
        .join(Company, Company.id == Domain.company_id)
        .join(Brand, Brand.id == effective_brand_id())
    )


def twofa_state_sql() -> ColumnElement[str]:
    # needs Brand joined as the effective brand
    return case(
        (User.totp_enrolled_at.is_(None), literal("off")),
        (Brand.allow_2fa.is_(True), literal("on")),
        else_=literal("dormant"),
    )


def twofa_state(enrolled: bool, allow_2fa: bool) -> TwofaState:
    """on: enrolled and asked for a code; dormant: enrolled, brand disallows; off: not enrolled."""
    if not enrolled:
        return "off"
    return "on" if allow_2fa else "dormant"


def app_password_state(revoked: bool, allow_app_passwords: bool) -> str:
    if revoked:
        return "revoked"
    return "active" if allow_app_passwords else "suspended"


@dataclass(frozen=True)
class AdoptionFilter:
    brand: str | None = None
    # "active" counts active mailboxes (the default, as PRODUCT.md's figures do);
    # "suspended" or "all" for the Overview's status filter.
    status: Literal["active", "suspended", "all"] = "active"


def _group_counts(status: str) -> Subquery:
    """Users and app passwords per (domain, user-level brand override), from the running
    counts that the database keeps (``core.summary``): a few thousand rows, not a scan of
    every mailbox. Groups left empty are dropped."""
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
    eff = func.coalesce(g.c.user_brand_id, Domain.brand_id, Company.brand_id)
    per_brand = (
        select(
            eff, func.sum(g.c.users), func.sum(g.c.enrolled), func.sum(g.c.ap_users), func.sum(g.c.ap_count)
        )
        .select_from(g)
        .join(Domain, Domain.id == g.c.domain_id)
        .join(Company, Company.id == Domain.company_id)
        .group_by(eff)
    )
    # Two small results joined here: SQLite would rescan the per-brand sums once a brand.
    sums = {bid: counts for bid, *counts in session.execute(per_brand)}
    return [
        _adoption_row({"brand": name}, a2, aud, aap, *sums.get(bid, (0, 0, 0, 0)))
        for bid, name, a2, aud, aap in session.execute(brands)
    ]


def _adoption_row(
    key: dict, a2: bool, aud: bool, aap: bool, users: int, enrolled: int, ap_users: int, ap_count: int
) -> dict:
    users, enrolled, ap_users, ap_count = int(users), int(enrolled), int(ap_users), int(ap_count)
    users_2fa = enrolled if a2 else 0
    users_ap = ap_users if aap else 0
    return {
        **key,
        "users": users,
        "users_2fa": users_2fa,
        "pct_2fa": _pct(users_2fa, users),
        "users_2fa_dormant": 0 if a2 else enrolled,
        "users_app_passwords": users_ap,
        "pct_app_passwords": _pct(users_ap, users),
        "app_passwords": ap_count if aap else 0,
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
    eff = func.coalesce(g.c.user_brand_id, Domain.brand_id, Company.brand_id)
    on_2fa = case((eff_brand.allow_2fa.is_(True), g.c.enrolled), else_=0)
    dormant = case((eff_brand.allow_2fa.is_(True), 0), else_=g.c.enrolled)
    ap_users = case((eff_brand.allow_app_passwords.is_(True), g.c.ap_users), else_=0)
    ap_count = case((eff_brand.allow_app_passwords.is_(True), g.c.ap_count), else_=0)
    stmt = (
        select(
            Domain.name,
            Company.name,
            dom_brand.name,
            func.sum(g.c.users),
            func.sum(on_2fa),
            func.sum(dormant),
            func.sum(ap_users),
            func.sum(ap_count),
        )
        .select_from(g)
        .join(Domain, Domain.id == g.c.domain_id)
        .join(Company, Company.id == Domain.company_id)
        .join(eff_brand, eff_brand.id == eff)
        .join(dom_brand, dom_brand.id == func.coalesce(Domain.brand_id, Company.brand_id))
        .group_by(Domain.name, Company.name, dom_brand.name)
        .order_by(Domain.name)
    )
    if f.brand:
        stmt = stmt.where(func.lower(eff_brand.name) == f.brand.strip().lower())
    out = []
    for domain, company, brand, users, on, dorm, apu, apc in session.execute(stmt):
        users, on, dorm, apu, apc = int(users), int(on), int(dorm), int(apu), int(apc)
        out.append(
            {
                "domain": domain,
                "company": company,
                "brand": brand,
                "users": users,
                "users_2fa": on,
                "pct_2fa": _pct(on, users),
                "users_2fa_dormant": dorm,
                "users_app_passwords": apu,
                "pct_app_passwords": _pct(apu, users),
                "app_passwords": apc,
            }
        )
    return out


def brand_counts(session: Session, brand_id: int) -> tuple[int, int, int, int]:
    """(active users, enrolled active users, live app passwords, users with one) of a brand,
    whatever its switches say (the impact preview needs the counts behind them)."""
    g = UserGroupCount
    eff = func.coalesce(func.nullif(g.user_brand_id, 0), Domain.brand_id, Company.brand_id)
    row = session.execute(
        select(
            func.coalesce(func.sum(g.users), 0),
            func.coalesce(func.sum(g.enrolled), 0),
            func.coalesce(func.sum(g.ap_count), 0),
            func.coalesce(func.sum(g.ap_users), 0),
        )
        .select_from(g)
        .join(Domain, Domain.id == g.domain_id)
        .join(Company, Company.id == Domain.company_id)
        .where(eff == brand_id, g.status == "active")
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def adoption_totals(rows: list[dict]) -> dict:
    """The overall figures from per-brand rows (every user has exactly one brand)."""
    users = sum(r["users"] for r in rows)
    on = sum(r["users_2fa"] for r in rows)
    apu = sum(r["users_app_passwords"] for r in rows)
    return {
        "brands": len(rows),
        "users": users,
        "users_2fa": on,
        "pct_2fa": _pct(on, users),
        "users_2fa_dormant": sum(r["users_2fa_dormant"] for r in rows),
        "users_app_passwords": apu,
        "pct_app_passwords": _pct(apu, users),
        "app_passwords": sum(r["app_passwords"] for r in rows),
        "brands_allow_2fa": sum(1 for r in rows if r["allow_2fa"]),
        "brands_allow_user_disable_2fa": sum(1 for r in rows if r["allow_user_disable_2fa"]),
        "brands_allow_app_passwords": sum(1 for r in rows if r["allow_app_passwords"]),
    }


# --- user search -------------------------------------------------------------------------

SEARCH_LIMIT_MAX = 500


@dataclass(frozen=True)
class UserSearch:
    text: str = ""
    brand: str | None = None
    domain: str | None = None
    twofa: TwofaState | None = None
    # app-password filter: None (any), "none", "some" (at least one live), "max" (all four used)
    app_passwords: Literal["none", "some", "max"] | None = None
    status: Literal["active", "suspended"] | None = None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def clean_fragment(text: str) -> str:
    """Search text as typed, trimmed and lowercased; NUL and other controls removed."""
    return "".join(ch for ch in (text or "") if ch.isprintable()).strip().lower()[:320]


def user_search_query(search: UserSearch) -> Select:
    """The rows of a user search (no order, no limit): the users export streams this."""
    live_ap = (
        select(func.count())
        .where(AppPassword.user_id == User.id, AppPassword.revoked_at.is_(None))
        .correlate(User)
        .scalar_subquery()
    )
    stmt = (
        select(
            User.id,
            User.email,
            User.display_name,
            Brand.name.label("brand"),
            Domain.name.label("domain"),
            User.status,
            twofa_state_sql().label("twofa"),
            live_ap.label("app_passwords"),
            User.totp_enrolled_at,
            User.created_at,
            User.last_login_at,
        )
        .select_from(User)
        .join(Domain, Domain.id == User.domain_id)
        .join(Company, Company.id == Domain.company_id)
        .join(Brand, Brand.id == effective_brand_id())
    )
    frag = clean_fragment(search.text)
    if frag:
        stmt = stmt.where(User.email.like(f"%{_like_escape(frag)}%", escape="\\"))
    if search.brand:
        stmt = stmt.where(func.lower(Brand.name) == search.brand.strip().lower())
    if search.domain:
        stmt = stmt.where(Domain.name == search.domain.strip().lower())
    if search.status:
        stmt = stmt.where(User.status == search.status)
    if search.twofa == "off":
        stmt = stmt.where(User.totp_enrolled_at.is_(None))
    elif search.twofa == "on":
        stmt = stmt.where(and_(User.totp_enrolled_at.is_not(None), Brand.allow_2fa.is_(True)))
    elif search.twofa == "dormant":
        stmt = stmt.where(and_(User.totp_enrolled_at.is_not(None), Brand.allow_2fa.is_(False)))
    if search.app_passwords == "none":
        stmt = stmt.where(live_ap == 0)
    elif search.app_passwords == "some":
        stmt = stmt.where(live_ap > 0)
    elif search.app_passwords == "max":
        stmt = stmt.where(live_ap >= 4)
    return stmt


def _narrow_by_ngrams(session: Session, stmt: Select, search: UserSearch) -> Select:
    """Add the trigram index's candidates to ``stmt`` where that is the quicker plan.

    PostgreSQL's planner uses the pg_trgm index for the LIKE by itself; SQLite needs the
    FTS5 table named explicitly (see core.search_index).
    """
    frag = clean_fragment(search.text)
    if len(frag) < 3 or session.get_bind().dialect.name != "sqlite":
        return stmt
    fts = table(search_index.FTS_TABLE, column("rowid"))
    match = text(f"{search_index.FTS_TABLE} MATCH :q").bindparams(q=search_index.fts_phrase(frag))
    capped = select(fts.c.rowid).where(match).limit(search_index.CANDIDATE_CAP + 1).subquery()
    if (session.scalar(select(func.count()).select_from(capped)) or 0) > search_index.CANDIDATE_CAP:
        return stmt  # a common fragment: walking the address index finds a page sooner
    return stmt.where(User.id.in_(select(fts.c.rowid).where(match)))


def search_users(
    session: Session, search: UserSearch, *, after_email: str | None = None, limit: int = 50
) -> list[dict]:
    """A page of users matching ``search``, ordered by address; pass the last address of a
    page as ``after_email`` for the next one (keyset pagination, no OFFSET)."""
    limit = max(1, min(int(limit), SEARCH_LIMIT_MAX))
    stmt = _narrow_by_ngrams(session, user_search_query(search), search).order_by(User.email).limit(limit)
    if after_email:
        stmt = stmt.where(User.email > after_email)
    return [dict(r) for r in session.execute(stmt).mappings()]


def count_users(session: Session, search: UserSearch, *, cap: int | None = None) -> int:
    """How many users match; with ``cap``, counting stops there (a page says "10,000+")."""
    stmt = _narrow_by_ngrams(session, user_search_query(search), search)
    if cap is not None:
        stmt = stmt.limit(cap)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def enrolled_user_of_brand(session: Session, brand_id: int) -> str | None:
    """The address of one active mailbox enrolled in 2FA whose effective brand is this one
    (the lowest id), or None. Looks in the brand's own domains (``ix_users_domain_status``)
    and among the users who override to it, not along the address index."""
    domains = (
        select(Domain.id)
        .join(Company, Company.id == Domain.company_id)
        .where(func.coalesce(Domain.brand_id, Company.brand_id) == brand_id)
    )
    enrolled_active = and_(User.status == "active", User.totp_enrolled_at.is_not(None))
    by_domain = (
        select(User.id, User.email)
        .where(User.domain_id.in_(domains), User.brand_id.is_(None), enrolled_active)
        .order_by(User.id)
        .limit(1)
    )
    by_override = (
        select(User.id, User.email)
        .where(User.brand_id == brand_id, enrolled_active)
        .order_by(User.id)
        .limit(1)
    )
    found = [row for stmt in (by_domain, by_override) for row in session.execute(stmt)]
    return min(found)[1] if found else None


def brand_names(session: Session) -> list[str]:
    return list(session.scalars(select(Brand.name).order_by(Brand.name)))


def domain_names(session: Session, prefix: str = "", limit: int = 200) -> list[str]:
    stmt = select(Domain.name).order_by(Domain.name).limit(limit)
    if prefix:
        stmt = stmt.where(Domain.name.like(f"{_like_escape(prefix.lower())}%", escape="\\"))
    return list(session.scalars(stmt))


__all__ = [
    "ADOPTION_FIELDS",
    "AdoptionFilter",
    "UserSearch",
    "adoption_by_brand",
    "adoption_by_domain",
    "adoption_totals",
    "app_password_state",
    "brand_counts",
    "count_users",
    "effective_brand_id",
    "enrolled_user_of_brand",
    "search_users",
    "twofa_state",
    "user_search_query",
    "users_with_brand",
]
