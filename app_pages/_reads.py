"""Every read the pages make, in one place: each one call into core, in a short session.

The cached ones are ``st.cache_data`` functions of plain hashable values (the database URL
first, so a test that points ``DATABASE_URL`` elsewhere gets its own), stale for at most
``TTL`` seconds and cleared by every write that succeeds (``_ui.write``). A page calls them
through ``_ui.load``, which answers a database that cannot be reached. No widget is read in
here (Streamlit's caching rule: a cached function's result depends on its arguments only).

Not cached, read fresh on every run: a customer notice (its state changes in the sender's
thread, which clears no page cache: ``notices_for``, ``notice``), and a brand loaded to be
edited (the version a save names must be the stored one: ``brand_to_edit``,
``brand_css_to_edit``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import core.reporting.adoption
import core.reporting.at_risk
import core.reporting.history
import core.reporting.overview
from app_pages._ui import engine, reading
from core.access import mail_auth_tokens
from core.access import operators as operator_service
from core.access.permissions import Actor
from core.brands import preview_mailbox, switches
from core.brands.css.check import check_css
from core.brands.css.report import CssReport
from core.brands.login_page import preview_data_url, render_login_page
from core.brands.switches import SwitchChange
from core.mailboxes import mail_auth, users
from core.mailboxes.mail_auth import FailedSignIns
from core.notices import listing
from core.platform import audit
from core.platform.audit import AuditFilter
from core.platform.errors import NotFound
from core.reporting.exports.files import iter_csv
from core.reporting.exports.frames import dataframe
from core.reporting.search import count_users, search_users
from core.reporting.search_query import UserSearch

TTL = 30  # seconds a cached read may be stale; every write clears the caches at once


# --- brands ----------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def brand_names(url: str) -> list[str]:
    """Every brand's name, sorted (the brand pickers of several pages)."""
    with reading(url) as s:
        return core.reporting.adoption.brand_names(s)


@st.cache_data(ttl=TTL, show_spinner=False)
def brands(url: str) -> list[dict]:
    """Every brand with its switches, version and adoption figures."""
    with reading(url) as s:
        return switches.list_brands(s)


@st.cache_data(ttl=TTL, show_spinner=False)
def brand(url: str, name: str) -> dict:
    with reading(url) as s:
        return switches.brand_detail(s, name)


def brand_to_edit(url: str, name: str) -> dict:
    """The brand's switches and version as stored now, for the Brands page's toggles."""
    with reading(url) as s:
        return switches.brand_detail(s, name)


def brand_css_to_edit(url: str, name: str) -> dict:
    """The brand's name, version and login CSS as stored now, for the Branding editor."""
    with reading(url) as s:
        brand = switches.get_brand(s, name)
        return {"name": brand.name, "version": brand.version, "css": brand.custom_login_css or ""}


@st.cache_data(ttl=TTL, show_spinner=False)
def impact(url: str, name: str, change: SwitchChange) -> list[str]:
    """What ``change`` would do to the brand, in words (changes nothing)."""
    with reading(url) as s:
        return switches.preview_impact(s, name, change).sentences


@st.cache_data(ttl=TTL, show_spinner=False)
def demo_mailbox(url: str, name: str) -> preview_mailbox.PreviewMailbox:
    """The brand's demo mailbox, the one the Branding preview is driven with (never a customer's)."""
    with reading(url) as s:
        return preview_mailbox.preview_mailbox(s, brand=name)


@st.cache_data(max_entries=64, show_spinner=False)
def css_report(css: str) -> CssReport:
    # Pure and up to ~0.5 s for 64 KiB: cached by text, so a rerun does not check twice.
    return check_css(css)


@st.cache_data(max_entries=64, show_spinner=False)
def preview_url(brand_name: str, css: str, state: str, dark: bool, message: str | None) -> str:
    """The sandboxed login page with the 2FA pop-up, as a data: URL."""
    page = render_login_page(brand_name=brand_name, css=css, state=state, dark=dark, message=message)
    return preview_data_url(page)


# --- mailboxes -------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def user_search(url: str, search: UserSearch, after: str | None, limit: int) -> list[dict]:
    with reading(url) as s:
        return search_users(s, search, after_email=after, limit=limit)


