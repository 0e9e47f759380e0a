"""The Overview page's charts: 2FA adoption per brand (a bar opens the brand) and adoption over time.

Brand names go into plotly as text (``_ui.chart_label``): plotly reads HTML in its labels.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages import _reads, _ui

BAR_LIMIT = 40  # bars in the per-brand chart; more would not be read at a glance
# What the chart shows when there are more brands than bars: (sort columns, ascending).
# Adoption is ranked among the brands that allow 2FA (elsewhere it is 0 % by the switch).
BAR_ORDERS = {
    "Lowest 2FA adoption": (["pct_2fa", "users"], [True, False], True),
    "Highest 2FA adoption": (["pct_2fa", "users"], [False, False], True),
    "Most users": (["users", "brand"], [False, True], False),
}
_MARGIN = {"l": 0, "r": 10, "t": 10, "b": 0}


def _bars(shown: pd.DataFrame) -> pd.DataFrame:
    """At most ``BAR_LIMIT`` brands, picked by the "Show" order when there are more."""
    if len(shown) <= BAR_LIMIT:
        return shown
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
    return shown


def per_brand(by_brand: list[dict]) -> None:
    """A bar of 2FA adoption per brand with mailboxes; clicking one opens it on the Brands page."""
    st.subheader("Adoption per brand")
    frame = pd.DataFrame(by_brand)
    if frame.empty or frame["users"].sum() == 0:
        st.info("No mailboxes match these filters yet.", icon=":material/info:")
        return
    frame = _bars(frame[frame["users"] > 0]).sort_values(["pct_2fa", "brand"], ascending=[True, False])
    frame = frame.assign(label=frame["brand"].map(_ui.chart_label))
    brand_of_label = dict(zip(frame["label"], frame["brand"], strict=True))
    fig = px.bar(
        frame,
        x="pct_2fa",
        y="label",
        orientation="h",
        labels={"pct_2fa": "2FA adoption (%)", "label": ""},
        custom_data=["users", "users_2fa", "pct_app_passwords"],
        height=max(260, 26 * len(frame) + 80),
    )
    fig.update_traces(
        hovertemplate="<b>%{y}</b><br>2FA: %{x:.1f} % (%{customdata[1]:,} of %{customdata[0]:,} users)"
        "<br>App passwords: %{customdata[2]:.1f} %<extra>click to open the brand</extra>"
    )
    fig.update_layout(margin=_MARGIN, xaxis_range=[0, 100])
    event = st.plotly_chart(fig, key="overview_bar", on_select="rerun", selection_mode="points")
    st.caption("Click a bar to open that brand.")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points:
        st.switch_page(
            "app_pages/brands.py", query_params={"brand": brand_of_label.get(points[0]["y"], points[0]["y"])}
        )


def over_time(url: str, brand: str | None) -> None:
    """Users enrolled in 2FA and live app passwords at the end of each month; per brand on request."""
    st.subheader("Adoption over time")
    split = brand is None and st.toggle("One line per brand", key="overview_split")
    trend = pd.DataFrame(_ui.load(_reads.months, url, brand, bool(split)))
    if trend.empty:
        st.info("No 2FA or app-password events yet.", icon=":material/info:")
        return
    long = trend.melt(
        id_vars=["month", "brand"],
        value_vars=["users_2fa_end", "app_passwords_end"],
        var_name="measure",
        value_name="count",
    )
    long["brand"] = long["brand"].map(_ui.chart_label)
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
    fig.update_layout(margin=_MARGIN, legend_title_text="")
    st.plotly_chart(fig, key="overview_trend")
    st.caption("At the end of each UTC month, from the enrolment, reset and app-password events.")
