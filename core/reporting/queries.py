"""Read queries: small named questions with bound parameters, answered by SQL aggregates.

A user's effective brand is the first of the user's, the domain's and the company's brand
(PRODUCT.md). The adoption queries never walk users one by one: they read the counts per
(domain, user-level brand, status) that database triggers keep (``core.reporting.running_counts``), then
resolve the effective brand on those few groups and sum again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session

from core.platform.models import AppPassword, Brand, Company, Domain, User, UserGroupCount
from core.reporting import search_index

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
    counts that the database keeps (``core.reporting.running_counts``): a few thousand rows, not a scan of
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


def brand_domain_ids(brand_id: int) -> Select:
    """The ids of the domains whose own brand, else their company's, is this one."""
    return (
        select(Domain.id)
        .join(Company, Company.id == Domain.company_id)
        .where(func.coalesce(Domain.brand_id, Company.brand_id) == brand_id)
    )


def counted_brand_id() -> ColumnElement[int]:
    """A ``user_group_counts`` group's effective brand; needs ``counted_groups``' joins."""
    return func.coalesce(func.nullif(UserGroupCount.user_brand_id, 0), Domain.brand_id, Company.brand_id)


def counted_groups(*columns: ColumnElement) -> Select:
    """``columns`` over the running counts per group (``core.reporting.running_counts``), joined to the
    group's domain and company so that ``counted_brand_id`` resolves its brand."""
    return (
        select(*columns)
        .select_from(UserGroupCount)
        .join(Domain, Domain.id == UserGroupCount.domain_id)
        .join(Company, Company.id == Domain.company_id)
    )


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


def _owner_conditions(session: Session, search: UserSearch) -> list[ColumnElement[bool]]:
    """The brand and domain filters once more, on the users table's own indexed columns.

    They select the same users as the filters on the joined brand and domain (a user's
    effective brand is its own, else its domain's, else its company's), but let the
    database start from the few domains of a brand (``ix_users_domain_status``) and the
    users that override to it (``ix_users_brand_id``) instead of from every mailbox. The
    ids are looked up first: with literal ids both planners pick those indexes.
    """
    out: list[ColumnElement[bool]] = []
    if search.domain:
        domain_id = session.scalar(select(Domain.id).where(Domain.name == search.domain.strip().lower()))
        out.append(User.domain_id == literal(domain_id or 0, literal_execute=True))
    if search.brand:
        brand_id = session.scalar(
            select(Brand.id).where(func.lower(Brand.name) == search.brand.strip().lower())
        )
        domains = session.scalars(brand_domain_ids(brand_id or 0)).all()
        in_domains = User.domain_id.in_(
            bindparam("owner_domains", list(domains), expanding=True, literal_execute=True)
        )
        overrides = User.brand_id == literal(brand_id or 0, literal_execute=True)
        out.append(or_(and_(in_domains, User.brand_id.is_(None)), overrides))
    return out


def user_search_query(search: UserSearch, *, keys_only: bool = False) -> Select:
    """The rows of a user search (no order, no limit): the users export streams this.

    ``keys_only`` selects just ``(id, email)`` and joins the domain, company and brand
    only when a filter reads them. Every user has exactly one domain, every domain one
    company and every company a brand (NOT NULL foreign keys), so those joins never drop
    a row: both forms match the same users. The keys form lets PostgreSQL rank a few
    thousand candidates without three index lookups per candidate (see search_users).
    """
    live_ap = (
        select(func.count())
        .where(AppPassword.user_id == User.id, AppPassword.revoked_at.is_(None))
        .correlate(User)
        .scalar_subquery()
    )
    needs_brand = bool(search.brand) or search.twofa in ("on", "dormant")
    if keys_only:
        stmt = select(User.id, User.email).select_from(User)
        if needs_brand or search.domain:
            stmt = stmt.join(Domain, Domain.id == User.domain_id)
        if needs_brand:
            stmt = stmt.join(Company, Company.id == Domain.company_id).join(
                Brand, Brand.id == effective_brand_id()
            )
    else:
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
    FTS5 table named explicitly (see core.reporting.search_index).
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


