"""Branding: a brand's login CSS beside a live, sandboxed preview of its 2FA pop-up.

The editor and Save are ``_css_editor``'s, what the check found ``_css_report``'s, the
sandboxed preview ``_preview``'s and the demo mailbox that drives it ``_preview_drive``'s;
each says its decisions. Only CSS that ``core.brands.css.check.check_css`` accepts reaches
the preview.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _css_editor, _css_report, _pickers, _preview, _preview_drive, _reads, _ui

actor = _ui.require()
url = _ui.db_url()

_ui.header(
    "Branding",
    "A brand's CSS for its webmail login page, beside a sandboxed preview of the 2FA pop-up; "
    "checked before it is saved.",
)
names = _pickers.brands_or_stop(url)
name = _pickers.linked_brand(names, key="branding_pick")
loaded = _css_editor.loaded_brand(url, name)
_css_editor.status(url, name, loaded)

left, right = st.columns([5, 6], gap="large")  # the preview gets the room
with left:
    css = _css_editor.editor(url, name, loaded, _ui.permission_help(actor, "brand.css"))
    report = _ui.load(_reads.css_report, css)
    _css_report.show(report)
with right:
    drive = _preview_drive.current(name)
    _preview.show(name, report, loaded["css"], drive)
    _preview_drive.show(url, actor, name, drive)