@st.cache_data(ttl=TTL, show_spinner=False)
def user_count(url: str, search: UserSearch) -> int:
    with reading(url) as s:
        return count_users(s, search)


@st.cache_data(ttl=TTL, show_spinner=False)
def user(url: str, email: str) -> dict | None:
    """One mailbox's whole picture, or None when there is no such mailbox."""
    with reading(url) as s:
        try:
            return users.user_detail(s, email)
        except NotFound:
            return None


def notices_for(url: str, email: str) -> list[dict]:
    with reading(url) as s:
        return listing.notices_for(s, email)


def notice(url: str, notification_id: int) -> dict | None:
    with reading(url) as s:
        return listing.notice(s, notification_id)


# --- reporting -------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def overview(url: str, brand: str | None, status: str) -> dict:
    with reading(url) as s:
        return core.reporting.overview.overview(s, brand=brand, status=status)


@st.cache_data(ttl=TTL, show_spinner=False)
def months(url: str, brand: str | None, per_brand: bool) -> list[dict]:
    """Adoption per UTC month over the month report's window, overall or one line a brand."""
    with reading(url) as s:
        if per_brand:
            return core.reporting.history.adoption_by_month_per_brand(s)
        return core.reporting.history.adoption_by_month(s, brand=brand)


@st.cache_data(ttl=TTL, show_spinner=False)
def at_risk(url: str, brand: str | None, limit: int) -> tuple[dict, dict]:
    """The users at risk (the first ``limit`` of each list) and how many each list holds."""
    with reading(url) as s:
        return core.reporting.at_risk.at_risk(
            s, brand=brand, limit=limit
        ), core.reporting.at_risk.at_risk_counts(s, brand=brand)


@st.cache_data(ttl=TTL, show_spinner=False)
def adoption(url: str, by: str, brand: str | None, status: str) -> tuple[pd.DataFrame, str]:
    """A whole (small) adoption report as a DataFrame and as CSV text."""
    options = {"by": by, "brand": brand, "status": status}
    df = dataframe("adoption", engine=engine(url), **options)
    return df, "".join(iter_csv("adoption", engine=engine(url), **options))


@st.cache_data(ttl=TTL, show_spinner=False)
def months_overall(url: str) -> pd.DataFrame:
    """Every brand together, month by month, over the month report's window."""
    with reading(url) as s:
        return pd.DataFrame(
            core.reporting.history.adoption_by_month(s), columns=list(core.reporting.history.MONTH_FIELDS)
        )


@st.cache_data(ttl=TTL, show_spinner=False)
def users_preview(url: str, search: UserSearch, limit: int) -> tuple[pd.DataFrame, int]:
    """The first ``limit`` rows of the users export of ``search``, and how many it holds."""
    df = dataframe("users", engine=engine(url), search=search, limit=limit)
    with reading(url) as s:
        return df, count_users(s, search)


@st.cache_data(ttl=TTL, show_spinner=False)
def audit_preview(url: str, audit_filter: AuditFilter, limit: int) -> pd.DataFrame:
    return dataframe("audit", engine=engine(url), audit_filter=audit_filter, limit=limit)


# --- audit log and operators -----------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def audit_events(url: str, audit_filter: AuditFilter, limit: int) -> list[dict]:
    """The newest ``limit`` audit events of the filter."""
    with reading(url) as s:
        return audit.list_events(s, audit_filter, limit=limit)


@st.cache_data(ttl=TTL, show_spinner=False)
def operators(url: str) -> list[dict]:
    with reading(url) as s:
        return operator_service.list_operators(s)


@st.cache_data(ttl=TTL, show_spinner=False)
def mail_tokens(url: str, actor: Actor) -> list[dict]:
    """The mail servers' tokens (administrators only: core checks the actor)."""
    with reading(url) as s:
        return mail_auth_tokens.list_tokens(s, actor=actor)


@st.cache_data(ttl=TTL, show_spinner=False)
def failed_mail_sign_ins(url: str, email: str) -> FailedSignIns:
    """The mailbox's mail-client sign-ins that matched no password in the last 24 hours."""
    with reading(url) as s:
        return mail_auth.failed_sign_ins(s, user_id=users.get_user(s, email).id)
