"""Users: search mailboxes by any fragment, open one, reset its 2FA or revoke an app password.

Pages of results are keyed by address (``core.reporting.queries.search_users``' keyset pagination):
``users_stack`` holds the address each page starts after. The confirmation dialog of
"Disable 2FA" is opened on every run while ``users_pending_reset`` names the user (Streamlit
1.67: a dialog opened straight from ``if st.button`` cannot be driven by AppTest).

A customer notice's state changes in the sender's thread, which clears no page cache, so
the notices are read fresh on every run (``_reads.notices_for``/``notice``: one indexed
query each); after a reset the dialog follows its notice (``_notices.follow``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _notices, _pickers, _reads, _ui
from core.mailboxes import app_passwords, twofa
from core.platform.events import LABELS
from core.platform.models import RESET_REASONS
from core.reporting import queries

actor = _ui.require()
url = _ui.db_url()
PAGE_SIZE = 50
TWOFA = {"Any": None, "On": "on", "Off": "off", "Dormant": "dormant"}
APS = {"Any": None, "None": "none", "At least one": "some", "All four used": "max"}
STATUS = {"Any": None, "Active": "active", "Suspended": "suspended"}
STATE_WORDS = {
    "on": "On: asked for a code at every webmail login",
    "off": "Off: not enrolled",
    "dormant": "Dormant: enrolled, but the brand does not allow 2FA, so no code is asked",
}


# --- actions (callbacks: they run before the page, which then shows the new state) ---------


def _open(email: str | None) -> None:
    if email:
        st.query_params["user"] = email
    else:
        st.query_params.pop("user", None)
    st.session_state.pop("users_pending_reset", None)
    st.session_state.pop("users_pending_revoke", None)


def _pick(shown: list[str]) -> None:
    rows = st.session_state["users_table"].selection.rows
    if rows:
        _open(shown[rows[0]])


def _reset(email: str) -> None:
    result, error = _ui.write(
        twofa.reset,
        email=email,
        reason=st.session_state.get("users_reset_reason") or "",
        other=st.session_state.get("users_reset_other", ""),
    )
    st.session_state["users_pending_reset"] = {"email": email, "error": error, "result": result}


def _close_dialog() -> None:
    st.session_state.pop("users_pending_reset", None)


def _revoke(email: str, label: str) -> None:
    _, error = _ui.write(app_passwords.revoke, email=email, label=label)
    st.session_state.pop("users_pending_revoke", None)
    st.session_state["users_flash"] = (
        ("error", error) if error else ("success", f"Revoked the app password “{label}” of {email}.")
    )


@st.dialog("Disable 2FA", on_dismiss=_close_dialog)
def _reset_dialog(email: str) -> None:
    pending = st.session_state["users_pending_reset"]
    result: twofa.ResetResult | None = pending.get("result")
    if result:
        st.success(
            f"2FA is off for {_ui.plain(result.email)}. The customer is told:", icon=":material/check_circle:"
        )
        st.markdown(f"**{_ui.plain(result.notification_subject)}**")
        st.container(border=True).text(result.notification_body)
        st.caption(_notices.where_notices_go())
        if result.notification_id is not None:
            _notices.follow(url, result.notification_id)
        if st.button("Close", key="users_reset_close", type="primary"):
            _close_dialog()
            st.rerun()
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
        _close_dialog()
        st.rerun()


# --- one user --------------------------------------------------------------------------------


def _user_view(email: str) -> None:
    d = _ui.load(_reads.user, url, email)
    st.button("← Back to the search", key="users_back", on_click=_open, args=(None,), type="tertiary")
    if d is None:
        st.warning(
            f"There is no mailbox {_ui.plain(repr(email))}. Search for it below.",
            icon=":material/search_off:",
        )
        return
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
    c[2].metric("Live app passwords", f"{d['app_passwords_live']} of 4")
    c[2].caption(f"last login {_ui.when(d['last_login_at'])}")

    # Disable 2FA: needs a role that may, and an enrolment to remove.
    why_not = _ui.permission_help(actor, "user.reset_2fa") or (
        "Not enrolled: there is no 2FA to disable." if d["twofa"] == "off" else None
    )
    st.button(
        "Disable 2FA…",
        key="users_reset_open",
        icon=":material/phonelink_erase:",
        disabled=bool(why_not),
        help=why_not or "Removes the user's authenticator (e.g. after a lost phone) and tells the customer.",
        on_click=lambda: st.session_state.update(users_pending_reset={"email": d["email"]}),
    )
    if d["twofa"] == "dormant":
        st.caption(f"{_ui.plain(d['brand'])} does not allow 2FA: this enrolment is kept but not asked for.")
    elif d["twofa"] == "on" and d["allow_user_disable_2fa"]:
        st.caption(f"{_ui.plain(d['brand'])} lets users turn their own 2FA off too.")

    st.markdown("**App passwords**")
    aps = pd.DataFrame(d["app_passwords"])
    if aps.empty:
        st.caption("No app passwords. The user creates them in webmail.")
    else:
        st.dataframe(
            aps[["label", "created_at", "last_used_at", "state", "revoked_at"]],
            hide_index=True,
            key="users_aps",
            column_config={
                "created_at": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
                "last_used_at": st.column_config.DatetimeColumn("Last used (UTC)", format="YYYY-MM-DD HH:mm"),
                "revoked_at": st.column_config.DatetimeColumn("Revoked (UTC)", format="YYYY-MM-DD HH:mm"),
            },
        )
        if not d["allow_app_passwords"]:
            st.caption(
                f"{_ui.plain(d['brand'])} does not allow app passwords: live ones are suspended until it does."
            )
    live = [a["label"] for a in d["app_passwords"] if a["revoked_at"] is None]
    deny = _ui.permission_help(actor, "app_password.revoke")
    if live:
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
        if pending in live and not deny:
            st.warning(
                f"Revoke “{_ui.plain(pending)}” of {_ui.plain(d['email'])}? Mail apps using it stop signing in; "
                "the other app passwords keep working.",
                icon=":material/warning:",
            )
            a, b = st.columns(2)
            a.button(
                "Revoke it",
                key="users_revoke_confirm",
                type="primary",
                on_click=_revoke,
                args=(d["email"], pending),
            )
            b.button(
                "Keep it",
                key="users_revoke_cancel",
                on_click=lambda: st.session_state.pop("users_pending_revoke"),
            )

    st.markdown("**Recent audit events** (newest first, times in UTC)")
    if d["recent_events"]:
        events = pd.DataFrame(d["recent_events"])
        events["action"] = events["action"].map(lambda a: LABELS.get(a, a))
        st.dataframe(
            events,
            hide_index=True,
            key="users_events",
            column_config={"at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm")},
        )
    else:
        st.caption("Nothing recorded for this mailbox yet.")

    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.markdown("**Customer notices** (newest first, times in UTC)")
    right.button("Refresh", key="users_notices_refresh", icon=":material/refresh:", type="tertiary")
    notices = _ui.load(_reads.notices_for, url, d["email"])
    if notices:
        st.dataframe(
            pd.DataFrame(
                {
                    "Queued": [_ui.when(n["created_at"]) for n in notices],
                    "Subject": [n["subject"] for n in notices],
                    "State": [_notices.notice_state(n) for n in notices],
                }
            ),
            hide_index=True,
            key="users_notices",
        )
    else:
        st.caption("No notice has been queued for this mailbox.")
    st.caption(_notices.where_notices_go())

    pending = st.session_state.get("users_pending_reset")
    if pending and pending.get("email") == d["email"]:
        _reset_dialog(d["email"])


# --- the page --------------------------------------------------------------------------------

_ui.header(
    "Users", "Find a mailbox by any part of its address, then reset its 2FA or revoke an app password."
)
brands_list = _pickers.brands_or_stop(url)

wanted = st.query_params.get("user")
if wanted:
    _user_view(wanted)
    st.divider()

c = st.columns([3, 2, 2])
text = c[0].text_input(
    "Search", key="users_query", placeholder="any part of an address, e.g. ann@ or example.com"
)
brand = _pickers.brand_filter(c[1], brands_list, key="users_brand")
domain = c[2].text_input("Domain", key="users_domain", placeholder="exact domain, e.g. example.com")
c = st.columns(3)
state = c[0].selectbox("2FA", list(TWOFA), key="users_twofa")
aps = c[1].selectbox("App passwords", list(APS), key="users_aps_filter")
status = c[2].selectbox("Status", list(STATUS), key="users_status")
search = queries.UserSearch(
    text=text,
    brand=brand,
    domain=domain.strip() or None,
    twofa=TWOFA[state],
    app_passwords=APS[aps],
    status=STATUS[status],
)
# The Reports page exports "the current search": kept as plain values (widget keys are
# dropped when the page is left).
st.session_state["users_search"] = search
if st.session_state.get("users_stack_for") != search:
    st.session_state["users_stack_for"] = search
    st.session_state["users_stack"] = []
stack: list[str] = st.session_state["users_stack"]
rows = _ui.load(_reads.user_search, url, search, stack[-1] if stack else None, PAGE_SIZE)
total = _ui.load(_reads.user_count, url, search)

if not rows:
    st.info("No mailbox matches. Try a shorter fragment or fewer filters.", icon=":material/search_off:")
else:
    table = pd.DataFrame(rows)
    shown = table["email"].tolist()
    start = len(stack) * PAGE_SIZE
    st.caption(
        f"{_ui.num(total)} mailboxes match; showing {start + 1:,}–{start + len(rows):,}. "
        "Select a row to open the mailbox."
    )
    st.dataframe(
        table[
            ["email", "display_name", "brand", "domain", "status", "twofa", "app_passwords", "last_login_at"]
        ],
        hide_index=True,
        key="users_table",
        on_select=lambda: _pick(shown),
        selection_mode="single-row",
        column_config=_ui.column_config(
            ["email", "display_name", "brand", "domain", "status", "twofa", "app_passwords", "last_login_at"]
        ),
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
