"""The Operators page's table and forms: who may sign in, "Change an operator", "Add an operator".

A new operator gets a one-time password that core generates and returns once
(``operators.invite_operator``): the administrator never picks (or reuses) one, and passes
it on by a channel of their choice. The new operator sets up an authenticator at the first
sign-in; ``python -m core operators passwd`` changes the password.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _operator_confirm, _ui
from core.access import operators
from core.access.permissions import ROLE_LABELS, ROLE_SUMMARIES
from core.platform.models import ROLES

_MINUTES = "YYYY-MM-DD HH:mm"


def table(rows: list[dict]) -> None:
    """Every operator, with the roles in words."""
    frame = pd.DataFrame(rows)
    frame["role"] = frame["role"].map(lambda r: ROLE_LABELS.get(r, r))
    st.dataframe(
        frame[
            ["username", "display_name", "role", "active", "totp_enrolled", "created_at", "last_sign_in_at"]
        ],
        hide_index=True,
        key="operators_table",
        column_config={
            "username": "Username",
            "display_name": "Name",
            "role": "Role",
            "active": st.column_config.CheckboxColumn("Active"),
            "totp_enrolled": st.column_config.CheckboxColumn("Authenticator"),
            "created_at": st.column_config.DatetimeColumn("Created (UTC)", format=_MINUTES),
            "last_sign_in_at": st.column_config.DatetimeColumn("Last sign-in (UTC)", format=_MINUTES),
        },
    )
    st.caption(" · ".join(f"{ROLE_LABELS[r]}: {ROLE_SUMMARIES[r]}" for r in ROLES) + ".")


def change(rows: list[dict]) -> None:
    """Pick an operator, then the buttons of each change (disabled, saying why, when it does nothing)."""
    st.subheader("Change an operator")
    by_name = {r["username"]: r for r in rows}
    left, right = st.columns(2, vertical_alignment="bottom")
    chosen = left.selectbox("Operator", list(by_name), key="operators_selected")
    current = by_name[chosen]
    right.caption(
        f"{ROLE_LABELS.get(current['role'], current['role'])} · "
        f"{'active' if current['active'] else 'deactivated'} · "
        f"{'authenticator set up' if current['totp_enrolled'] else 'no authenticator yet'} · "
        f"last sign-in {_ui.when(current['last_sign_in_at'])}"
    )
    a, b = st.columns(2, vertical_alignment="bottom")
    a.selectbox(
        "New role",
        ROLES,
        index=ROLES.index(current["role"]),
        key="operators_new_role",
        format_func=ROLE_LABELS.get,
    )
    same_role = st.session_state.get("operators_new_role") == current["role"]
    ask = _operator_confirm.ask_button
    ask(b, "role", "Change role…", why_not="Pick a different role first." if same_role else None)
    c, d = st.columns(2)
    no_totp = None if current["totp_enrolled"] else "No authenticator is set up: nothing to reset."
    ask(c, "reset_totp", "Reset authenticator…", icon=":material/phonelink_erase:", why_not=no_totp)
    inactive = None if current["active"] else "Deactivated already."
    ask(d, "deactivate", "Deactivate…", icon=":material/person_off:", why_not=inactive)
    ask(
        st,
        "sign_out",
        "Sign out everywhere…",
        icon=":material/logout:",
        help="Ends every session of this operator, e.g. after a lost laptop.",
    )


def _add() -> None:
    invitation, error = _ui.write(
        operators.invite_operator,
        username=st.session_state.get("operators_add_username", ""),
        role=st.session_state.get("operators_add_role") or "analyst",
        display_name=st.session_state.get("operators_add_display", ""),
    )
    if error:
        st.session_state["operators_add_error"] = error
        return
    st.session_state.pop("operators_add_error", None)
    st.session_state["operators_created"] = invitation
    for key in ("operators_add_username", "operators_add_display"):
        st.session_state[key] = ""


def add() -> None:
    """The new operator's one-time password (shown once), the form, and a refusal."""
    st.subheader("Add an operator")
    created = st.session_state.pop("operators_created", None)
    if created:
        _ui.shown_once(
            f"Added {_ui.plain(created.username)}. Give them this one-time password by a safe channel; it is "
            "shown only now. They set up their authenticator at the first sign-in.",
            created.password,
        )
    with st.form("operators_add", clear_on_submit=False):
        st.text_input("Username", key="operators_add_username", max_chars=64, placeholder="e.g. jdoe")
        st.text_input("Display name", key="operators_add_display", max_chars=200)
        st.selectbox("Role", ROLES, key="operators_add_role", format_func=ROLE_LABELS.get)
        st.caption("A one-time password is generated and shown once after you add the operator.")
        st.form_submit_button("Add operator", type="primary", on_click=_add)
    error = st.session_state.pop("operators_add_error", None)
    if error:
        _ui.error(error)
