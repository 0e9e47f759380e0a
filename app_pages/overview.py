"""Overview: headline figures with their 30-day change, adoption per brand and over time, users at risk.

The charts are ``_adoption_charts``', the at-risk lists ``_at_risk``'s; every figure is core's
(``core.reporting.overview.overview``).
"""

from __future__ import annotations

import streamlit as st

from app_pages import _adoption_charts, _at_risk, _pickers, _reads, _ui

actor = _ui.require()
url = _ui.db_url()

_ui.header("Overview", "2FA and app-password adoption across the brands you host, and the users at risk.")
names = _pickers.brands_or_stop(url)

left, right = st.columns([2, 1])
brand = _pickers.brand_filter(left, names, key="overview_brand", help="Applies to everything below.")
status = (
    right.segmented_control(
        "Mailboxes",
        ["active", "suspended", "all"],
        default="active",
        key="overview_status",
        format_func=str.capitalize,
        help="Which mailboxes the figures count.",
    )
    or "active"
)

o = _ui.load(_reads.overview, url, brand, status)

c = st.columns(3)
c[0].metric("Users", _ui.num(o["users"]), delta=f"{o['new_users_30d']:+,} new in 30 days", delta_color="off")
c[1].metric(
    "2FA adoption",
    _ui.pct(o["pct_2fa"]),
    delta=f"{o['users_2fa_change_30d']:+,} enrolled in 30 days",
    help=f"{_ui.num(o['users_2fa'])} users asked for a code at login; "
    f"{_ui.num(o['users_2fa_dormant'])} more enrolled in brands that do not allow 2FA (dormant).",
)
c[2].metric(
    "App-password adoption",
    _ui.pct(o["pct_app_passwords"]),
    delta=f"{o['app_passwords_change_30d']:+,} app passwords in 30 days",
    help=f"{_ui.num(o['users_app_passwords'])} users with {_ui.num(o['app_passwords'])} live app passwords.",
)
c = st.columns(3)
of = f"of {_ui.num(o['brands'])}"
c[0].metric("Brands allowing 2FA", f"{o['brands_allow_2fa']:,} {of}")
c[1].metric("Brands letting users disable 2FA", f"{o['brands_allow_user_disable_2fa']:,} {of}")
c[2].metric("Brands allowing app passwords", f"{o['brands_allow_app_passwords']:,} {of}")
st.caption(f"Changes count the 30 days up to {_ui.when(o['as_of'])}.")

_adoption_charts.per_brand(o["by_brand"])
_adoption_charts.over_time(url, brand)
_at_risk.show(url, brand)
