"""The Branding page's editor: a brand's login CSS loaded with its version, its buttons, and Save.

* The editor holds the brand as loaded (``branding_loaded``: name, version, CSS); Save names
  that version (``core.brands.switches.save_css``), so a colleague's save in between is
  refused (optimistic concurrency) and offered as a "Reload". The core stores the CSS
  re-serialized (comments dropped), and the editor then shows exactly what was stored.
* "Check" runs the same check the editor gets on every run and says the outcome in a toast.
* "Load starter template" takes one click when nothing unsaved would be lost (the editor is
  empty or holds the saved CSS, which "Revert" brings back); over unsaved edits it asks first.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _reads, _ui
from core.brands import switches
from core.brands.css.report import CssRejected
from core.brands.css.starter import STARTER_TEMPLATE
from core.platform.errors import Conflict


def load(url: str, name: str, note: str | None = None) -> None:
    """Read the brand fresh (its version must be the stored one) into the editor."""
    loaded = _reads.brand_css_to_edit(url, name)
    st.session_state["branding_loaded"] = loaded
    st.session_state["branding_css"] = loaded["css"]
    for key in ("branding_conflict", "branding_pending_starter"):
        st.session_state.pop(key, None)
    if note:
        st.session_state["branding_flash"] = ("success", note.format(**loaded))


def loaded_brand(url: str, name: str) -> dict:
    """The brand in the editor: ``name`` as loaded, read again when another brand (or none) is."""
    loaded = st.session_state.get("branding_loaded")
    if not loaded or loaded["name"] != name or "branding_css" not in st.session_state:
        st.session_state.pop("branding_drive", None)
        _ui.load(load, url, name)
        loaded = st.session_state["branding_loaded"]
    return loaded


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


def status(url: str, name: str, loaded: dict) -> None:
    """The version line, the last action's message or toast, and a save refused as stale."""
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
                on_click=load,
                args=(url, name, "Reloaded {name}: version {version}."),
            )


def editor(url: str, name: str, loaded: dict, denied: str | None) -> str:
    """The CSS editor and its buttons (Save disabled with ``denied``); returns the editor's CSS."""
    st.text_area(
        "CSS",
        key="branding_css",
        height=380,
        placeholder="No CSS yet. Load the starter template to begin.",
        help="Styles the 2FA pop-up through `#login-form .box-inner .modal` and "
        "`#login-form .box-inner .modalheader`. Press Ctrl+Enter (or click Check) to apply.",
    )
    css = st.session_state.get("branding_css", "")
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
        disabled=bool(denied) or not unsaved,
        help=denied or (None if unsaved else "Nothing to save: the editor holds the saved CSS."),
        on_click=_save,
        args=(name, loaded["version"]),
    )
    bar.button(
        "Revert",
        key="branding_revert",
        icon=":material/undo:",
        disabled=not unsaved,
        help="Puts the saved CSS back in the editor." if unsaved else "The editor holds the saved CSS.",
        on_click=load,
        args=(url, name, "Restored the saved CSS of {name} (version {version})."),
    )
    if st.session_state.get("branding_pending_starter"):
        _confirm_starter()
    if unsaved:
        st.caption(":material/edit: Unsaved changes.")
    return css


def _confirm_starter() -> None:
    with st.container(border=True):
        st.warning(
            "Replace the CSS in the editor with the starter template? Your unsaved changes will be lost.",
            icon=":material/warning:",
        )
        c1, c2 = st.columns(2)
        c1.button("Replace", key="branding_starter_confirm", type="primary", on_click=_starter, args=(True,))
        c2.button(
            "Keep my CSS",
            key="branding_starter_cancel",
            on_click=lambda: st.session_state.pop("branding_pending_starter", None),
        )
