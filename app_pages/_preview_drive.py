"""Drive the Branding preview: a code checked against the brand's demo mailbox, never a customer's.

The demo mailbox (``core.brands.preview_mailbox``: ``preview@<brand>.invalid``, no ``users``
row) takes the codes: a wrong one throttles nobody and a right one uses up nobody's code.
The section names the mailbox and shows its current code. Who may drive it is core's
(``preview_mailbox.drive``); Verify is disabled for the other roles. The outcome is kept in
``branding_drive`` for the preview to show.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _reads, _ui
from core.access.permissions import Actor
from core.brands import preview_mailbox
from core.platform.errors import CoreError
from core.platform.totp import STEP_SECONDS


def current(name: str) -> dict | None:
    """The outcome of the last code tried on ``name``'s preview (None: the prompt)."""
    drive = st.session_state.get("branding_drive")
    return drive if drive and drive["brand"] == name else None


def _verify(actor: Actor, mailbox: preview_mailbox.PreviewMailbox) -> None:
    code = st.session_state.get("branding_code", "")
    st.session_state["branding_code"] = ""
    try:
        outcome = preview_mailbox.drive(mailbox, actor=actor, code=code)  # reads and writes nothing
    except CoreError as exc:
        st.session_state["branding_flash"] = ("error", exc)
        return
    st.session_state["branding_drive"] = {
        "brand": mailbox.brand,
        "state": "success" if outcome.ok else "error",
        "note": f"{mailbox.address} ({preview_mailbox.NOT_A_CUSTOMER}): {outcome.message}",
        # The platform's own sentence for a refused code; success keeps the pop-up's text.
        "message": None if outcome.ok else outcome.message,
    }


def show(url: str, actor: Actor, name: str, drive: dict | None) -> None:
    """The demo mailbox and its code, the code form, and the last outcome with "Back to the prompt"."""
    denied = _ui.permission_help(actor, preview_mailbox.DRIVE)
    st.markdown("**Drive the preview**")
    demo = _ui.load(_reads.demo_mailbox, url, name)
    if not demo.asks_for_code:
        st.caption(
            f"2FA is off for {_ui.plain(name)}: its users are never asked for a code, so there is nothing to "
            "verify. Turn on “Allow two-factor auth (2FA)” on the Brands page to try it."
        )
    else:
        st.caption(
            f"Driving {_ui.code(demo.address)}, the {preview_mailbox.NOT_A_CUSTOMER} of {_ui.plain(name)}. "
            f"Its current code is **{preview_mailbox.current_code(demo)}** (it changes every "
            f"{STEP_SECONDS} seconds). Codes are checked as at a webmail login, against this mailbox only: "
            "no customer's sign-in is touched."
        )
        with st.form("branding_drive_form", border=False, enter_to_submit=True):
            f1, f2 = st.columns([2, 1], vertical_alignment="bottom")
            f1.text_input(
                "6-digit code", key="branding_code", max_chars=6, placeholder="123456", disabled=bool(denied)
            )
            f2.form_submit_button(
                "Verify",
                on_click=_verify,
                args=(actor, demo),
                disabled=bool(denied),
                help=denied,
                width="stretch",
            )
    if drive:
        icon = ":material/check_circle:" if drive["state"] == "success" else ":material/error:"
        st.caption(f"{icon} Preview state: {drive['state']}. {_ui.plain(drive['note'])}")
        st.button(
            "Back to the prompt",
            key="branding_prompt",
            on_click=lambda: st.session_state.pop("branding_drive", None),
            type="tertiary",
        )
