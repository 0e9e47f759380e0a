"""One brand's switches on the Brands page, with one Update and the impact in words first.

The switches are toggles outside a form so the impact follows each flip. The version loaded
with the brand is kept in ``brands_loaded`` and named on Update, so a colleague's save in
between is refused with what changed (optimistic concurrency, core). How the switches
combine (which one means nothing while another is off) and what a change does are core's
(``switches.inert_switches``, ``switches.form_change``, the impact).
"""

from __future__ import annotations

import streamlit as st

from app_pages import _reads, _ui
from core.brands import switches
from core.brands.switches import SWITCH_LABELS, SWITCHES, SwitchChange


def load(url: str, name: str) -> None:
    """Read the brand fresh (no cache: its version must be the stored one) into the toggles."""
    d = _reads.brand_to_edit(url, name)
    st.session_state["brands_loaded"] = {
        "name": d["name"],
        "version": d["version"],
        "switches": {k: d[k] for k in SWITCHES},
    }
    for k in SWITCHES:
        st.session_state[f"brands_sw_{k}"] = d[k]


def loaded_brand(url: str, name: str) -> dict:
    """The brand in the toggles: ``name`` as loaded, read again when another brand (or none) is."""
    loaded = st.session_state.get("brands_loaded")
    if (
        not loaded
        or loaded["name"] != name
        or any(f"brands_sw_{k}" not in st.session_state for k in SWITCHES)
    ):
        _ui.load(load, url, name)
        loaded = st.session_state["brands_loaded"]
    return loaded


def _update(url: str, name: str, version: int, change: SwitchChange) -> None:
    _, error = _ui.write(switches.set_switches, name=name, change=change, expected_version=version)
    if error:
        st.session_state["brands_flash"] = ("error", error)
        return
    load(url, name)
    st.session_state["brands_flash"] = ("success", f"{name} updated.")


def show(url: str, name: str, loaded: dict, denied: str | None) -> None:
    """The three toggles (disabled with ``denied``), what flipping them would do, Update and Reload."""
    with st.container(border=True):
        st.toggle(SWITCH_LABELS["allow_2fa"], key="brands_sw_allow_2fa", disabled=bool(denied), help=denied)
        form = {k: st.session_state[f"brands_sw_{k}"] for k in SWITCHES}  # the toggles as they stand
        inert = switches.inert_switches(form).get("allow_user_disable_2fa")
        st.toggle(
            SWITCH_LABELS["allow_user_disable_2fa"],
            key="brands_sw_allow_user_disable_2fa",
            disabled=bool(denied or inert),
            help=denied or inert,
        )
        if inert:
            st.caption(inert)
        st.toggle(
            SWITCH_LABELS["allow_app_passwords"],
            key="brands_sw_allow_app_passwords",
            disabled=bool(denied),
            help=denied,
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
            disabled=bool(denied) or not change.as_dict(),
            help=denied or "Applies the switches to the whole brand at once.",
            on_click=_update,
            args=(url, name, loaded["version"], change),
        )
        st.button("Reload the brand", key="brands_reload", on_click=load, args=(url, name), type="tertiary")
