"""What a user search matches: its filters and the rows it reads, with no plan chosen yet.

The brand and the 2FA filters read the effective brand (``core.mailboxes.effective_brand``)
and the 2FA state (``core.mailboxes.state``); "max" app passwords means the cap
(``core.mailboxes.app_passwords.MAX_PER_USER``) is used up. ``core.reporting.search``
picks the quickest way to a page of these rows; the users export streams them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, literal, or_, select
from sqlmodel import Session

from core.mailboxes.app_passwords import MAX_PER_USER
from core.mailboxes.effective_brand import domain_brand_id, join_effective_brand
from core.mailboxes.state import TWOFA_STATES, TwofaState, twofa_state_is, twofa_state_sql
from core.platform.models import AppPassword, Brand, Company, Domain, User


@dataclass(frozen=True)
class UserSearch:
    text: str = ""
    brand: str | None = None
    domain: str | None = None
    twofa: TwofaState | None = None
    # app-password filter: None (any), "none", "some" (at least one live), "max" (the cap used up)
    app_passwords: Literal["none", "some", "max"] | None = None
    status: Literal["active", "suspended"] | None = None


def like_escape(text: str) -> str:
    """``text`` for a LIKE pattern with ``\\`` as the escape: its ``%`` and ``_`` literal."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def clean_fragment(text: str) -> str:
    """Search text as typed, trimmed and lowercased; NUL and other controls removed."""
    return "".join(ch for ch in (text or "") if ch.isprintable()).strip().lower()[:320]


def brand_domain_ids(brand_id: int) -> Select:
    """The ids of the domains whose own brand, else their company's, is this one."""
    return (
        select(Domain.id).join(Company, Company.id == Domain.company_id).where(domain_brand_id() == brand_id)
    )


def owner_conditions(session: Session, search: UserSearch) -> list[ColumnElement[bool]]:
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
    thousand candidates without three index lookups per candidate (see ``core.reporting.search``).
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
        if needs_brand:
            stmt = join_effective_brand(stmt)
        elif search.domain:
            stmt = stmt.join(Domain, Domain.id == User.domain_id)
    else:
        stmt = join_effective_brand(
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
            ).select_from(User)
        )
    frag = clean_fragment(search.text)
    if frag:
        stmt = stmt.where(User.email.like(f"%{like_escape(frag)}%", escape="\\"))
    if search.brand:
        stmt = stmt.where(func.lower(Brand.name) == search.brand.strip().lower())
    if search.domain:
        stmt = stmt.where(Domain.name == search.domain.strip().lower())
    if search.status:
        stmt = stmt.where(User.status == search.status)
    if search.twofa in TWOFA_STATES:
        stmt = stmt.where(twofa_state_is(search.twofa))
    if search.app_passwords == "none":
        stmt = stmt.where(live_ap == 0)
    elif search.app_passwords == "some":
        stmt = stmt.where(live_ap > 0)
    elif search.app_passwords == "max":
        stmt = stmt.where(live_ap >= MAX_PER_USER)
    return stmt
