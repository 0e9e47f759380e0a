"""A customer notice in words, where notices go, and the dialog's view of one notice.

A notice's state changes in the sender's thread, which clears no page cache, so a notice
is read fresh on every run (``_reads.notice``). ``follow`` shows one and looks again every
``POLL_SECONDS`` while it is queued and this server runs a sender; "Refresh" reads it again
at any time.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _reads, _ui
from core.notices import destination, sender
from core.platform.config import get_settings
from core.platform.errors import CoreError

POLL_SECONDS = 2


def notice_state(n: dict, *, markdown: bool = False) -> str:
    """A notice's state in words: queued / sending / sent at … / failed, attempt N, next retry at ….

    ``markdown``: for an element that renders Markdown (the error is the mail server's text).
    """
    if n["state"] == "sent":
        return f"sent at {_ui.when(n['sent_at'])}"
    if n["state"] == "failed":
        error = n["last_error"] or "none recorded"
        return (
            f"failed, attempt {n['attempts']}; next retry at {_ui.when(n['next_attempt_at'])} "
            f"(last error: {_ui.plain(error) if markdown else error})"
        )
    if n["state"] == "sending":
        return f"sending (attempt {n['attempts']})"
    return "queued"


def where_notices_go() -> str:
    """Markdown: where notices are delivered and what delivers them (names no secret)."""
    try:
        dest = destination.destination()
    except CoreError as exc:
        return f"Notices cannot be delivered: {_ui.plain(exc)}"
    if dest.transport == "smtp":
        where = f"Notices go to the SMTP server {_ui.code(f'{dest.host}:{dest.port}')}"
    else:
        where = f"Notices are written to {_ui.code(dest.outbox)} (no `SMTP_URL` set)"
    if sender.sender_running():
        who = "this server's sender delivers them within seconds"
    elif not get_settings().sender:
        who = "`MAC_SENDER` is off: they go out when `python -m core notify send` runs"
    else:
        who = "no sender runs in this process: they go out when `python -m core notify send` runs"
    return f"{where}; {who}."


def follow(url: str, notification_id: int) -> None:
    """The notice's state, followed every few seconds while it waits for this server's sender."""
    first = _ui.load(_reads.notice, url, notification_id)
    waiting = first is not None and first["state"] in ("queued", "sending")
    poll = POLL_SECONDS if waiting and sender.sender_running() else None
    st.fragment(_status, run_every=poll)(url, notification_id, polling=poll is not None)


def _status(url: str, notification_id: int, *, polling: bool) -> None:
    """The reset's notice: its state now, a Refresh, and (while polling) a new look every few s."""
    n = _ui.load(_reads.notice, url, notification_id)
    left, right = st.columns([3, 1], vertical_alignment="center")
    if n is None:
        left.markdown("**Notice:** not found")
        return
    left.markdown(f"**Notice:** {notice_state(n, markdown=True)}")
    right.button("Refresh", key="users_notice_refresh", icon=":material/refresh:")
    if polling and n["state"] not in ("queued", "sending"):
        st.rerun()  # delivered or failed: the whole page shows it, and the polling stops
