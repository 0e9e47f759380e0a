"""The Users page's "Disable 2FA" dialog: a reason, the reset, then the customer's notice.

The dialog is opened on every run while ``users_pending_reset`` names the user (Streamlit
1.67: a dialog opened straight from ``if st.button`` cannot be driven by AppTest). The
reset and how a reason (and the "other" text) combine are core's (``twofa.reset``); after
it the dialog shows the notice the customer is sent and follows it (``_notices.follow``).
"""

from __future__ import annotations

import streamlit as st

from app_pages import _notices, _ui
from core.mailboxes import twofa
from core.platform.models import RESET_REASONS


def ask(email: str) -> None:
    """Open the dialog for ``email`` (a callback)."""
    st.session_state["users_pending_reset"] = {"email": email}


def close() -> None:
    st.session_state.pop("users_pending_reset", None)


def _reset(email: str) -> None:
    result, error = _ui.write(
        twofa.reset,
        email=email,
        reason=st.session_state.get("users_reset_reason") or "",
        other=st.session_state.get("users_reset_other", ""),
    )
    st.session_state["users_pending_reset"] = {"email": email, "error": error, "result": result}


def show_if_asked(url: str, email: str) -> None:
    """The dialog, while it is open for ``email``."""
    pending = st.session_state.get("users_pending_reset")
    if pending and pending.get("email") == email:
        _dialog(url, email)


@st.dialog("Disable 2FA", on_dismiss=close)
def _dialog(url: str, email: str) -> None:
    pending = st.session_state["users_pending_reset"]
    result: twofa.ResetResult | None = pending.get("result")
    if result:
        _done(url, result)
        return
    st.markdown(
        f"Turn off two-factor authentication for **{_ui.plain(email)}**? The secret is removed; the user can "
        "sign in with the password alone until they set 2FA up again with a new token."
    )
    st.selectbox("Reason", RESET_REASONS, key="users_reset_reason", format_func=str.capitalize)
    if st.session_state.get("users_reset_reason") == twofa.OTHER:
        st.text_input("Other reason", key="users_reset_other", max_chars=280)
    if pending.get("error"):
        _ui.error(pending["error"])
    left, right = st.columns(2)
    left.button("Disable 2FA", key="users_reset_confirm", type="primary", on_click=_reset, args=(email,))
    if right.button("Cancel", key="users_reset_cancel"):
        close()
        st.rerun()


def _done(url: str, result: twofa.ResetResult) -> None:
    """After the reset: what the customer is told, and where their notice is."""
    st.success(
        f"2FA is off for {_ui.plain(result.email)}. The customer is told:", icon=":material/check_circle:"
    )
    st.markdown(f"**{_ui.plain(result.notification_subject)}**")
    st.container(border=True).text(result.notification_body)
    st.caption(_notices.where_notices_go())
    if result.notification_id is not None:
        _notices.follow(url, result.notification_id)
    if st.button("Close", key="users_reset_close", type="primary"):
        close()
        st.rerun()
