"""Branding: a brand's login CSS beside a live, sandboxed preview of its 2FA pop-up.

Decisions, for the next reader:

* The preview is an ``st.iframe`` whose ``src`` is a ``data:text/html;base64,...`` URL
  (``core.brands.login_page.preview_data_url``): a data: document has an opaque origin, so even
  if something got past the checks it could not reach the dashboard, and its first element
  is a Content-Security-Policy that allows inline styles and data: images and fonts only
  (nothing from any host, https included). Never an HTML string (``components.html`` /
  ``st.iframe("<html>")``): that iframe is same-origin with scripts allowed.
* Only CSS that ``core.brands.css.check.check_css`` accepts reaches the preview. While the editor holds
  refused CSS, the preview shows the saved CSS and says so.
* The editor is checked on every run (the check is cached by text): the findings under it
  always describe what is in it. "Check" is there for people who expect a button; it runs
  the same check and says the outcome in a toast.
* "Load starter template" takes one click when nothing unsaved would be lost (the editor is
  empty or holds the saved CSS, which "Revert" brings back); over unsaved edits it asks first.
* Save goes through ``core.brands.switches.save_css`` with the version loaded with the brand
  (``branding_loaded``), so a colleague's save in between is refused (optimistic
  concurrency) and offered as a "Reload". The core stores the CSS re-serialized (comments
  dropped), and the editor then shows exactly what was stored.
* "Drive the preview" checks a code against the brand's demo mailbox
  (``core.brands.preview_mailbox``: ``preview@<brand>.invalid``, no ``users`` row), never a
  customer's: a wrong code throttles nobody and a right one uses up nobody's code. The page
  names the mailbox and shows its current code. Who may drive it is core's
  (``preview_mailbox.drive``); the page disables Verify for the other roles.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _pickers, _reads, _ui
from core.brands import preview_mailbox, switches
from core.brands.css.colour import WCAG_AA_NORMAL_TEXT
from core.brands.css.report import CssRejected, CssReport
from core.brands.css.starter import STARTER_TEMPLATE
from core.platform.errors import Conflict, CoreError

actor = _ui.require()
url = _ui.db_url()
DENIED = _ui.permission_help(actor, "brand.css")
DRIVE_DENIED = _ui.permission_help(actor, preview_mailbox.DRIVE)
WIDTHS = {"Desktop": "stretch", "Phone": 390}  # 390 CSS px: a common phone viewport
PREVIEW_HEIGHT = 600


# --- actions (callbacks: they run before the page, which then shows the new state) ---------


def _load(name: str, note: str | None = None) -> None:
    """Read the brand fresh (its version must be the stored one) into the editor."""
    with _ui.reading(url) as s:
        brand = switches.get_brand(s, name)
        loaded = {"name": brand.name, "version": brand.version, "css": brand.custom_login_css or ""}
    st.session_state["branding_loaded"] = loaded
    st.session_state["branding_css"] = loaded["css"]
    for key in ("branding_conflict", "branding_pending_starter"):
        st.session_state.pop(key, None)
    if note:
        st.session_state["branding_flash"] = ("success", note.format(**loaded))


def _starter(confirmed: bool = False) -> None:
    editor = st.session_state.get("branding_css", "")
    saved = st.session_state["branding_loaded"]["css"]
    if not confirmed and editor.strip() and editor != saved:
        st.session_state["branding_pending_starter"] = True  # unsaved edits: ask first
        return
    st.session_state["branding_css"] = STARTER_TEMPLATE
    st.session_state.pop("branding_pending_starter", None)


def _check_now() -> None:
    report = _reads.css_report(st.session_state.get("branding_css", ""))
    if report.errors:
        text = f"Refused: {_ui.rows(len(report.errors), 'error')}; each is listed under the editor."
    elif report.warnings:
        text = f"Storable, with {_ui.rows(len(report.warnings), 'warning')} listed under the editor."
    else:
        text = "No problems found: this CSS can be saved."
    st.session_state["branding_check_toast"] = text


def _save(name: str, version: int) -> None:
    css = st.session_state.get("branding_css", "")
    result, error = _ui.write(switches.save_css, name=name, css=css, expected_version=version)
    if isinstance(error, Conflict):
        st.session_state["branding_conflict"] = error
        return
    if isinstance(error, CssRejected):
        st.session_state["branding_flash"] = (
            "error",
            f"Not saved: the CSS was refused with {_ui.rows(len(error.report.errors), 'error')}, "
            "each listed under the editor with its line. Nothing was stored.",
        )
        return
    if error:
        st.session_state["branding_flash"] = ("error", f"Not saved. {error}")
        return
    brand, warnings = result
    stored_css = brand.custom_login_css or ""
    st.session_state["branding_loaded"] = {"name": brand.name, "version": brand.version, "css": stored_css}
    st.session_state["branding_css"] = stored_css
    st.session_state.pop("branding_conflict", None)
    if brand.version == version:  # the core found it equal to the saved CSS once re-serialized
        text = "Nothing to save: apart from comments and spacing, this is the saved CSS."
        st.session_state["branding_flash"] = ("success", text)
        return
    text = f"Saved the login CSS of {brand.name} (version {brand.version})."
    if stored_css != css:
        text += " It is stored as the checker wrote it back out (comments dropped), as the editor now shows."
    if warnings:
        text += f" {_ui.rows(len(warnings), 'warning')} to look at below."
    st.session_state["branding_flash"] = ("success", text)


def _verify(mailbox: preview_mailbox.PreviewMailbox) -> None:
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


def _prompt_again() -> None:
    st.session_state.pop("branding_drive", None)


# --- render helpers --------------------------------------------------------------------------


def _findings_table(report: CssReport) -> None:
    """Every finding next to its line, errors first (a static table: long messages wrap)."""
    if not report.findings:
        st.caption(":material/check_circle: No problems found.")
        return
    ordered = sorted(report.findings, key=lambda f: (f.level != "error", f.line, f.column))
    table = pd.DataFrame(
        [
            {
                "Line": f.line,
                "Level": "Error" if f.level == "error" else "Warning",
                "Rule": _ui.plain(f.rule),
                # st.table renders Markdown, and a message quotes the CSS.
                "Message": _ui.plain(f.message),
            }
            for f in ordered
        ]
    )
    st.table(table, hide_index=True)


def _contrast_table(report: CssReport) -> None:
    if not report.contrast:
        st.caption(
            "The CSS sets no text or background colour of the pop-up, so there is no contrast to check."
        )
        return
    table = pd.DataFrame(
        [
            {
                "Part": _ui.plain(c.selector),
                "Colours": _ui.plain(f"{c.fg} on {c.bg}"),
                "Ratio": f"{c.ratio:.2f}:1",
                f"AA ({WCAG_AA_NORMAL_TEXT:g}:1)": "Pass" if c.passes_aa else "Fail",
            }
            for c in report.contrast
        ]
    )
    st.table(table, hide_index=True)


def _preview_src(name: str, css: str, state: str, dark: bool, message: str | None) -> tuple[str, str | None]:
    """The data: URL of the preview, and a note when it could not use ``css``."""
    try:
        return _reads.preview_url(name, css, state, dark, message), None
    except CssRejected:  # the saved CSS fails checks added since it was stored
        note = "The saved CSS fails today's checks too; the preview shows the page without brand CSS."
        return _reads.preview_url(name, "", state, dark, message), note


# --- the page --------------------------------------------------------------------------------

_ui.header(
    "Branding",
    "A brand's CSS for its webmail login page, beside a sandboxed preview of the 2FA pop-up; "
    "checked before it is saved.",
)
names = _pickers.brands_or_stop(url)
name = _pickers.linked_brand(names, key="branding_pick")

loaded = st.session_state.get("branding_loaded")
if not loaded or loaded["name"] != name or "branding_css" not in st.session_state:
    st.session_state.pop("branding_drive", None)
    _ui.load(_load, name)
    loaded = st.session_state["branding_loaded"]

st.caption(
    f"Version {loaded['version']} · "
    + (
        "saved CSS: " + _ui.rows(len(loaded["css"].splitlines()), "line")
        if loaded["css"]
        else "no CSS saved yet"
    )
)
_ui.flash("branding_flash")
toast = st.session_state.pop("branding_check_toast", None)
if toast:
    st.toast(toast, icon=":material/fact_check:")
conflict = st.session_state.get("branding_conflict")
if conflict:
    with st.container(border=True):
        _ui.error(conflict, icon=":material/sync_problem:")
        st.caption(
            "Reload puts the saved CSS in the editor: copy your changes first if you want to keep them."
        )
        st.button(
            "Reload",
            key="branding_reload",
            type="primary",
            icon=":material/refresh:",
            on_click=_load,
            args=(name, "Reloaded {name}: version {version}."),
        )

left, right = st.columns([5, 6], gap="large")  # the preview gets the room

# --- left: the editor and its findings -------------------------------------------------------
with left:
    st.text_area(
        "CSS",
        key="branding_css",
        height=380,
        placeholder="No CSS yet. Load the starter template to begin.",
        help="Styles the 2FA pop-up through `#login-form .box-inner .modal` and "
        "`#login-form .box-inner .modalheader`. Press Ctrl+Enter (or click Check) to apply.",
    )
    css = st.session_state.get("branding_css", "")
    report = _ui.load(_reads.css_report, css)
    unsaved = css != loaded["css"]
    bar = st.container(horizontal=True, gap="small")  # natural widths, wrapping when narrow
    bar.button(
        "Load starter template",
        key="branding_starter",
        icon=":material/note_add:",
        on_click=_starter,
        help="Fills the editor with a template that uses the two selectors; nothing is saved until Save.",
    )
    bar.button("Check", key="branding_check", icon=":material/fact_check:", on_click=_check_now)
    bar.button(
        "Save",
        key="branding_save",
        type="primary",
        icon=":material/save:",
        disabled=bool(DENIED) or not unsaved,
        help=DENIED or (None if unsaved else "Nothing to save: the editor holds the saved CSS."),
        on_click=_save,
        args=(name, loaded["version"]),
    )
    bar.button(
        "Revert",
        key="branding_revert",
        icon=":material/undo:",
        disabled=not unsaved,
        help="Puts the saved CSS back in the editor." if unsaved else "The editor holds the saved CSS.",
        on_click=_load,
        args=(name, "Restored the saved CSS of {name} (version {version})."),
    )
    if st.session_state.get("branding_pending_starter"):
        with st.container(border=True):
            st.warning(
                "Replace the CSS in the editor with the starter template? Your unsaved changes will be lost.",
                icon=":material/warning:",
            )
            c1, c2 = st.columns(2)
            c1.button(
                "Replace", key="branding_starter_confirm", type="primary", on_click=_starter, args=(True,)
            )
            c2.button(
                "Keep my CSS",
                key="branding_starter_cancel",
                on_click=lambda: st.session_state.pop("branding_pending_starter", None),
            )
    if unsaved:
        st.caption(":material/edit: Unsaved changes.")
    if not report.ok:
        st.error(
            f"Refused: {_ui.rows(len(report.errors), 'error')}. This CSS cannot be saved or previewed "
            "until each is fixed.",
            icon=":material/block:",
        )
    st.markdown("**Findings** (errors first)")
    _findings_table(report)
    st.markdown("**Contrast of the pop-up's text** (WCAG 2.x AA asks for 4.5:1)")
    _contrast_table(report)

# --- right: the preview and the drive ----------------------------------------------------------
with right:
    st.session_state.setdefault("branding_width", "Desktop")
    c1, c2 = st.columns(2)
    c1.segmented_control("Width", list(WIDTHS), key="branding_width", required=True)
    c2.toggle("Dark page background", key="branding_dark")
    drive = st.session_state.get("branding_drive")
    if drive and drive["brand"] != name:
        drive = None
    state = drive["state"] if drive else "prompt"
    message = drive["message"] if drive else None
    dark = bool(st.session_state.get("branding_dark"))
    if report.ok:
        src, note = _preview_src(name, report.css, state, dark, message)
    else:
        src, note = _preview_src(name, loaded["css"], state, dark, message)
        note = note or (
            "The CSS in the editor is refused: the preview shows the saved CSS."
            if loaded["css"]
            else "The CSS in the editor is refused: the preview shows the page without brand CSS "
            "(none is saved yet)."
        )
    if note:
        st.info(note, icon=":material/visibility:")
    st.iframe(
        src,
        width=WIDTHS.get(st.session_state.get("branding_width") or "Desktop", "stretch"),
        height=PREVIEW_HEIGHT,
        alt=f"Preview of the {name} webmail login page with the 2FA pop-up open",
    )
    st.caption(
        "The login page as the brand's customers see it, with the 2FA pop-up open. "
        "The preview runs no script and loads nothing from outside the page: "
        "images and fonts only from inline data: URLs."
    )

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
            "30 seconds). Codes are checked as at a webmail login, against this mailbox only: "
            "no customer's sign-in is touched."
        )
        with st.form("branding_drive_form", border=False, enter_to_submit=True):
            f1, f2 = st.columns([2, 1], vertical_alignment="bottom")
            f1.text_input(
                "6-digit code",
                key="branding_code",
                max_chars=6,
                placeholder="123456",
                disabled=bool(DRIVE_DENIED),
            )
            f2.form_submit_button(
                "Verify",
                on_click=_verify,
                args=(demo,),
                disabled=bool(DRIVE_DENIED),
                help=DRIVE_DENIED,
                width="stretch",
            )
    if drive:
        icon = ":material/check_circle:" if drive["state"] == "success" else ":material/error:"
        st.caption(f"{icon} Preview state: {drive['state']}. {_ui.plain(drive['note'])}")
        st.button("Back to the prompt", key="branding_prompt", on_click=_prompt_again, type="tertiary")
