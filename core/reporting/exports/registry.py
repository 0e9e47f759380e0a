"""The report registry: each CSV report's kind, columns and filters, and the rows of the small ones.

Reports and their columns (stable; the README copies them):

* ``users`` — the user list of any search (``core.reporting.search_query.UserSearch``), by address:
  ``USERS_COLUMNS`` = email, display_name, brand, domain, status, twofa (on / off / dormant),
  app_passwords (live ones), twofa_enrolled_at, created_at, last_login_at.
* ``adoption`` by ``brand`` — ``ADOPTION_BRAND_COLUMNS`` (= ``core.reporting.adoption.ADOPTION_FIELDS``):
  brand, users, users_2fa, pct_2fa, users_2fa_dormant, users_app_passwords,
  pct_app_passwords, app_passwords, allow_2fa, allow_user_disable_2fa, allow_app_passwords.
* ``adoption`` by ``domain`` — ``ADOPTION_DOMAIN_COLUMNS``: domain, company, brand, users,
  users_2fa, pct_2fa, users_2fa_dormant, users_app_passwords, pct_app_passwords,
  app_passwords.
* ``adoption`` by ``month`` — ``ADOPTION_MONTH_COLUMNS`` (= ``core.reporting.history.MONTH_FIELDS``):
  month, brand, enrolments, resets, self_disables, app_passwords_created,
  app_passwords_revoked, users_2fa_end, app_passwords_end. Without a brand: one row per
  (month, brand), every brand; with a brand: that brand's months.
  The rows of each are ``adoption_table``'s, for the CSV and ``python -m core report
  adoption`` alike (which shows the months of every brand combined, brand "All").
* ``audit`` — the audit log (``core.platform.audit.AuditFilter``), newest first: ``AUDIT_COLUMNS`` =
  at, actor, action, object_type, object_key, brand, user, reason, before, after
  (before/after as compact JSON text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.brands.switches import get_brand
from core.platform.audit import AuditFilter
from core.platform.db import session_scope
from core.reporting.adoption import (
    ADOPTION_DOMAIN_FIELDS,
    ADOPTION_FIELDS,
    AdoptionFilter,
    adoption_by_brand,
    adoption_by_domain,
)
from core.reporting.exports.cells import json_or_none
from core.reporting.history import (
    DEFAULT_MONTHS,
    MONTH_FIELDS,
    adoption_by_month,
    adoption_by_month_per_brand,
)
from core.reporting.search_query import UserSearch

USERS_COLUMNS = (
    "email",
    "display_name",
    "brand",
    "domain",
    "status",
    "twofa",
    "app_passwords",
    "twofa_enrolled_at",
    "created_at",
    "last_login_at",
)
ADOPTION_BRAND_COLUMNS = ADOPTION_FIELDS
ADOPTION_DOMAIN_COLUMNS = ADOPTION_DOMAIN_FIELDS
ADOPTION_MONTH_COLUMNS = MONTH_FIELDS
AUDIT_COLUMNS = (
    "at",
    "actor",
    "action",
    "object_type",
    "object_key",
    "brand",
    "user",
    "reason",
    "before",
    "after",
)
KINDS = ("users", "adoption", "audit")
ADOPTION_BY = ("brand", "domain", "month")
COLUMNS = {
    ("users", None): USERS_COLUMNS,
    ("adoption", "brand"): ADOPTION_BRAND_COLUMNS,
    ("adoption", "domain"): ADOPTION_DOMAIN_COLUMNS,
    ("adoption", "month"): ADOPTION_MONTH_COLUMNS,
    ("audit", None): AUDIT_COLUMNS,
}


def columns_for(kind: str, by: str = "brand") -> tuple[str, ...]:
    """The column list of a report."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "adoption":
        if by not in ADOPTION_BY:
            raise ValueError(f"adoption by {by!r}? choose one of {', '.join(ADOPTION_BY)}")
        return COLUMNS[("adoption", by)]
    return COLUMNS[(kind, None)]


@dataclass(frozen=True)
class Report:
    """One report and its filters: ``kind`` "users" (``search``), "adoption" (``by`` brand,
    domain or month; ``brand``, ``status`` and for months ``months`` filter it) or "audit"
    (``audit_filter``)."""

    kind: str
    search: UserSearch | None = None
    audit_filter: AuditFilter | None = None
    by: str = "brand"
    brand: str | None = None
    status: str = "active"
    months: int = DEFAULT_MONTHS

    @property
    def columns(self) -> tuple[str, ...]:
        return columns_for(self.kind, self.by)


def check_brand(session: Session, report: Report) -> None:
    """An adoption report for a brand must name one that exists (``NotFound`` otherwise);
    the command line asks before it prints or writes anything."""
    if report.kind == "adoption" and report.brand:
        get_brand(session, report.brand)


def adoption_table(session: Session, report: Report, *, months_combined: bool = False) -> list[dict]:
    """The rows of an adoption report by ``report.by``, in ``report.columns``.

    By month without a brand: one row per (month, brand), or with ``months_combined``
    one row a month for every brand together (brand "All", as the command line shows it).
    """
    status = report.status
    if report.by == "brand":
        return adoption_by_brand(session, AdoptionFilter(brand=report.brand, status=status))  # type: ignore[arg-type]
    if report.by == "domain":
        return adoption_by_domain(session, AdoptionFilter(brand=report.brand, status=status))  # type: ignore[arg-type]
    if report.brand or months_combined:
        return adoption_by_month(session, brand=report.brand, months=report.months)
    return adoption_by_month_per_brand(session, months=report.months)


def adoption_rows(report: Report, engine: Engine) -> list[dict]:
    """The rows of an (aggregate, small) adoption report as dicts, in a transaction of its own."""
    with session_scope(engine) as session:
        return adoption_table(session, report)


def audit_cells(row: Any) -> tuple:
    """An ``audit_query`` row in ``AUDIT_COLUMNS`` order, before/after as compact JSON text
    (whatever JSON value they hold, a string included)."""
    _id, at, actor, action, otype, okey, brand, user, before, after, reason = row
    return (at, actor, action, otype, okey, brand, user, reason, json_or_none(before), json_or_none(after))
