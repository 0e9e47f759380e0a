"""Operators (administrators only): list, add, change a role, reset an authenticator, deactivate.

Every change is a ``core.access.operators`` service, which checks the role again and keeps the last
active administrator (it cannot be deactivated or demoted). Each change is confirmed in a
dialog that is opened on every run while ``operators_pending`` names it (Streamlit 1.67: a
dialog opened straight from ``if st.button`` cannot be driven by AppTest).

A new operator gets a one-time password that core generates and returns once
(``operators.invite_operator``): the administrator never picks (or reuses) one, and passes
it on by a channel of their choice. The new operator sets up an authenticator at the first
sign-in; ``python -m core operators passwd`` changes the password.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _reads, _ui
from core.access import operators, sessions
from core.access.permissions import ROLE_LABELS
from core.platform.models import ROLES

actor = _ui.require("operator.manage")
url = _ui.db_url()

ACTIONS = {
    "role": "Change role",
    "reset_totp": "Reset authenticator",
    "deactivate": "Deactivate",
    "sign_out": "Sign out everywhere",
}
OPEN_KEYS = {
    "role": "operators_role_open",
    "reset_totp": "operators_reset_open",
    "deactivate": "operators_deactivate_open",
    "sign_out": "operators_signout_open",
}


# --- actions (callbacks: they run before the page, which then shows the new state) ---------


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


def _ask(action: str) -> None:
    st.session_state["operators_pending"] = {
        "action": action,
        "username": st.session_state.get("operators_selected"),
        "role": st.session_state.get("operators_new_role"),
    }


def _ask_button(
    where,
    action: str,
    label: str,
    *,
    icon: str | None = None,
    why_not: str | None = None,
    help: str | None = None,
) -> None:
    """The button that opens the confirmation of ``action``; disabled, saying why, when ``why_not``."""
    where.button(
        label,
        key=OPEN_KEYS[action],
        icon=icon,
        on_click=_ask,
        args=(action,),
        disabled=bool(why_not),
        help=why_not or help,
    )


def _close() -> None:
    st.session_state.pop("operators_pending", None)


def _confirm() -> None:
    pending = st.session_state["operators_pending"]
    name, action = pending["username"], pending["action"]
    if action == "role":
        _, error = _ui.write(operators.set_role, username=name, role=pending["role"])
        done = f"{name} is now {ROLE_LABELS[pending['role']]}."
    elif action == "reset_totp":
        _, error = _ui.write(operators.reset_totp, username=name)
        done = f"The authenticator of {name} is removed; they set up a new one at their next sign-in."
    elif action == "sign_out":
        ended, error = _ui.write(sessions.sign_out_everywhere, username=name)
        done = f"{name} is signed out everywhere ({_ui.rows(ended or 0, 'session')} ended)."
    else:
        _, error = _ui.write(operators.deactivate, username=name)
        done = f"{name} is deactivated and can no longer sign in."
    if error:
        st.session_state["operators_pending"] = {**pending, "error": error}
        return
    _close()
    st.session_state["operators_flash"] = ("success", done)


def _question(pending: dict) -> str:
    name = _ui.plain(pending["username"])
    yourself = " This is you: you will be signed out." if pending["username"] == actor.name else ""
    if pending["action"] == "role":
        return (
            f"Make **{name}** {ROLE_LABELS[pending['role']]}? Their open sessions end: they sign in "
            f"again and work with the new role.{yourself}"
        )
    if pending["action"] == "sign_out":
        return (
            f"Sign **{name}** out everywhere? Every browser signed in as them stops working at once; "
            f"their role and authenticator stay as they are.{yourself}"
        )
    if pending["action"] == "reset_totp":
        return (
            f"Remove the authenticator of **{name}** (e.g. after a lost phone)? They cannot sign in "
            f"until they set up a new one, which the sign-in page walks them through.{yourself}"
        )
    return (
        f"Deactivate **{name}**? They can no longer sign in, and their open sessions stop working.{yourself}"
    )


@st.dialog("Confirm the change", on_dismiss=_close)
def _confirm_dialog() -> None:
    pending = st.session_state["operators_pending"]
    st.markdown(_question(pending))
    if pending.get("error"):
        _ui.error(pending["error"])
    left, right = st.columns(2)
    left.button(
        ACTIONS[pending["action"]],
        key="operators_confirm",
        type="primary",
        on_click=_confirm,
        width="stretch",
    )
    if right.button("Cancel", key="operators_cancel", width="stretch"):
        _close()
        st.rerun()


# --- the page --------------------------------------------------------------------------------

_ui.header("Operators", "Who may sign in to the console, and what their role lets them do.")
_ui.flash("operators_flash")

rows = _ui.load(_reads.operators, url)
if rows:
    table = pd.DataFrame(rows)
    table["role"] = table["role"].map(lambda r: ROLE_LABELS.get(r, r))
    st.dataframe(
        table[
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
            "created_at": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
            "last_sign_in_at": st.column_config.DatetimeColumn(
                "Last sign-in (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
    )
    st.caption(
        "Analyst: reads and downloads · Support: + resets a user's 2FA, revokes app passwords · "
        "Account manager: + brand switches and login CSS · Administrator: everything, and operators."
    )

    st.subheader("Change an operator")
    names = [r["username"] for r in rows]
    by_name = {r["username"]: r for r in rows}
    left, right = st.columns(2, vertical_alignment="bottom")
    chosen = left.selectbox("Operator", names, key="operators_selected")
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
    _ask_button(b, "role", "Change role…", why_not="Pick a different role first." if same_role else None)
    c, d = st.columns(2)
    _ask_button(
        c,
        "reset_totp",
        "Reset authenticator…",
        icon=":material/phonelink_erase:",
        why_not=None if current["totp_enrolled"] else "No authenticator is set up: nothing to reset.",
    )
    _ask_button(
        d,
        "deactivate",
        "Deactivate…",
        icon=":material/person_off:",
        why_not=None if current["active"] else "Deactivated already.",
    )
    _ask_button(
        st,
        "sign_out",
        "Sign out everywhere…",
        icon=":material/logout:",
        help="Ends every session of this operator, e.g. after a lost laptop.",
    )
else:
    st.info("No operators yet.", icon=":material/group:")

st.subheader("Add an operator")
created = st.session_state.pop("operators_created", None)
if created:
    st.success(
        f"Added {_ui.plain(created.username)}. Give them this one-time password by a safe channel; it is shown "
        "only now. They set up their authenticator at the first sign-in.",
        icon=":material/check_circle:",
    )
    st.code(created.password, language=None)
with st.form("operators_add", clear_on_submit=False):
    st.text_input("Username", key="operators_add_username", max_chars=64, placeholder="e.g. jdoe")
    st.text_input("Display name", key="operators_add_display", max_chars=200)
    st.selectbox("Role", ROLES, key="operators_add_role", format_func=ROLE_LABELS.get)
    st.caption("A one-time password is generated and shown once after you add the operator.")
    st.form_submit_button("Add operator", type="primary", on_click=_add)
error = st.session_state.pop("operators_add_error", None)
if error:
    _ui.error(error)

if st.session_state.get("operators_pending"):
    _confirm_dialog()
