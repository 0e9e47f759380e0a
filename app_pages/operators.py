"""Operators (administrators only): list, add, change a role, reset an authenticator, deactivate;
and the mail servers' tokens.

The table and the forms are ``_operator_forms``'; each change is confirmed in
``_operator_confirm``'s dialog, then made by a ``core.access.operators`` service, which
checks the role again and keeps the last active administrator (it cannot be deactivated or
demoted). A new operator's one-time password is core's, shown once. "Mail servers" is
``_mail_tokens``': the tokens Dovecot presents to ``POST /api/mail-auth``.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _mail_tokens, _operator_confirm, _operator_forms, _reads, _ui

actor = _ui.require("operator.manage")
url = _ui.db_url()

_ui.header("Operators", "Who may sign in to the console, and what their role lets them do.")
_ui.flash("operators_flash")

rows = _ui.load(_reads.operators, url)
if rows:
    _operator_forms.table(rows)
    _operator_forms.change(rows)
else:
    st.info("No operators yet.", icon=":material/group:")
_operator_forms.add()
_operator_confirm.show_if_asked(actor)
_mail_tokens.section(actor, url)
