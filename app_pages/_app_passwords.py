"""A user's app passwords on the Users page: the table, and "Revoke…" with its confirmation.

The confirmation is asked in the page (``users_pending_revoke`` names the label) and the
revoke is core's (``core.mailboxes.app_passwords.revoke``), which checks the role again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _ui
from core.access.permissions import Actor
from core.mailboxes import app_passwords

_MINUTES = "YYYY-MM-DD HH:mm"


def _revoke(email: str, label: str) -> None:
    _, error = _ui.write(app_passwords.revoke, email=email, label=label)
    st.session_state.pop("users_pending_revoke", None)
    st.session_state["users_flash"] = (
        ("error", error) if error else ("success", f"Revoked the app password “{label}” of {email}.")
    )


def table(d: dict) -> None:
    """Every app password of the user, live and revoked, with what the brand allows."""
    st.markdown("**App passwords**")
    aps = pd.DataFrame(d["app_passwords"])
    if aps.empty:
        st.caption("No app passwords. The user creates them in webmail.")
        return
    st.dataframe(
        aps[["label", "created_at", "last_used_at", "state", "revoked_at"]],
        hide_index=True,
        key="users_aps",
        column_config={
            "created_at": st.column_config.DatetimeColumn("Created (UTC)", format=_MINUTES),
            "last_used_at": st.column_config.DatetimeColumn("Last used (UTC)", format=_MINUTES),
            "revoked_at": st.column_config.DatetimeColumn("Revoked (UTC)", format=_MINUTES),
        },
    )
    if not d["allow_app_passwords"]:
        st.caption(
            f"{_ui.plain(d['brand'])} does not allow app passwords: live ones are suspended until it does."
        )


def revoke(actor: Actor, d: dict) -> None:
    """Pick a live app password, "Revoke…", then confirm (disabled for a role that may not)."""
    live = [a["label"] for a in d["app_passwords"] if a["revoked_at"] is None]
    if not live:
        return
    deny = _ui.permission_help(actor, "app_password.revoke")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    label = left.selectbox("App password to revoke", live, key="users_revoke_label", disabled=bool(deny))
    right.button(
        "Revoke…",
        key="users_revoke_open",
        disabled=bool(deny),
        help=deny,
        on_click=lambda: st.session_state.update(users_pending_revoke=label),
    )
    pending = st.session_state.get("users_pending_revoke")
    if pending not in live or deny:
        return
    st.warning(
        f"Revoke “{_ui.plain(pending)}” of {_ui.plain(d['email'])}? Mail apps using it stop signing in; "
        "the other app passwords keep working.",
        icon=":material/warning:",
    )
    a, b = st.columns(2)
    a.button(
        "Revoke it", key="users_revoke_confirm", type="primary", on_click=_revoke, args=(d["email"], pending)
    )
    b.button(
        "Keep it", key="users_revoke_cancel", on_click=lambda: st.session_state.pop("users_pending_revoke")
    )
