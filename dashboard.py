"""The MAC Security Console's entry point: page config, the sign-in gate, the pages by role.

``make run`` starts it (directly or through ``server.py``, which adds the sign-in routes).
Every page in ``app_pages/`` also starts with the same guard (``app_pages._ui.require``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages import _ui

HERE = Path(__file__).resolve().parent

st.set_page_config(
    page_title="MAC Security Console",
    page_icon=":material/shield_lock:",
    layout="wide",
    initial_sidebar_state="expanded",
)

actor = _ui.require(touch=True)
_ui.sidebar(actor)


def page(path: str, title: str, icon: str, **kwargs) -> st.Page:
    return st.Page(path, title=title, icon=icon, **kwargs)


# Grouped by task. Every read page is offered to every role; write controls inside a page
# are disabled for a role that may not use them (the core refuses them anyway).
manage = [
    page("app_pages/brands.py", "Brands", ":material/tune:"),
    page("app_pages/users.py", "Users", ":material/person_search:"),
]
if (HERE / "app_pages/branding.py").exists():
    manage.append(page("app_pages/branding.py", "Branding", ":material/palette:"))
sections = {
    "Monitor": [page("app_pages/overview.py", "Overview", ":material/monitoring:", default=True)],
    "Manage": manage,
    "Report": [
        page("app_pages/reports.py", "Reports", ":material/download:"),
        page("app_pages/audit_log.py", "Audit log", ":material/history:"),
    ],
}
if (HERE / "app_pages/operators.py").exists() and actor.can("operator.manage"):
    sections["Administer"] = [page("app_pages/operators.py", "Operators", ":material/admin_panel_settings:")]

st.navigation(sections).run()
