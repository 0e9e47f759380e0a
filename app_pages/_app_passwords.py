"""A user's app passwords on the Users page: the table, failed mail sign-ins, and "Revoke…".

Each password's protocols are shown in words (``mail_auth.PROTOCOL_NAMES``) and its last use
as when, over which protocol and from which address ("never" when never). A burst of failed
mail-client sign-ins (``mail_auth.failed_sign_ins``, the last 24 hours) is a warning above it.

The confirmation is asked in the page (``users_revoke_pending`` names the label) and the
revoke is core's (``core.mailboxes.app_passwords.revoke``), which checks the role again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _ui
from core.access.permissions import Actor
from core.mailboxes import app_passwords
from core.mailboxes.mail_auth import PROTOCOL_NAMES, FailedSignIns

_MINUTES = "YYYY-MM-DD HH:mm"


def _revoke(email: str, label: str) -> None:
    _, error = _ui.write(app_passwords.revoke, email=email, label=label)
    st.session_state["users_flash"] = (
        ("error", error) if error else ("success", f"Revoked the app password “{label}” of {email}.")
    )


def protocols(stored: str) -> str:
    """'IMAP, SMTP' for the stored ``imap,smtp``."""
    return ", ".join(PROTOCOL_NAMES.get(p, p) for p in stored.split(",") if p)


def last_use(ap: dict) -> str:
    """'2026-12-04 14:02 UTC · IMAP · 203.0.113.9', or 'never'."""
    if ap["last_used_at"] is None:
        return "never"
    protocol = PROTOCOL_NAMES.get(ap["last_used_protocol"] or "", ap["last_used_protocol"])
    return " · ".join(p for p in (_ui.when(ap["last_used_at"]), protocol, ap["last_used_ip"]) if p)


def failures(failed: FailedSignIns) -> None:
    """The mailbox's failed mail sign-ins of the last 24 hours, when there were any."""
    if not failed.count:
        return
    st.warning(
        f"{_ui.rows(failed.count, 'failed mail sign-in')} in the last 24 hours, the last at "
        f"{_ui.when(failed.last_at)}: a wrong password was tried from a mail client.",
        icon=":material/gpp_maybe:",
    )


def table(d: dict) -> None:
    """Every app password of the user, live and revoked, with what the brand allows."""
    st.markdown("**App passwords**")
    if not d["app_passwords"]:
        st.caption("No app passwords. The user creates them in webmail.")
        return
    aps = pd.DataFrame(
        [{**a, "protocols": protocols(a["protocols"]), "last_use": last_use(a)} for a in d["app_passwords"]]
    )
    st.dataframe(
        aps[["label", "protocols", "created_at", "last_use", "state", "revoked_at"]],
        hide_index=True,
        key="users_aps",
        column_config={
            "protocols": "Protocols",
            "created_at": st.column_config.DatetimeColumn("Created (UTC)", format=_MINUTES),
            "last_use": "Last use",
            "revoked_at": st.column_config.DatetimeColumn("Revoked (UTC)", format=_MINUTES),
        },
    )
    if not d["allow_app_passwords"]:
        st.caption(
            f"{_ui.plain(d['brand'])} does not allow app passwords: live ones are suspended until it does."
        )


def revoke(actor: Actor, d: dict) -> None:
    """Pick a live app password, "Revoke…", then confirm (disabled for a role that may not)."""
    email = d["email"]
    _ui.pick_then_confirm(
        "App password to revoke",
        [a["label"] for a in d["app_passwords"] if a["revoked_at"] is None],
        key="users_revoke",
        question=lambda label: (
            f"Revoke “{_ui.plain(label)}” of {_ui.plain(email)}? Mail apps using it stop signing in; "
            "the other app passwords keep working."
        ),
        on_confirm=lambda label: _revoke(email, label),
        deny=_ui.permission_help(actor, "app_password.revoke"),
    )
