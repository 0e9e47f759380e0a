"""Users: search mailboxes by any fragment, open one, reset its 2FA or revoke an app password.

The open mailbox is ``_user_detail``'s (its app passwords ``_app_passwords``', the "Disable
2FA" dialog ``_reset_dialog``'s, its events and notices ``_user_activity``'s); the page of
results ``_user_results``'. The search is kept as plain values in ``users_search`` for the
Reports page's "current search" download (widget keys are dropped when the page is left).
"""

from __future__ import annotations

import streamlit as st

from app_pages import _pickers, _ui, _user_detail, _user_results
from core.mailboxes.app_passwords import MAX_PER_USER
from core.reporting.search_query import UserSearch

actor = _ui.require()
url = _ui.db_url()
TWOFA = {"Any": None, "On": "on", "Off": "off", "Dormant": "dormant"}
APS = {"Any": None, "None": "none", "At least one": "some", f"All {MAX_PER_USER} used": "max"}
STATUS = {"Any": None, "Active": "active", "Suspended": "suspended"}

_ui.header(
    "Users", "Find a mailbox by any part of its address, then reset its 2FA or revoke an app password."
)
brands_list = _pickers.brands_or_stop(url)

wanted = st.query_params.get("user")
if wanted:
    _user_detail.show(actor, url, wanted)
    st.divider()

c = st.columns([3, 2, 2])
text = c[0].text_input(
    "Search", key="users_query", placeholder="any part of an address, e.g. ann@ or example.com"
)
brand = _pickers.brand_filter(c[1], brands_list, key="users_brand")
domain = c[2].text_input("Domain", key="users_domain", placeholder="exact domain, e.g. example.com")
c = st.columns(3)
state = c[0].selectbox("2FA", list(TWOFA), key="users_twofa")
aps = c[1].selectbox("App passwords", list(APS), key="users_aps_filter")
status = c[2].selectbox("Status", list(STATUS), key="users_status")
search = UserSearch(
    text=text,
    brand=brand,
    domain=domain.strip() or None,
    twofa=TWOFA[state],
    app_passwords=APS[aps],
    status=STATUS[status],
)
st.session_state["users_search"] = search
_user_results.show(url, search)
