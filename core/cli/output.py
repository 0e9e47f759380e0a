"""Plain rendering of rows for the command line: an aligned table, CSV or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

FORMATS = ("table", "csv", "json")


def to_plain(value: Any) -> Any:
    """JSON-ready value: datetimes as ISO 8601 UTC with Z, everything else as is."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    value = to_plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def emit(
    rows: Iterable[dict] | dict,
    fmt: str,
    fields: Sequence[str] | None = None,
    out: TextIO | None = None,
) -> None:
    """Write ``rows`` (or one object) to ``out`` in ``fmt``."""
    out = out or sys.stdout
    single = isinstance(rows, dict)
    items = [rows] if single else list(rows)
    if fields is None:
        fields = list(items[0].keys()) if items else []
    if fmt == "json":
        data = [to_plain({k: r.get(k) for k in fields}) for r in items]
        json.dump(data[0] if single else data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    if fmt == "csv":
        from core.reporting.exports.cells import csv_line

        # The exports' rule (core.reporting.exports.cells): CRLF line ends, every text quoted and through the
        # formula guard, for a "," and a ";" reader alike; the header is the bare field names.
        out.write(",".join(fields) + "\r\n")
        for r in items:
            out.write(csv_line(_csv_value(r.get(k)) for k in fields))
        return
    if single:
        width = max((len(k) for k in fields), default=0)
        for k in fields:
            out.write(f"{k.ljust(width)}  {_cell(items[0].get(k))}\n")
        return
    if not items:
        out.write("(no rows)\n")
        return
    cells = [[_cell(r.get(k)) for k in fields] for r in items]
    widths = [max(len(f), *(len(c[i]) for c in cells)) for i, f in enumerate(fields)]
    out.write("  ".join(f.ljust(w) for f, w in zip(fields, widths, strict=True)).rstrip() + "\n")
    for c in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip() + "\n")


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value  # csv_cell writes it bare, ISO 8601 UTC with Z
    value = to_plain(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value
