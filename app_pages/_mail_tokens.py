"""The Operators page's "Mail servers" section: the tokens mail servers present to ``POST /api/mail-auth``.

Making, listing and revoking them is ``core.access.mail_auth_tokens`` (``mail_auth.manage``,
administrators only), which checks the role again on every write. A new token is core's,
returned once and shown once here: only its SHA-256 is stored, so it cannot be shown again.
A revoke is confirmed first (``operators_token_revoke_pending`` names the label); the mail server
holding the token is refused from its next request.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _reads, _ui
from core.access import mail_auth_tokens
from core.access.permissions import Actor

_MINUTES = "YYYY-MM-DD HH:mm"


def _create() -> None:
    made, error = _ui.write(mail_auth_tokens.create, label=st.session_state.get("operators_token_label", ""))
    if error:
        st.session_state["operators_token_error"] = error
        return
    st.session_state.pop("operators_token_error", None)
    st.session_state["operators_token_created"] = made
    st.session_state["operators_token_label"] = ""


def _revoke(label: str) -> None:
    _, error = _ui.write(mail_auth_tokens.revoke, label=label)
    st.session_state["operators_token_flash"] = (
        ("error", error) if error else ("success", f"Revoked the mail-server token “{label}”.")
    )


def section(actor: Actor, url: str) -> None:
    """The tokens, "Create a token" (shown once) and "Revoke…" with its confirmation."""
    st.subheader("Mail servers")
    st.caption(
        "Dovecot (or any mail server) checks each mail client's sign-in against the console with a "
        "token of its own. A revoked token is refused from the mail server's next request."
    )
    _ui.flash("operators_token_flash")
    rows = _ui.load(_reads.mail_tokens, url, actor)
    if rows:
        _table(rows)
        _revoke_controls([r["label"] for r in rows if r["state"] == "live"])
    else:
        st.info("No mail server has a token yet.", icon=":material/dns:")
    _create_form()


def _table(rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    st.dataframe(
        frame[["label", "state", "created_by", "created_at", "last_used_at", "revoked_at"]],
        hide_index=True,
        key="operators_tokens",
        column_config={
            "label": "Label",
            "state": "State",
            "created_by": "Made by",
            "created_at": st.column_config.DatetimeColumn("Made (UTC)", format=_MINUTES),
            "last_used_at": st.column_config.DatetimeColumn("Last used (UTC)", format=_MINUTES),
            "revoked_at": st.column_config.DatetimeColumn("Revoked (UTC)", format=_MINUTES),
        },
    )


def _revoke_controls(live: list[str]) -> None:
    _ui.pick_then_confirm(
        "Token to revoke",
        live,
        key="operators_token_revoke",
        question=lambda label: (
            f"Revoke the token “{_ui.plain(label)}”? The mail server holding it can no longer check "
            "sign-ins, so its users cannot sign in until it has a new token."
        ),
        on_confirm=_revoke,
    )


def _create_form() -> None:
    created = st.session_state.pop("operators_token_created", None)
    if created:
        _ui.shown_once(
            f"Made the token “{_ui.plain(created.label)}”. Put it in the mail server's token file now: "
            "it is not shown again.",
            created.token,
        )
    with st.form("operators_token_add", clear_on_submit=False):
        st.text_input("Label", key="operators_token_label", max_chars=64, placeholder="e.g. imap1")
        st.form_submit_button("Create a token", type="primary", on_click=_create)
    error = st.session_state.pop("operators_token_error", None)
    if error:
        _ui.error(error)