def _pg_candidate_page(
    session: Session, search: UserSearch, after_email: str | None, limit: int, cap: int
) -> list[int] | None:
    """PostgreSQL: the ids of the page, ranked among the trigram candidates; None when
    there are more than ``cap`` of them.

    Left to itself, the planner answers ``LIKE '%frag%' ORDER BY email LIMIT n`` by
    walking the address index and fetching every row to test it, betting that matches
    are spread evenly. They are not: a fragment of a first name ("talie", "kather")
    matches a few thousand addresses that all sort after hundreds of thousands of
    others, and the walk reads 700,000 rows (over a second) to fill a page.

    Here the candidates come from the folded trigram index (core.reporting.search_index), at most
    ``cap + 1`` of them, behind a ``LIMIT`` that keeps the planner from ordering
    them by the address index; ``strpos`` is the exact test (the same as the LIKE, and
    one no index serves, so the weaker unfolded index is left out). Only the id, the
    address and the filters' joins are read (``keys_only``). ``count(*) OVER ()`` says
    how many there were, and a top-N sort of those few thousand picks the page: one pass
    over the candidates' rows. The folded pattern is written into the statement, not
    bound: psycopg prepares a statement it has run five times, and PostgreSQL may then
    plan it once for any pattern; each fragment must be planned with its own trigrams.
    """
    frag = clean_fragment(search.text)
    pattern = f"%{_like_escape(search_index.fold(frag))}%"
    keys = user_search_query(replace(search, text=""), keys_only=True).where(
        search_index.folded(User.email).like(literal(pattern, literal_execute=True), escape="\\"),
        func.strpos(User.email, frag) > 0,
    )
    return _ranked_page(session, keys, after_email, limit, cap)


def _pg_walk_page(session: Session, search: UserSearch, after_email: str | None, limit: int) -> list[int]:
    """PostgreSQL: the ids of the page, found by walking the address index in slices.

    For a fragment with more matches than ``CANDIDATE_CAP`` (one address in two hundred
    or more): the first page usually lies in the first few thousand addresses. Each
    slice is the next ``WALK_SLICE`` addresses in order (a ``LIMIT`` the planner can only
    serve from the address index) and is read lazily, so the walk stops at the page's
    last match; the planner's own choice, on estimates that do not know how the matches
    cluster, sometimes sorted every match instead. Filters join the slice by id.

    When the first slice does not fill the page, the matches cluster further on ("lie"
    is in ten thousand first names, none near the start of the alphabet): the rest of
    the page is ranked among up to ten times ``CANDIDATE_CAP`` candidates after the
    slice, a few tens of milliseconds where walking on would take a second. Only a
    fragment both that common and that clustered walks on, in doubling slices.
    """
    pattern = f"%{_like_escape(clean_fragment(search.text))}%"
    rest = replace(search, text="")
    ids: list[int] = []
    lo = after_email
    size = search_index.WALK_SLICE
    while len(ids) < limit:
        w = select(User.id, User.email).order_by(User.email).limit(size)
        if lo:
            w = w.where(User.email > lo)
        w = w.subquery("w")
        if rest == UserSearch():
            found = select(w.c.id)
        else:
            found = (
                user_search_query(rest, keys_only=True).join(w, w.c.id == User.id).with_only_columns(w.c.id)
            )
        found = found.where(w.c.email.like(pattern, escape="\\")).order_by(w.c.email).limit(limit - len(ids))
        ids += session.scalars(found).all()
        if len(ids) >= limit:
            break
        n, lo = session.execute(select(func.count(), func.max(w.c.email))).one()
        if n < size:
            break  # the walk reached the last address
        if size == search_index.WALK_SLICE:
            more = _pg_candidate_page(session, search, lo, limit - len(ids), search_index.CANDIDATE_CAP * 10)
            if more is not None:
                return ids + more
        size *= 2
    return ids


