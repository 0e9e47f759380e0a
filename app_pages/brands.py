"""Brands: the switches of one brand with one Update (impact first), a bulk change, the history.

The table is ``_brand_table``'s, one brand's switches ``_brand_switches``', the bulk change
``_brand_bulk``'s; what a switch means and what a change does are core's.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _brand_bulk, _brand_switches, _brand_table, _pickers, _reads, _ui
from core.platform.audit import AuditFilter
from core.platform.events import LABELS

actor = _ui.require()
url = _ui.db_url()
denied = _ui.permission_help(actor, "brand.update")

_ui.header(
    "Brands", "Each brand's 2FA and app-password switches, applied to the whole brand with one Update."
)
rows = _ui.load(_reads.brands, url)
if not rows:
    st.info(_ui.NO_DATA, icon=":material/database:")
    st.stop()
_brand_table.show(rows)

name = _pickers.linked_brand([r["name"] for r in rows], key="brands_pick")
loaded = _brand_switches.loaded_brand(url, name)
detail = _ui.load(_reads.brand, url, name)
st.subheader(f"{_ui.plain(name)}: Services & Settings")
st.caption(
    f"Version {loaded['version']} · {_ui.num(detail['users'])} active users · "
    f"last changed {_ui.when(detail['updated_at'])}"
    + (f" by {_ui.plain(detail['updated_by'])}" if detail["updated_by"] else "")
)
_ui.flash("brands_flash")
_brand_switches.show(url, name, loaded, denied)

st.markdown("**History of this brand** (newest first, times in UTC)")
history = _ui.load(_reads.audit_events, url, AuditFilter(brand=name), 20)
if history:
    h = pd.DataFrame(history)
    h["action"] = h["action"].map(lambda a: LABELS.get(a, a))
    st.dataframe(
        h[["at", "actor", "action", "before", "after", "reason"]], hide_index=True, key="brands_history"
    )
else:
    st.caption("No change recorded for this brand yet.")

_brand_bulk.show(url, rows, denied)
