"""One mailbox on the Users page (``?user=`` names it): who it is, its 2FA and app passwords,
"Disable 2FA…", its recent audit events and the customer notices sent to it.

The brand shown is the effective one, with where it comes from; the 2FA state (on, off,
dormant) and the cap on live app passwords are core's.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _app_passwords, _reads, _reset_dialog, _ui, _user_activity
from core.access.permissions import Actor
from core.mailboxes.app_passwords import MAX_PER_USER

STATE_WORDS = {
    "on": "On: asked for a code at every webmail login",
    "off": "Off: not enrolled",
    "dormant": "Dormant: enrolled, but the brand does not allow 2FA, so no code is asked",
}


def open_user(email: str | None) -> None:
    """Open ``email`` (None: back to the search); a callback, which also closes any confirmation."""
    if email:
        st.query_params["user"] = email
    else:
        st.query_params.pop("user", None)
    st.session_state.pop("users_pending_reset", None)
    st.session_state.pop("users_revoke_pending", None)


def show(actor: Actor, url: str, email: str) -> None:
    """The mailbox ``email``, or a warning that there is none."""
    d = _ui.load(_reads.user, url, email)
    st.button("← Back to the search", key="users_back", on_click=open_user, args=(None,), type="tertiary")
    if d is None:
        st.warning(
            f"There is no mailbox {_ui.plain(repr(email))}. Search for it below.",
            icon=":material/search_off:",
        )
        return
    _summary(d)
    _reset_button(actor, d)
    _app_passwords.failures(_ui.load(_reads.failed_mail_sign_ins, url, d["email"]))
    _app_passwords.table(d)
    _app_passwords.revoke(actor, d)
    _user_activity.events(d)
    _user_activity.notices(url, d["email"])
    _reset_dialog.show_if_asked(url, d["email"])


def _summary(d: dict) -> None:
    st.subheader(_ui.plain(d["email"]))
    st.caption(
        f"{_ui.plain(d['display_name']) if d['display_name'] else 'No display name'} · {d['status']} · "
        f"created {_ui.when(d['created_at'])}"
    )
    _ui.flash("users_flash")
    c = st.columns([3, 2, 2])
    c[0].markdown(
        f"**Brand** {_ui.plain(d['brand'])} (from the {d['brand_source']})  \n**Domain** {_ui.plain(d['domain'])}",
        help="A user's brand is the first of the user's, the domain's and the company's brand.",
    )
    c[1].metric("2FA", d["twofa"].capitalize(), help=STATE_WORDS[d["twofa"]])
    c[1].caption(f"since {_ui.when(d['twofa_enrolled_at'])}" if d["twofa_enrolled_at"] else "not enrolled")
    c[2].metric("Live app passwords", f"{d['app_passwords_live']} of {MAX_PER_USER}")
    c[2].caption(f"last login {_ui.when(d['last_login_at'])}")


def _reset_button(actor: Actor, d: dict) -> None:
    """The "Disable 2FA…" button: it needs a role that may, and an enrolment to remove."""
    why_not = _ui.permission_help(actor, "user.reset_2fa") or (
        "Not enrolled: there is no 2FA to disable." if d["twofa"] == "off" else None
    )
    st.button(
        "Disable 2FA…",
        key="users_reset_open",
        icon=":material/phonelink_erase:",
        disabled=bool(why_not),
        help=why_not or "Removes the user's authenticator (e.g. after a lost phone) and tells the customer.",
        on_click=_reset_dialog.ask,
        args=(d["email"],),
    )
    if d["twofa"] == "dormant":
        st.caption(f"{_ui.plain(d['brand'])} does not allow 2FA: this enrolment is kept but not asked for.")
    elif d["twofa"] == "on" and d["allow_user_disable_2fa"]:
        st.caption(f"{_ui.plain(d['brand'])} lets users turn their own 2FA off too.")
