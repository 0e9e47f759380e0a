"""Brands: the switches of one brand with one Update (impact first), a bulk change, the history.

The switches are toggles outside a form so the impact in words follows each flip; the
version loaded with the brand is kept in ``brands_loaded`` and named on Update, so a
colleague's save in between is refused with what changed (optimistic concurrency, core).
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from app_pages import _pickers, _reads, _ui
from core.brands import switches
from core.brands.switches import SWITCH_LABELS, SWITCHES, SwitchChange
from core.platform.audit import AuditFilter
from core.platform.events import LABELS

actor = _ui.require()
url = _ui.db_url()
DENIED = _ui.permission_help(actor, "brand.update")


def _load(name: str) -> None:
    """Read the brand fresh (no cache: its version must be the stored one) into the form."""
    with _ui.reading(url) as s:
        d = switches.brand_detail(s, name)
    st.session_state["brands_loaded"] = {
        "name": d["name"],
        "version": d["version"],
        "switches": {k: d[k] for k in SWITCHES},
    }
    for k in SWITCHES:
        st.session_state[f"brands_sw_{k}"] = d[k]


def _select(shown: list[str]) -> None:
    rows = st.session_state["brands_table"].selection.rows
    if rows:
        st.query_params["brand"] = shown[rows[0]]


def _update(name: str, version: int, change: SwitchChange) -> None:
    _, error = _ui.write(switches.set_switches, name=name, change=change, expected_version=version)
    if error:
        st.session_state["brands_flash"] = ("error", error)
        return
    _load(name)
    st.session_state["brands_flash"] = ("success", f"{name} updated.")


def _bulk(names: list[str], change: SwitchChange, versions: dict[str, int]) -> None:
    _, error = _ui.write(switches.bulk_set_switches, names=names, change=change, expected_versions=versions)
    if error:
        st.session_state["brands_bulk_flash"] = ("error", f"Nothing was changed. {error}")
        return
    st.session_state.pop("brands_loaded", None)
    st.session_state["brands_bulk_flash"] = ("success", f"Updated {len(names)} brands.")


_ui.header(
    "Brands", "Each brand's 2FA and app-password switches, applied to the whole brand with one Update."
)
rows = _ui.load(_reads.brands, url)
if not rows:
    st.info(_ui.NO_DATA, icon=":material/database:")
    st.stop()
names = [r["name"] for r in rows]

# --- the table -------------------------------------------------------------------------------
find = st.text_input("Find a brand", key="brands_find", placeholder="any part of the name")
table = pd.DataFrame(rows)
if find.strip():
    table = table[table["name"].str.contains(find.strip(), case=False, regex=False)]
columns = {
    "name": "Brand",
    "allow_2fa": "2FA allowed",
    "allow_user_disable_2fa": "Users may disable 2FA",
    "allow_app_passwords": "App passwords allowed",
    "users": "Users",
    "pct_2fa": "2FA %",
    "pct_app_passwords": "App passwords %",
}
st.dataframe(
    table[list(columns)].rename(columns=columns),
    hide_index=True,
    key="brands_table",
    on_select=partial(_select, table["name"].tolist()),
    selection_mode="single-row",
    column_config={
        "Users": st.column_config.NumberColumn(format="localized"),
        "2FA %": st.column_config.ProgressColumn(format="%.1f %%", min_value=0, max_value=100),
        "App passwords %": st.column_config.ProgressColumn(format="%.1f %%", min_value=0, max_value=100),
    },
)
st.caption(f"{len(table):,} of {len(rows):,} brands. Select a row to open the brand.")

# --- one brand -------------------------------------------------------------------------------
name = _pickers.linked_brand(names, key="brands_pick")
loaded = st.session_state.get("brands_loaded")
if not loaded or loaded["name"] != name or any(f"brands_sw_{k}" not in st.session_state for k in SWITCHES):
    _ui.load(_load, name)
    loaded = st.session_state["brands_loaded"]
detail = _ui.load(_reads.brand, url, name)

st.subheader(f"{_ui.plain(name)}: Services & Settings")
st.caption(
    f"Version {loaded['version']} · {_ui.num(detail['users'])} active users · "
    f"last changed {_ui.when(detail['updated_at'])}"
    + (f" by {_ui.plain(detail['updated_by'])}" if detail["updated_by"] else "")
)
_ui.flash("brands_flash")
with st.container(border=True):
    st.toggle(SWITCH_LABELS["allow_2fa"], key="brands_sw_allow_2fa", disabled=bool(DENIED), help=DENIED)
    form = {k: st.session_state[f"brands_sw_{k}"] for k in SWITCHES}  # the toggles as they stand
    inert = switches.inert_switches(form).get("allow_user_disable_2fa")
    st.toggle(
        SWITCH_LABELS["allow_user_disable_2fa"],
        key="brands_sw_allow_user_disable_2fa",
        disabled=bool(DENIED or inert),
        help=DENIED or inert,
    )
    if inert:
        st.caption(inert)
    st.toggle(
        SWITCH_LABELS["allow_app_passwords"],
        key="brands_sw_allow_app_passwords",
        disabled=bool(DENIED),
        help=DENIED,
    )
    change = switches.form_change(loaded["switches"], form)
    if change.as_dict():
        for sentence in _ui.load(_reads.impact, url, name, change):
            st.markdown(f"- {_ui.plain(sentence)}")
    else:
        st.caption("Flip a switch to see what the change would do before you apply it.")
    st.button(
        "Update",
        type="primary",
        key="brands_update",
        disabled=bool(DENIED) or not change.as_dict(),
        help=DENIED or "Applies the switches to the whole brand at once.",
        on_click=_update,
        args=(name, loaded["version"], change),
    )
    st.button("Reload the brand", key="brands_reload", on_click=_load, args=(name,), type="tertiary")

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

# --- bulk change -----------------------------------------------------------------------------
st.subheader("Bulk change")
st.caption("The same switches on several brands at once: all of them change, or none.")
_ui.flash("brands_bulk_flash")
chosen = st.multiselect("Brands", names, key="brands_bulk_names", disabled=bool(DENIED), help=DENIED)
cols = st.columns(3)
setting = {}
for col, k in zip(cols, SWITCHES, strict=True):
    pick = col.selectbox(
        SWITCH_LABELS[k], ["Leave as is", "On", "Off"], key=f"brands_bulk_{k}", disabled=bool(DENIED)
    )
    setting[k] = None if pick == "Leave as is" else pick == "On"
bulk_change = SwitchChange(**setting)
if chosen and bulk_change.as_dict():
    for b in chosen:
        st.markdown(
            f"**{_ui.plain(b)}**: " + _ui.plain(" ".join(_ui.load(_reads.impact, url, b, bulk_change)))
        )
versions = {r["name"]: r["version"] for r in rows if r["name"] in chosen}
st.button(
    f"Apply to {len(chosen)} brands" if chosen else "Apply",
    key="brands_bulk_apply",
    type="primary",
    disabled=bool(DENIED) or not chosen or not bulk_change.as_dict(),
    help=DENIED or "Pick brands and at least one switch to set.",
    on_click=_bulk,
    args=(chosen, bulk_change, versions),
)
