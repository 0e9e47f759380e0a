"""A mailbox's effective brand: the first of its own, its domain's and its company's brand.

PRODUCT.md's rule, in one place. The brand is never stored per user: SQL resolves it with
``effective_brand_id`` over users joined to their domain and company (``join_owners``), the
running counts resolve it per group with the group's own override in place of the user's,
``join_effective_brand`` joins it as ``Brand`` for the rules that read its switches, and ``effective_brand`` answers it for one mailbox. A domain's own brand (the domain's, else
the company's) is the same rule without a user override: ``domain_brand_id``.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import Session

from core.platform.models import Brand, Company, Domain, User

BrandSource = Literal["user", "domain", "company"]


def effective_brand_id(user_brand_id: ColumnElement[int | None] | None = None) -> ColumnElement[int]:
    """SQL for the effective brand's id; needs domains and companies joined (``join_owners``).

    ``user_brand_id`` stands for the user's own brand (default ``users.brand_id``), for rows
    that carry the override elsewhere, such as the running counts per group."""
    own = User.brand_id if user_brand_id is None else user_brand_id
    return func.coalesce(own, Domain.brand_id, Company.brand_id)


def domain_brand_id() -> ColumnElement[int]:
    """SQL for a domain's own brand: the domain's, else its company's; needs both joined."""
    return func.coalesce(Domain.brand_id, Company.brand_id)


def join_owners(stmt: Select, domain_id: ColumnElement[int] | None = None) -> Select:
    """``stmt`` joined to the domain of ``domain_id`` (default ``users.domain_id``) and that
    domain's company: the joins ``effective_brand_id`` reads."""
    on = User.domain_id if domain_id is None else domain_id
    return stmt.join(Domain, Domain.id == on).join(Company, Company.id == Domain.company_id)


def join_effective_brand(stmt: Select) -> Select:
    """``stmt`` over users joined to their domain, company and effective brand (``Brand``)."""
    return join_owners(stmt).join(Brand, Brand.id == effective_brand_id())


def effective_brand_id_of(session: Session, user_id: int) -> int | None:
    """The effective brand's id of the mailbox ``user_id``; None when there is no such mailbox."""
    stmt = join_owners(select(effective_brand_id()).select_from(User)).where(User.id == user_id)
    return session.execute(stmt).scalar_one_or_none()


def effective_brand(session: Session, user: User) -> Brand:
    """The mailbox's effective brand."""
    return session.get(Brand, effective_brand_id_of(session, user.id))


def brand_source(user_brand_id: int | None, domain_brand_id: int | None) -> BrandSource:
    """Whose brand a mailbox takes: its own, else its domain's, else its company's."""
    if user_brand_id is not None:
        return "user"
    return "domain" if domain_brand_id is not None else "company"
