"""The Brands page's table: every brand with its switches and adoption, found by any part of
its name; selecting a row opens the brand (``?brand=``)."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

COLUMNS = {
    "name": "Brand",
    "allow_2fa": "2FA allowed",
    "allow_user_disable_2fa": "Users may disable 2FA",
    "allow_app_passwords": "App passwords allowed",
    "users": "Users",
    "pct_2fa": "2FA %",
    "pct_app_passwords": "App passwords %",
}


def _select(shown: list[str]) -> None:
    rows = st.session_state["brands_table"].selection.rows
    if rows:
        st.query_params["brand"] = shown[rows[0]]


def show(rows: list[dict]) -> None:
    """The "Find a brand" box, the brands that match, and how many of all they are."""
    find = st.text_input("Find a brand", key="brands_find", placeholder="any part of the name")
    table = pd.DataFrame(rows)
    if find.strip():
        table = table[table["name"].str.contains(find.strip(), case=False, regex=False)]
    st.dataframe(
        table[list(COLUMNS)].rename(columns=COLUMNS),
        hide_index=True,
        key="brands_table",
        on_select=partial(_select, table["name"].tolist()),
        selection_mode="single-row",
        column_config={
            "Users": st.column_config.NumberColumn(format="localized"),
            "2FA %": st.column_config.ProgressColumn(format="%.1f %%", min_value=0, max_value=100),
            "App passwords %": st.column_config.ProgressColumn(format="%.1f %%", min_value=0, max_value=100),
        },
    )
    st.caption(f"{len(table):,} of {len(rows):,} brands. Select a row to open the brand.")
