"""The Users page's search results: one page of mailboxes, a row opens one, Previous and Next.

Pages are keyed by address (``core.reporting.search.search_users``' keyset pagination):
``users_stack`` holds the address each page starts after, and starts again whenever the
search changes.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _reads, _ui, _user_detail
from core.reporting.search_query import UserSearch

PAGE_SIZE = 50
COLUMNS = ["email", "display_name", "brand", "domain", "status", "twofa", "app_passwords", "last_login_at"]


def _pick(shown: list[str]) -> None:
    rows = st.session_state["users_table"].selection.rows
    if rows:
        _user_detail.open_user(shown[rows[0]])


def _stack(search: UserSearch) -> list[str]:
    """The addresses the pages so far start after (none: the first page) of ``search``."""
    if st.session_state.get("users_stack_for") != search:
        st.session_state["users_stack_for"] = search
        st.session_state["users_stack"] = []
    return st.session_state["users_stack"]


def show(url: str, search: UserSearch) -> None:
    """The page of mailboxes ``search`` is at, with the count of all that match."""
    stack = _stack(search)
    rows = _ui.load(_reads.user_search, url, search, stack[-1] if stack else None, PAGE_SIZE)
    total = _ui.load(_reads.user_count, url, search)
    if not rows:
        st.info("No mailbox matches. Try a shorter fragment or fewer filters.", icon=":material/search_off:")
        return
    table = pd.DataFrame(rows)
    shown = table["email"].tolist()
    start = len(stack) * PAGE_SIZE
    st.caption(
        f"{_ui.num(total)} mailboxes match; showing {start + 1:,}–{start + len(rows):,}. "
        "Select a row to open the mailbox."
    )
    st.dataframe(
        table[COLUMNS],
        hide_index=True,
        key="users_table",
        on_select=lambda: _pick(shown),
        selection_mode="single-row",
        column_config=_ui.column_config(COLUMNS),
    )
    prev, nxt, _ = st.columns([1, 1, 6])
    prev.button(
        "← Previous",
        key="users_prev",
        disabled=not stack,
        on_click=lambda: st.session_state["users_stack"].pop(),
    )
    nxt.button(
        "Next →",
        key="users_next",
        disabled=start + len(rows) >= total,
        on_click=lambda: st.session_state["users_stack"].append(shown[-1]),
    )
