"""Overview: headline figures with their 30-day change, adoption per brand and over time, users at risk."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages import _pickers, _reads, _ui
from core.reporting.at_risk import AT_RISK_KEYS

actor = _ui.require()

RISK_LIMIT = 100  # rows of each at-risk list; all of them are in Reports and the command line
BAR_LIMIT = 40  # bars in the per-brand chart; more would not be read at a glance
# What the chart shows when there are more brands than bars: (sort columns, ascending).
# Adoption is ranked among the brands that allow 2FA (elsewhere it is 0 % by the switch).
BAR_ORDERS = {
    "Lowest 2FA adoption": (["pct_2fa", "users"], [True, False], True),
    "Highest 2FA adoption": (["pct_2fa", "users"], [False, False], True),
    "Most users": (["users", "brand"], [False, True], False),
}


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

# --- headline figures ------------------------------------------------------------------------
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

# --- adoption per brand ----------------------------------------------------------------------
st.subheader("Adoption per brand")
per_brand = pd.DataFrame(o["by_brand"])
if per_brand.empty or per_brand["users"].sum() == 0:
    st.info("No mailboxes match these filters yet.", icon=":material/info:")
else:
    shown = per_brand[per_brand["users"] > 0]
    if len(shown) > BAR_LIMIT:
        order = st.segmented_control(
            "Show",
            list(BAR_ORDERS),
            default="Lowest 2FA adoption",
            key="overview_bar_order",
            help=f"A chart holds {BAR_LIMIT} brands; every brand is in Reports › Adoption by brand.",
        )
        columns, ascending, allowing_2fa = BAR_ORDERS[order or "Lowest 2FA adoption"]
        pool = shown[shown["allow_2fa"]] if allowing_2fa else shown
        shown = pool.sort_values(columns, ascending=ascending).head(BAR_LIMIT)
        among = f"{_ui.num(len(pool))} brands with mailboxes" + (" that allow 2FA" if allowing_2fa else "")
        st.caption(f"{len(shown)} of the {among}; every brand is in Reports › Adoption by brand.")
    per_brand = shown.sort_values(["pct_2fa", "brand"], ascending=[True, False])
    # Plotly reads HTML in its labels (<a href> included): the names go in as text.
    per_brand = per_brand.assign(label=per_brand["brand"].map(_ui.chart_label))
    brand_of_label = dict(zip(per_brand["label"], per_brand["brand"], strict=True))
    fig = px.bar(
        per_brand,
        x="pct_2fa",
        y="label",
        orientation="h",
        labels={"pct_2fa": "2FA adoption (%)", "label": ""},
        custom_data=["users", "users_2fa", "pct_app_passwords"],
        height=max(260, 26 * len(per_brand) + 80),
    )
    fig.update_traces(
        hovertemplate="<b>%{y}</b><br>2FA: %{x:.1f} % (%{customdata[1]:,} of %{customdata[0]:,} users)"
        "<br>App passwords: %{customdata[2]:.1f} %<extra>click to open the brand</extra>"
    )
    fig.update_layout(margin={"l": 0, "r": 10, "t": 10, "b": 0}, xaxis_range=[0, 100])
    event = st.plotly_chart(fig, key="overview_bar", on_select="rerun", selection_mode="points")
    st.caption("Click a bar to open that brand.")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points:
        st.switch_page(
            "app_pages/brands.py", query_params={"brand": brand_of_label.get(points[0]["y"], points[0]["y"])}
        )

# --- adoption over time ----------------------------------------------------------------------
st.subheader("Adoption over time")
split = brand is None and st.toggle("One line per brand", key="overview_split")
months = _ui.load(_reads.months, url, brand, bool(split))
trend = pd.DataFrame(months)
if trend.empty:
    st.info("No 2FA or app-password events yet.", icon=":material/info:")
else:
    long = trend.melt(
        id_vars=["month", "brand"],
        value_vars=["users_2fa_end", "app_passwords_end"],
        var_name="measure",
        value_name="count",
    )
    long["brand"] = long["brand"].map(_ui.chart_label)  # legend entries, as text
    long["measure"] = long["measure"].map(
        {"users_2fa_end": "Users enrolled in 2FA", "app_passwords_end": "Live app passwords"}
    )
    fig = px.line(
        long,
        x="month",
        y="count",
        color="brand" if split else "measure",
        line_dash="measure" if split else None,
        markers=not split,
        labels={"month": "Month (UTC)", "count": "", "brand": "Brand", "measure": ""},
        height=360,
    )
    fig.update_layout(margin={"l": 0, "r": 10, "t": 10, "b": 0}, legend_title_text="")
    st.plotly_chart(fig, key="overview_trend")
    st.caption("At the end of each UTC month, from the enrolment, reset and app-password events.")

# --- at risk ---------------------------------------------------------------------------------
st.subheader("Users at risk")
st.caption(
    f"Active mailboxes only; the first {RISK_LIMIT} of each list (all of them in Reports and the command line)."
)
lists, counts = _ui.load(_reads.at_risk, url, brand, RISK_LIMIT)
titles = {
    "app_passwords_no_2fa": "App passwords, no 2FA",
    "app_passwords_unused_90d": "App passwords unused 90 days",
    "dormant_2fa": "Dormant 2FA",
}
empty = {
    "app_passwords_no_2fa": "Every user with app passwords is asked for a 2FA code. Nothing to do.",
    "app_passwords_unused_90d": "Every live app password was used in the last 90 days.",
    "dormant_2fa": "No enrolment is dormant: every enrolled user's brand allows 2FA.",
}
tabs = st.tabs([f"{titles[k]} ({counts[k]:,})" for k in AT_RISK_KEYS])
for tab, key in zip(tabs, AT_RISK_KEYS, strict=True):
    with tab:
        if not lists[key]:
            st.success(empty[key], icon=":material/verified_user:")
            continue
        frame = pd.DataFrame(lists[key])
        st.dataframe(
            frame,
            hide_index=True,
            key=f"overview_risk_{key}",
            column_config=_ui.column_config(list(frame.columns)),
        )
