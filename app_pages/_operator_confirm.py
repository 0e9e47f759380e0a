"""The Operators page's changes, each confirmed in a dialog before core makes it.

A button (``ask_button``) names the change in ``operators_pending``; the dialog is opened on
every run while it does (Streamlit 1.67: a dialog opened straight from ``if st.button``
cannot be driven by AppTest). Every change is a ``core.access.operators`` (or ``sessions``)
service, which checks the role again and keeps the last active administrator.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages import _ui
from core.access import operators, sessions
from core.access.permissions import ROLE_LABELS, Actor

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


def _ask(action: str) -> None:
    st.session_state["operators_pending"] = {
        "action": action,
        "username": st.session_state.get("operators_selected"),
        "role": st.session_state.get("operators_new_role"),
    }


def ask_button(
    where: Any,
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


def _question(actor: Actor, pending: dict) -> str:
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


def show_if_asked(actor: Actor) -> None:
    """The confirmation dialog, while a change waits for it."""
    if st.session_state.get("operators_pending"):
        _dialog(actor)


@st.dialog("Confirm the change", on_dismiss=_close)
def _dialog(actor: Actor) -> None:
    pending = st.session_state["operators_pending"]
    st.markdown(_question(actor, pending))
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