def _owner_page(
    session: Session, search: UserSearch, after_email: str | None, limit: int
) -> list[int] | None:
    """The ids of the page among the users of the brand or domain filter, or None when
    more than ``CANDIDATE_CAP`` users match.

    A brand holds a few hundred of a million mailboxes, spread through the address order:
    walking the address index to fill a page would read most of the table. Here the
    matches are read from the brand's domains (``_owner_conditions``) behind a ``LIMIT``
    that keeps the planner off the address index, and the page is sorted among them. A
    filter with more matches than the cap has them densely enough for the walk.
    """
    keys = user_search_query(search, keys_only=True).where(*_owner_conditions(session, search))
    return _ranked_page(session, keys, after_email, limit, search_index.CANDIDATE_CAP)


def _ranked_page(
    session: Session, keys: Select, after_email: str | None, limit: int, cap: int
) -> list[int] | None:
    """The ids of the page among the ``(id, email)`` rows of ``keys``, or None when there
    are more than ``cap`` of them. The ``LIMIT`` inside keeps the planner from answering
    by the address index; ``count(*) OVER ()`` says how many there were, and a top-N sort
    of those few thousand picks the page, in one pass over them."""
    if after_email:
        keys = keys.where(User.email > after_email)
    k = keys.limit(cap + 1).subquery("k")
    page = select(k.c.id, func.count().over().label("n")).order_by(k.c.email).limit(limit)
    rows = session.execute(page).all()
    if rows and rows[0].n > cap:
        return None
    return [r.id for r in rows]


def search_users(
    session: Session, search: UserSearch, *, after_email: str | None = None, limit: int = 50
) -> list[dict]:
    """A page of users matching ``search``, ordered by address; pass the last address of a
    page as ``after_email`` for the next one (keyset pagination, no OFFSET).

    A fragment of three characters or more is first looked up in the trigram index:
    when it has at most ``CANDIDATE_CAP`` matches, those are sorted and the page taken
    from them; a commoner one walks the address index, which finds a page of dense
    matches quickly. On PostgreSQL ``_pg_candidate_page`` and ``_pg_walk_page`` find the
    page's ids and one more query reads its rows; on SQLite ``_narrow_by_ngrams`` adds
    the candidates to the query. A shorter fragment is left to the planner (it has no
    trigram, and such fragments match densely).
    """
    limit = max(1, min(int(limit), SEARCH_LIMIT_MAX))
    stmt = user_search_query(search)
    trigrams = len(clean_fragment(search.text)) >= 3
    ids = None
    if trigrams and session.get_bind().dialect.name == "postgresql":
        ids = _pg_candidate_page(session, search, after_email, limit, search_index.CANDIDATE_CAP)
    if ids is None and (search.brand or search.domain):
        ids = _owner_page(session, search, after_email, limit)
    if ids is None and trigrams and session.get_bind().dialect.name == "postgresql":
        ids = _pg_walk_page(session, search, after_email, limit)
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(User.id.in_(ids))
    else:
        stmt = _narrow_by_ngrams(session, stmt, search)
    stmt = stmt.order_by(User.email).limit(limit)
    if after_email:
        stmt = stmt.where(User.email > after_email)
    return [dict(r) for r in session.execute(stmt).mappings()]


def count_users(session: Session, search: UserSearch, *, cap: int | None = None) -> int:
    """How many users match; with ``cap``, counting stops there (a page says "10,000+")."""
    stmt = _narrow_by_ngrams(session, user_search_query(search), search).where(
        *_owner_conditions(session, search)
    )
    if cap is not None:
        stmt = stmt.limit(cap)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


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
    "brand_domain_ids",
    "count_users",
    "counted_brand_id",
    "counted_groups",
    "effective_brand_id",
    "search_users",
    "twofa_state",
    "user_search_query",
    "users_with_brand",
]
