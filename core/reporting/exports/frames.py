"""The reports as small DataFrames, for the pages' previews and the notebook.

The same columns as the CSV files (``core.reporting.exports.registry``) and the same cell
rule for text (``cells.text_or_none``), but values keep their types: numbers, booleans and
times (aware UTC datetimes) stay what they are, missing values stay missing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.platform.audit import audit_query
from core.platform.db import session_scope
from core.reporting.exports.cells import text_or_none
from core.reporting.exports.registry import Report, adoption_rows, audit_cells
from core.reporting.search_query import UserSearch, user_search_query

# The search's name of an export column, where the two differ.
_SEARCH_NAME = {"twofa_enrolled_at": "totp_enrolled_at"}


def dataframe(kind: str, *, engine: Engine, limit: int | None = None, **filters: Any) -> pd.DataFrame:
    """A report (``registry.Report``: ``kind`` and ``filters``) as a DataFrame with the
    export's columns.

    ``users`` needs ``limit`` (a preview, never the whole base); ``audit`` takes the newest
    ``limit`` events when given. Text columns (``str``/object dtype) are escaped with
    ``safe_cell``'s rule, missing values stay missing; numbers, booleans and times keep
    their types (times as aware UTC datetimes).
    """
    report = Report(kind, **filters)
    columns = report.columns
    if kind == "users":
        if limit is None:
            raise ValueError("a users DataFrame needs a limit; stream the full list with iter_csv")
        u = user_search_query(report.search or UserSearch()).subquery("u")
        stmt = select(*(u.c[_SEARCH_NAME.get(c, c)] for c in columns))
        stmt = stmt.order_by(u.c.id).limit(max(0, int(limit)))  # the export's order
        with session_scope(engine) as session:
            records = [tuple(r) for r in session.execute(stmt)]
    elif kind == "audit":
        stmt = audit_query(report.audit_filter)
        if limit is not None:
            stmt = stmt.limit(max(0, int(limit)))
        with session_scope(engine) as session:
            records = [audit_cells(r) for r in session.execute(stmt)]
    else:
        records = [tuple(r.get(c) for c in columns) for r in adoption_rows(report, engine)]
    df = pd.DataFrame.from_records(records, columns=list(columns))
    for col in df.select_dtypes(include=["object", "str"]).columns:
        df[col] = df[col].map(text_or_none)
    return df
