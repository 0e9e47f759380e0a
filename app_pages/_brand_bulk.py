"""The Brands page's bulk change: the same switches on several brands at once, all or none.

Each brand's version as listed is named on Apply (``switches.bulk_set_switches``), so a
brand changed in between makes the whole change refused, and nothing is changed.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _reads, _ui
from core.brands import switches
from core.brands.switches import SWITCH_LABELS, SWITCHES, SwitchChange

LEAVE = "Leave as is"


def _bulk(names: list[str], change: SwitchChange, versions: dict[str, int]) -> None:
    _, error = _ui.write(switches.bulk_set_switches, names=names, change=change, expected_versions=versions)
    if error:
        st.session_state["brands_bulk_flash"] = ("error", f"Nothing was changed. {error}")
        return
    st.session_state.pop("brands_loaded", None)
    st.session_state["brands_bulk_flash"] = ("success", f"Updated {len(names)} brands.")


def show(url: str, rows: list[dict], denied: str | None) -> None:
    """Pick brands and a setting per switch, see each brand's impact, then Apply."""
    st.subheader("Bulk change")
    st.caption("The same switches on several brands at once: all of them change, or none.")
    _ui.flash("brands_bulk_flash")
    names = [r["name"] for r in rows]
    chosen = st.multiselect("Brands", names, key="brands_bulk_names", disabled=bool(denied), help=denied)
    setting = {}
    for col, k in zip(st.columns(3), SWITCHES, strict=True):
        pick = col.selectbox(
            SWITCH_LABELS[k], [LEAVE, "On", "Off"], key=f"brands_bulk_{k}", disabled=bool(denied)
        )
        setting[k] = None if pick == LEAVE else pick == "On"
    change = SwitchChange(**setting)
    if chosen and change.as_dict():
        for b in chosen:
            st.markdown(
                f"**{_ui.plain(b)}**: " + _ui.plain(" ".join(_ui.load(_reads.impact, url, b, change)))
            )
    versions = {r["name"]: r["version"] for r in rows if r["name"] in chosen}
    st.button(
        f"Apply to {len(chosen)} brands" if chosen else "Apply",
        key="brands_bulk_apply",
        type="primary",
        disabled=bool(denied) or not chosen or not change.as_dict(),
        help=denied or "Pick brands and at least one switch to set.",
        on_click=_bulk,
        args=(chosen, change, versions),
    )
