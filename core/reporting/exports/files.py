"""CSV files of the reports: the header row, then the rows in chunks, as text or written out.

A file is UTF-8, RFC 4180 (comma separator, CRLF line ends), with a header row of the bare
column names (``core.reporting.exports.registry``); ``bom=True`` puts a UTF-8 byte-order mark
first so Excel reads it as UTF-8. Each row is ``cells.csv_line`` of its values; the large
reports come from ``core.reporting.exports.streams`` and are never held whole.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from os import PathLike
from typing import Any, BinaryIO, TextIO

from sqlalchemy.engine import Engine

from core.reporting.exports.cells import csv_line
from core.reporting.exports.registry import Report, adoption_rows
from core.reporting.exports.streams import audit_chunks, users_chunks


def _chunks(
    report: Report, *, engine: Engine, bom: bool, chunk_rows: int, limit: int | None = None
) -> Iterator[tuple[str, int]]:
    """(text, rows in it) chunks of a CSV report, header first; at most ``limit`` rows."""
    columns = report.columns
    chunk_rows = max(1, int(chunk_rows))
    limit = None if limit is None else max(0, int(limit))
    # The header: the bare column names (fixed identifiers, nothing to quote or guard).
    yield ("\ufeff" if bom else "") + ",".join(columns) + "\r\n", 0

    if report.kind == "adoption":
        rows = adoption_rows(report, engine)[:limit]
        for start in range(0, len(rows), chunk_rows):
            part = rows[start : start + chunk_rows]
            yield "".join(csv_line(r.get(c) for c in columns) for r in part), len(part)
    elif report.kind == "users":
        yield from users_chunks(engine, report.search, chunk_rows, limit)
    else:
        yield from audit_chunks(engine, report.audit_filter, chunk_rows, limit)


def iter_csv(
    kind: str,
    *,
    engine: Engine,
    bom: bool = False,
    chunk_rows: int = 5000,
    limit: int | None = None,
    **filters: Any,
) -> Iterator[str]:
    """A CSV report as text chunks: the header (after the BOM when ``bom``), then up to
    ``chunk_rows`` rows a chunk, and at most ``limit`` rows in all when given (a preview:
    the database stops there). ``kind`` and ``filters`` name the report
    (``registry.Report``); the columns are the registry's ``*_COLUMNS`` constants."""
    chunks = _chunks(Report(kind, **filters), engine=engine, bom=bom, chunk_rows=chunk_rows, limit=limit)
    for text, _n in chunks:
        yield text


def write_csv(
    out: BinaryIO | TextIO | str | PathLike,
    kind: str,
    *,
    engine: Engine,
    bom: bool = False,
    chunk_rows: int = 5000,
    **filters: Any,
) -> int:
    """Write a CSV report (see ``iter_csv``) to a path, a binary or a text stream, in UTF-8;
    returns the number of data rows written. A text stream should be opened with
    ``newline=""`` (the rows end with CRLF already)."""
    chunks = _chunks(Report(kind, **filters), engine=engine, bom=bom, chunk_rows=chunk_rows)
    if isinstance(out, str | PathLike):
        with open(out, "wb") as fh:
            return _drain(chunks, fh, is_text=False)
    return _drain(chunks, out, is_text=isinstance(out, io.TextIOBase) or hasattr(out, "encoding"))


def _drain(chunks: Iterator[tuple[str, int]], out: Any, *, is_text: bool) -> int:
    total = 0
    for text, n in chunks:
        out.write(text if is_text else text.encode("utf-8"))
        total += n
    return total
