"""The Reports page's sections: a report's title, what it holds, a preview of its first rows
and its download; and the signed link to a whole file that is too big to make in the page.

The files themselves are ``core.reporting.exports``' (the same columns and formula-safe cells
as ``python -m core export``); a link is ``core.reporting.links``', streamed by the server.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.access.permissions import Actor
from core.reporting import links

PREVIEW = 10  # rows of each report shown above its download


def report(
    title: str, what: str, df: pd.DataFrame, data: str | bytes | Callable[[], bytes], file_name: str, key: str
) -> None:
    """A report: ``what`` it holds, its first rows, and the download of ``data`` (made on click
    when it is a function)."""
    st.subheader(title)
    st.caption(what)
    if df.empty:
        st.info("No rows for these filters.", icon=":material/info:")
    else:
        st.dataframe(df.head(PREVIEW), hide_index=True, key=f"{key}_preview")
    st.download_button(
        f"Download {file_name}",
        data=data,
        file_name=file_name,
        mime="text/csv",
        key=key,
        icon=":material/download:",
        on_click="ignore",
        disabled=df.empty,
    )


def streamed(actor: Actor, request: links.ExportRequest, label: str, key: str) -> None:
    """A signed, five-minute link to the whole file, streamed by the server."""
    st.link_button(label, links.make_link(actor, request), icon=":material/download:", key=key)
    st.caption(
        "The whole file streams from the server as it is written; the link works for you, "
        "signed in, for five minutes. Also on the command line: `python -m core export ... --out FILE`."
    )
