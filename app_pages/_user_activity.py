"""What happened to one mailbox, on the Users page: its recent audit events and its notices.

The notices are read fresh on every run (``_reads.notices_for``): a notice's state changes
in the sender's thread, which clears no page cache.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _notices, _reads, _ui
from core.platform.events import LABELS


def events(d: dict) -> None:
    """The mailbox's recent audit events, newest first, the actions in words."""
    st.markdown("**Recent audit events** (newest first, times in UTC)")
    if not d["recent_events"]:
        st.caption("Nothing recorded for this mailbox yet.")
        return
    table = pd.DataFrame(d["recent_events"])
    table["action"] = table["action"].map(lambda a: LABELS.get(a, a))
    st.dataframe(
        table,
        hide_index=True,
        key="users_events",
        column_config={"at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm")},
    )


def notices(url: str, email: str) -> None:
    """The customer notices queued for ``email``, each with its state, a Refresh, and where they go."""
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.markdown("**Customer notices** (newest first, times in UTC)")
    right.button("Refresh", key="users_notices_refresh", icon=":material/refresh:", type="tertiary")
    rows = _ui.load(_reads.notices_for, url, email)
    if rows:
        st.dataframe(
            pd.DataFrame(
                {
                    "Queued": [_ui.when(n["created_at"]) for n in rows],
                    "Subject": [n["subject"] for n in rows],
                    "State": [_notices.notice_state(n) for n in rows],
                }
            ),
            hide_index=True,
            key="users_notices",
        )
    else:
        st.caption("No notice has been queued for this mailbox.")
    st.caption(_notices.where_notices_go())
