"""The console's screens, one a file: read widgets -> call core -> render.

``dashboard.py`` registers them with ``st.navigation``; each starts with ``_ui.require()``.
(Not ``pages/``: that name turns on Streamlit's legacy auto-discovery, which could run a
page without the entry point's sign-in gate.)

Modules
    ``_ui``        the guard (``require``), one write (``write``: the core's refusal comes back
                   as the ``CoreError`` itself, shown with ``error`` or ``flash``), the engine,
                   and text made safe for Markdown (``plain``, ``code``) and numbers and times.
    ``_reads``     every read the pages make, cached with ``st.cache_data`` (cleared by each
                   write), read through ``_ui.load``.
    ``_pickers``   the pickers several pages share: the brand list, the brand filter, the
                   brand a link names, a range of UTC days.
    ``_notices``   a customer notice in words, where notices go, and following one's delivery.
    ``overview``, ``brands``, ``users``, ``branding``, ``reports``, ``audit_log``,
    ``operators``  the screens.

Rules
    * No rule lives in a page: what a write may do, what a switch means, a reset's reason,
      who may drive the preview, a new operator's password and a report's window are core's.
    * A page shows a value from data, a file, the URL or another operator through
      ``_ui.plain`` (or an element that shows plain text), never as markup.
    * A cached read takes plain hashable arguments and never reads a widget.
"""
