"""The pickers several pages share: the brand list (or the "no data" stop), the brand
filter, the brand a link names, and a range of UTC days.

Each reads its widget and returns a plain value for core; none reads the database itself
except through ``_reads``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import streamlit as st

from app_pages import _reads, _ui

ALL = "All brands"


def brands_or_stop(url: str) -> list[str]:
    """Every brand's name, sorted; with none, the page says how to load demo data and stops.

    When the link's ``?brand=`` names a brand the cached list lacks (one newer than the
    cache), the list is read again first.
    """
    names = _ui.load(_reads.brand_names, url)
    wanted = (st.query_params.get("brand") or "").lower()
    if wanted and wanted not in {n.lower() for n in names}:
        _reads.brand_names.clear()
        names = _ui.load(_reads.brand_names, url)
    if not names:
        st.info(_ui.NO_DATA, icon=":material/database:")
        st.stop()
    return names


def brand_filter(where: Any, names: list[str], *, key: str, help: str | None = None) -> str | None:
    """A "Brand" select in ``where`` (``st`` or a column), "All brands" first: the brand, or None for all."""
    value = where.selectbox("Brand", [ALL, *names], key=key, help=help)
    return None if value in (None, ALL) else value


def linked_brand(names: list[str], *, key: str) -> str:
    """The brand the link's ``?brand=`` names (in any case), else the first of ``names``.

    A name the list lacks is said so. The select below it (its key ends with the brand, so it
    follows the link) changes the link, and the page runs again for the brand picked.
    """
    wanted = st.query_params.get("brand")
    by_lower = {n.lower(): n for n in names}
    if wanted and wanted.lower() not in by_lower:
        st.warning(
            f"There is no brand {_ui.plain(repr(wanted))}; pick one below.", icon=":material/search_off:"
        )
    name = by_lower.get((wanted or "").lower(), names[0])
    choice = st.selectbox("Brand", names, index=names.index(name), key=f"{key}_{name}")
    if choice != name:
        st.query_params["brand"] = choice
        st.rerun()
    return name


def utc_days(where: Any, *, key: str, days: int = 30) -> tuple[datetime | None, datetime | None]:
    """A "Dates (UTC)" range in ``where``, the last ``days`` days by default, both days included:
    (the first instant, the instant after the last day), or (None, None) while none is picked."""
    today = datetime.now(UTC).date()
    picked = where.date_input(
        "Dates (UTC)", value=(today - timedelta(days=days), today), key=key, help="Both days included."
    )
    if not isinstance(picked, tuple | list) or not picked:
        return None, None
    since = datetime.combine(picked[0], time.min, tzinfo=UTC)
    return since, datetime.combine(picked[-1], time.min, tzinfo=UTC) + timedelta(days=1)
