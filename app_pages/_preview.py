"""The Branding page's sandboxed preview of a brand's webmail login page, 2FA pop-up open.

The preview is an ``st.iframe`` whose ``src`` is a ``data:text/html;base64,...`` URL
(``core.brands.login_page.preview_data_url``): a data: document has an opaque origin, so even
if something got past the checks it could not reach the dashboard, and its first element is
a Content-Security-Policy that allows inline styles and data: images and fonts only (nothing
from any host, https included). Never an HTML string (``components.html`` /
``st.iframe("<html>")``): that iframe is same-origin with scripts allowed.

Only CSS that ``core.brands.css.check.check_css`` accepts reaches the preview: while the
editor holds refused CSS, the preview shows the saved CSS and says so.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _reads
from core.brands.css.report import CssRejected, CssReport

WIDTHS = {"Desktop": "stretch", "Phone": 390}  # 390 CSS px: a common phone viewport
HEIGHT = 600


def _src(name: str, css: str, state: str, dark: bool, message: str | None) -> tuple[str, str | None]:
    """The data: URL of the preview, and a note when it could not use ``css``."""
    try:
        return _reads.preview_url(name, css, state, dark, message), None
    except CssRejected:  # the saved CSS fails checks added since it was stored
        note = "The saved CSS fails today's checks too; the preview shows the page without brand CSS."
        return _reads.preview_url(name, "", state, dark, message), note


def show(name: str, report: CssReport, saved_css: str, drive: dict | None) -> None:
    """The width and background controls, then the preview of the editor's CSS when it is
    accepted (else of ``saved_css``), in the state ``drive`` left it in (else the prompt)."""
    st.session_state.setdefault("branding_width", "Desktop")
    c1, c2 = st.columns(2)
    c1.segmented_control("Width", list(WIDTHS), key="branding_width", required=True)
    c2.toggle("Dark page background", key="branding_dark")
    state = drive["state"] if drive else "prompt"
    message = drive["message"] if drive else None
    dark = bool(st.session_state.get("branding_dark"))
    if report.ok:
        src, note = _src(name, report.css, state, dark, message)
    else:
        src, note = _src(name, saved_css, state, dark, message)
        note = note or (
            "The CSS in the editor is refused: the preview shows the saved CSS."
            if saved_css
            else "The CSS in the editor is refused: the preview shows the page without brand CSS "
            "(none is saved yet)."
        )
    if note:
        st.info(note, icon=":material/visibility:")
    st.iframe(
        src,
        width=WIDTHS.get(st.session_state.get("branding_width") or "Desktop", "stretch"),
        height=HEIGHT,
        alt=f"Preview of the {name} webmail login page with the 2FA pop-up open",
    )
    st.caption(
        "The login page as the brand's customers see it, with the 2FA pop-up open. "
        "The preview runs no script and loads nothing from outside the page: "
        "images and fonts only from inline data: URLs."
    )
