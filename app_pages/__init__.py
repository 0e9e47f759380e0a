"""The console's screens, one a file: read widgets -> call core -> render.

``dashboard.py`` registers them with ``st.navigation``; each starts with ``_ui.require()``.
(Not ``pages/``: that name turns on Streamlit's legacy auto-discovery, which could run a
page without the entry point's sign-in gate.)
"""
