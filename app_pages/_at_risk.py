"""The Overview page's users at risk: a tab per list, each with its whole count and its first rows.

Which mailboxes are at risk, and the lists' order, are core's (``core.reporting.at_risk``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _reads, _ui
from core.reporting.at_risk import AT_RISK_KEYS

LIMIT = 100  # rows of each at-risk list; all of them are in Reports and the command line
TITLES = {
    "app_passwords_no_2fa": "App passwords, no 2FA",
    "app_passwords_unused_90d": "App passwords unused 90 days",
    "dormant_2fa": "Dormant 2FA",
}
EMPTY = {
    "app_passwords_no_2fa": "Every user with app passwords is asked for a 2FA code. Nothing to do.",
    "app_passwords_unused_90d": "Every live app password was used in the last 90 days.",
    "dormant_2fa": "No enrolment is dormant: every enrolled user's brand allows 2FA.",
}


def show(url: str, brand: str | None) -> None:
    """The at-risk lists of ``brand`` (None: every brand)."""
    st.subheader("Users at risk")
    st.caption(
        f"Active mailboxes only; the first {LIMIT} of each list (all of them in Reports and the command line)."
    )
    lists, counts = _ui.load(_reads.at_risk, url, brand, LIMIT)
    tabs = st.tabs([f"{TITLES[k]} ({counts[k]:,})" for k in AT_RISK_KEYS])
    for tab, key in zip(tabs, AT_RISK_KEYS, strict=True):
        with tab:
            if not lists[key]:
                st.success(EMPTY[key], icon=":material/verified_user:")
                continue
            frame = pd.DataFrame(lists[key])
            st.dataframe(
                frame,
                hide_index=True,
                key=f"overview_risk_{key}",
                column_config=_ui.column_config(list(frame.columns)),
            )
