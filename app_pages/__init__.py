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

    A page's sections, each a module of render functions and the callbacks of its buttons
    (every write one call into core through ``_ui.write``):

    ``overview``   ``_adoption_charts`` (adoption per brand and over time), ``_at_risk``.
    ``brands``     ``_brand_table``, ``_brand_switches`` (one brand, Update), ``_brand_bulk``.
    ``users``      ``_user_results`` (a page of the search), ``_user_detail`` (one mailbox),
                   ``_app_passwords`` (its table, failed mail sign-ins, Revoke), ``_reset_dialog`` (Disable 2FA),
                   ``_user_activity`` (its audit events and notices).
    ``branding``   ``_css_editor`` (the editor, Save), ``_css_report`` (findings, contrast),
                   ``_preview`` (the sandboxed preview), ``_preview_drive`` (its demo mailbox).
    ``reports``    ``_download`` (a report's preview and download, the signed link).
    ``operators``  ``_operator_forms`` (table, change, add), ``_operator_confirm`` (the dialog),
                   ``_mail_tokens`` (the mail servers' tokens: list, create once, revoke).

    ``overview``, ``brands``, ``users``, ``branding``, ``reports``, ``audit_log``,
    ``operators``  the screens: title and pickers, one call per section, in tens of lines.

Rules
    * No rule lives in a page: what a write may do, what a switch means, a reset's reason,
      who may drive the preview, a new operator's password and a report's window are core's.
    * A page shows a value from data, a file, the URL or another operator through
      ``_ui.plain`` (or an element that shows plain text), never as markup.
    * A cached read takes plain hashable arguments and never reads a widget.
    * A section module renders and calls core; its words and limits are the screen's, and a
      rule it shows (a cap, a role's rights, a step) is named from core.
"""
