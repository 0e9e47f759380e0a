"""Reports: the CSV downloads (adoption by brand, domain and month; the current user search;
the audit log), each with a preview of its first rows and its row count.

The files come from ``core.reporting.exports``: the same columns and the same formula-safe cells as
``python -m core export``. The small adoption reports are made when the page is drawn; the
user list and the audit log are made only when their button is clicked (a deferred download)
and capped in the page — the full files are on the command line.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _download, _pickers, _reads, _ui
from core.platform.audit import AuditFilter
from core.reporting import links
from core.reporting.exports.files import iter_csv
from core.reporting.history import DEFAULT_MONTHS
from core.reporting.search_query import UserSearch

actor = _ui.require("export")
url = _ui.db_url()
CAP = 10_000  # rows a download made in the page holds at most


def _month_file(url: str) -> bytes:
    return "".join(iter_csv("adoption", engine=_ui.engine(url), by="month")).encode("utf-8")


def capped_csv(url: str, kind: str, **options) -> bytes:
    """The header and at most CAP rows of a streamed report (the whole file: the CLI)."""
    return "".join(iter_csv(kind, engine=_ui.engine(url), limit=CAP, **options)).encode("utf-8")


def capped_report(
    title: str,
    what: str,
    preview: pd.DataFrame,
    over: bool,
    kind: str,
    options: dict,
    whole: tuple[links.ExportRequest, str, str],
    file_name: str,
    key: str,
) -> None:
    """A report whose page download holds at most CAP rows; past that, a link to the whole file."""
    _download.report(title, what, preview, lambda: capped_csv(url, kind, **options), file_name, key)
    if over:
        _download.streamed(actor, *whole)


_ui.header("Reports", "CSV files that open safely in a spreadsheet, with the same numbers as the dashboard.")
names = _pickers.brands_or_stop(url)
left, right = st.columns([2, 1])
brand = _pickers.brand_filter(left, names, key="reports_brand")
status = right.selectbox(
    "Mailboxes", ["active", "suspended", "all"], key="reports_status", format_func=str.capitalize
)
st.caption(
    "Times in the files are UTC (ISO 8601, ending in Z). "
    "The first rows are shown; the count is the whole file."
)

for by, title in (
    ("brand", "Adoption by brand"),
    ("domain", "Adoption by domain"),
):
    df, csv = _ui.load(_reads.adoption, url, by, brand, status)
    _download.report(title, _ui.rows(len(df)), df, csv, f"adoption-by-{by}.csv", f"reports_adoption_{by}")

if brand:
    df, csv = _ui.load(_reads.adoption, url, "month", brand, status)
    what = f"{_ui.rows(len(df))} (the last {DEFAULT_MONTHS} UTC months of {_ui.plain(brand)})"
    _download.report("Adoption by month", what, df, csv, "adoption-by-month.csv", "reports_adoption_month")
else:
    df = _ui.load(_reads.months_overall, url)
    file_rows = len(df) * len(names)
    what = (
        f"The last {DEFAULT_MONTHS} UTC months, every brand together below; the file has one row per brand and "
        f"month ({_ui.num(len(names))} brands × {DEFAULT_MONTHS} months = {_ui.rows(file_rows)})."
    )
    _download.report(
        "Adoption by month",
        what,
        df,
        lambda: _month_file(url),
        "adoption-by-month.csv",
        "reports_adoption_month",
    )

search = st.session_state.get("users_search") or UserSearch()
preview, total = _ui.load(_reads.users_preview, url, search, _download.PREVIEW)
filters = ", ".join(f"{k} = {v!r}" for k, v in search.__dict__.items() if v) or "every mailbox"
capped_report(
    "Users of the current search",
    f"{_ui.rows(total)} · search: {_ui.plain(filters)} (change it on the Users page)"
    + (f" · this download holds the first {CAP:,}" if total > CAP else ""),
    preview,
    total > CAP,
    "users",
    {"search": search},
    (links.ExportRequest.for_search(search), f"Download all {total:,} rows", "reports_users_all"),
    "users.csv",
    "reports_users",
)

audit_filter = st.session_state.get("audit_filter") or AuditFilter()
events = _ui.load(_reads.audit_preview, url, audit_filter, CAP + 1)
n = len(events)
capped_report(
    "Audit log",
    (f"more than {CAP:,} events" if n > CAP else _ui.rows(n))
    + " · filters from the Audit log page · newest first"
    + (f" · this download holds the newest {CAP:,}" if n > CAP else ""),
    events,
    n > CAP,
    "audit",
    {"audit_filter": audit_filter},
    (links.ExportRequest.for_audit(audit_filter), "Download the whole log", "reports_audit_all"),
    "audit-log.csv",
    "reports_audit",
)
