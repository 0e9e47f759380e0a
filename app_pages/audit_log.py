"""Audit log: every write, who made it and when (UTC), filtered by operator, action, brand,
user and date; exported as CSV through ``core.reporting.exports``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _pickers, _reads, _ui
from core.platform.audit import AuditFilter
from core.platform.events import LABELS
from core.reporting.exports.files import iter_csv

actor = _ui.require()
url = _ui.db_url()
LIMIT = 500
CAP = 10_000
ANYONE = "Anyone"
ANY = "Any action"


def _csv(url: str, f: AuditFilter) -> bytes:
    return "".join(iter_csv("audit", engine=_ui.engine(url), audit_filter=f, limit=CAP)).encode("utf-8")


_ui.header("Audit log", "Every change made in the console, by whom and when (UTC). Events are never edited.")
brands = _ui.load(_reads.brand_names, url)
ops = [o["username"] for o in _ui.load(_reads.operators, url)]
c = st.columns(3)
who = c[0].selectbox("Operator", [ANYONE, *ops, "cli"], key="audit_actor")
action = c[1].selectbox("Action", [ANY, *LABELS], key="audit_action", format_func=lambda a: LABELS.get(a, a))
brand = _pickers.brand_filter(c[2], brands, key="audit_brand")
c = st.columns(2)
user = c[0].text_input("User", key="audit_user", placeholder="the full address, e.g. ann@example.com")
since, until = _pickers.utc_days(c[1], key="audit_dates")
f = AuditFilter(
    actor=None if who == ANYONE else who,
    action=None if action == ANY else action,
    brand=brand,
    user_email=_ui.unjoined(user).strip() or None,
    since=since,
    until=until,
)
st.session_state["audit_filter"] = f  # for the Reports page's audit download

rows = _ui.load(_reads.audit_events, url, f, LIMIT)
if not rows:
    st.info(
        "No event matches these filters. Widen the dates or clear a filter.", icon=":material/search_off:"
    )
else:
    st.caption(
        f"{len(rows):,} events"
        + (f" (the newest {LIMIT}; narrow the filters or export)" if len(rows) >= LIMIT else "")
    )
    df = pd.DataFrame(rows)
    df["action"] = df["action"].map(lambda a: LABELS.get(a, a))
    st.dataframe(
        df[["at", "actor", "action", "object_key", "brand", "user", "reason", "before", "after"]],
        hide_index=True,
        key="audit_table",
        column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "object_key": "Object",
        },
    )
st.download_button(
    "Download audit-log.csv",
    data=lambda: _csv(url, f),
    file_name="audit-log.csv",
    mime="text/csv",
    key="audit_download",
    icon=":material/download:",
    on_click="ignore",
    disabled=not rows,
    help=f"The events of these filters, newest first, at most {CAP:,}; "
    "the whole log: `python -m core export audit --out FILE`.",
)
