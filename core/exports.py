"""CSV exports that open safely in a spreadsheet, streamed; and small DataFrames.

Reports and their columns (stable; the README copies them):

* ``users`` — the user list of any search (``core.queries.UserSearch``), by address:
  ``USERS_COLUMNS`` = email, display_name, brand, domain, status, twofa (on / off / dormant),
  app_passwords (live ones), twofa_enrolled_at, created_at, last_login_at.
* ``adoption`` by ``brand`` — ``ADOPTION_BRAND_COLUMNS`` (= ``core.queries.ADOPTION_FIELDS``):
  brand, users, users_2fa, pct_2fa, users_2fa_dormant, users_app_passwords,
  pct_app_passwords, app_passwords, allow_2fa, allow_user_disable_2fa, allow_app_passwords.
* ``adoption`` by ``domain`` — ``ADOPTION_DOMAIN_COLUMNS``: domain, company, brand, users,
  users_2fa, pct_2fa, users_2fa_dormant, users_app_passwords, pct_app_passwords,
  app_passwords.
* ``adoption`` by ``month`` — ``ADOPTION_MONTH_COLUMNS`` (= ``core.reports.MONTH_FIELDS``):
  month, brand, enrolments, resets, self_disables, app_passwords_created,
  app_passwords_revoked, users_2fa_end, app_passwords_end. Without a brand: one row per
  (month, brand), every brand; with a brand: that brand's months.
* ``audit`` — the audit log (``core.audit.AuditFilter``), newest first: ``AUDIT_COLUMNS`` =
  at, actor, action, object_type, object_key, brand, user, reason, before, after
  (before/after as compact JSON text).

Format: UTF-8, RFC 4180 (comma, double quotes where needed, CRLF line ends), a header
row, times as ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SSZ``, empty cell for no value, booleans as
True/False, percentages as numbers with one decimal. ``bom=True`` puts a UTF-8 byte-order
mark first so Excel reads the file as UTF-8.

Formula injection (OWASP "CSV Injection"): every text cell goes through ``safe_cell``, which
prefixes a ``'`` when the text begins with ``= + - @``, tab, CR or LF, also when only
whitespace comes before such a character (some importers trim it) and for the full-width
forms ``＝ ＋ － ＠`` (U+FF1D, U+FF0B, U+FF0D, U+FF20), which some spreadsheet locales
treat as their ASCII twins. Numbers are numbers, never text, so they are never prefixed:
a negative number stays a number.

The ``users`` and ``audit`` exports read through a server-side cursor in chunks of
``chunk_rows`` rows and format each chunk into a buffer that is emptied per chunk, so
memory stays flat for a million rows. For speed the user export formats its times in SQL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from os import PathLike
from typing import Any, BinaryIO, TextIO

import pandas as pd
from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.engine import Engine

from core.audit import AuditFilter, audit_query
from core.db import session_scope
from core.queries import (
    ADOPTION_FIELDS,
    AdoptionFilter,
    UserSearch,
    adoption_by_brand,
    adoption_by_domain,
    user_search_query,
)
from core.reports import MONTH_FIELDS, adoption_by_month, adoption_by_month_per_brand

USERS_COLUMNS = (
    "email",
    "display_name",
    "brand",
    "domain",
    "status",
    "twofa",
    "app_passwords",
    "twofa_enrolled_at",
    "created_at",
    "last_login_at",
)
ADOPTION_BRAND_COLUMNS = ADOPTION_FIELDS
ADOPTION_DOMAIN_COLUMNS = (
    "domain",
    "company",
    "brand",
    "users",
    "users_2fa",
    "pct_2fa",
    "users_2fa_dormant",
    "users_app_passwords",
    "pct_app_passwords",
    "app_passwords",
)
ADOPTION_MONTH_COLUMNS = MONTH_FIELDS
AUDIT_COLUMNS = (
    "at",
    "actor",
    "action",
    "object_type",
    "object_key",
    "brand",
    "user",
    "reason",
    "before",
    "after",
)
KINDS = ("users", "adoption", "audit")
ADOPTION_BY = ("brand", "domain", "month")
COLUMNS = {
    ("users", None): USERS_COLUMNS,
    ("adoption", "brand"): ADOPTION_BRAND_COLUMNS,
    ("adoption", "domain"): ADOPTION_DOMAIN_COLUMNS,
    ("adoption", "month"): ADOPTION_MONTH_COLUMNS,
    ("audit", None): AUDIT_COLUMNS,
}

# --- the cell rule -------------------------------------------------------------------------

FORMULA_TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")
# A first character worth a closer look: a trigger, or whitespace that may hide one.
_LOOK_CLOSER = FORMULA_TRIGGERS | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"


def _escape_text(s: str) -> str:
    if s and s[0] in _LOOK_CLOSER and (s[0] in FORMULA_TRIGGERS or s.lstrip()[:1] in FORMULA_TRIGGERS):
        return "'" + s
    return s


def iso_utc(value: datetime) -> str:
    """ISO 8601 UTC with Z; a naive datetime is taken as UTC (the tables store UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(ISO_Z)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def safe_cell(value: Any) -> Any:
    """One CSV cell that a spreadsheet will not run as a formula.

    None -> ""; numbers (int, float, Decimal, bool) unchanged; datetime -> ISO 8601 UTC
    with Z, date -> YYYY-MM-DD; dict/list -> compact JSON; any other value as text, with a
    leading ``'`` when it would start a formula (see the module docstring).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return _escape_text(value)
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return _escape_text(compact_json(value))
    return _escape_text(str(value))


def _text_or_none(value: Any) -> Any:
    """safe_cell for a text column that keeps missing values missing (DataFrames)."""
    return _escape_text(value) if isinstance(value, str) else value


# --- the reports ---------------------------------------------------------------------------


def columns_for(kind: str, by: str = "brand") -> tuple[str, ...]:
    """The column list of a report."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "adoption":
        if by not in ADOPTION_BY:
            raise ValueError(f"adoption by {by!r}? choose one of {', '.join(ADOPTION_BY)}")
        return COLUMNS[("adoption", by)]
    return COLUMNS[(kind, None)]


def _users_select(engine: Engine, search: UserSearch | None):
    """The user search with the export's columns, in the order the mailboxes were created.

    Creation order (the primary key) reads the table front to back; address order walks
    the email index and fetches each row from wherever it lies, four times slower at a
    million mailboxes on SQLite. Spreadsheets sort by address in one click.

    Times: PostgreSQL formats them (``to_char``); SQLite hands over its stored text
    ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), which ``_sqlite_iso`` reshapes — cheaper than
    both SQLite's ``strftime`` and a datetime object per cell.
    """
    u = user_search_query(search or UserSearch()).subquery("u")
    times = (u.c.totp_enrolled_at, u.c.created_at, u.c.last_login_at)
    if engine.dialect.name == "postgresql":
        iso = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
        time_cols = [func.to_char(func.timezone("UTC", c), iso) for c in times]
    else:
        time_cols = [type_coerce(c, String) for c in times]
    return select(
        u.c.email,
        u.c.display_name,
        u.c.brand,
        u.c.domain,
        u.c.status,
        u.c.twofa,
        u.c.app_passwords,
        *time_cols,
    ).order_by(u.c.id)


def _sqlite_iso(v: str) -> str:
    if len(v) >= 19 and v[10] == " " and (len(v) == 19 or v[19] == "."):
        return v[:10] + "T" + v[11:19] + "Z"
    parsed = datetime.fromisoformat(v)  # another writer's format: parse it properly
    return iso_utc(parsed)


def _users_row(r: tuple) -> tuple:
    # twofa is a literal from SQL (on/off/dormant), app_passwords a count, times already text.
    esc = _escape_text
    return (esc(r[0]), esc(r[1]), esc(r[2]), esc(r[3]), esc(r[4]), r[5], r[6], r[7], r[8], r[9])


def _users_row_sqlite(r: tuple) -> tuple:
    esc, iso = _escape_text, _sqlite_iso
    e, dn, b, d, st, tw, ap, te, c, ll = r
    return (
        esc(e),
        esc(dn),
        esc(b),
        esc(d),
        esc(st),
        tw,
        ap,
        te and iso(te),
        c and iso(c),
        ll and iso(ll),
    )


def _audit_select(audit_filter: AuditFilter | None):
    return audit_query(audit_filter)


def _audit_row(r: tuple) -> tuple:
    # audit_query: id, at, actor, action, object_type, object_key, brand, user, before, after, reason
    _id, at, actor, action, otype, okey, brand, user, before, after, reason = r
    return (
        iso_utc(at),
        safe_cell(actor),
        safe_cell(action),
        safe_cell(otype),
        safe_cell(okey),
        safe_cell(brand),
        safe_cell(user),
        safe_cell(reason),
        "" if before is None else safe_cell(compact_json(before)),
        "" if after is None else safe_cell(compact_json(after)),
    )


def _report_rows(
    kind: str, engine: Engine, by: str, brand: str | None, status: str, months: int
) -> list[dict]:
    """The (small) aggregate reports as dicts."""
    with session_scope(engine) as session:
        if by == "brand":
            return adoption_by_brand(session, AdoptionFilter(brand=brand, status=status))  # type: ignore[arg-type]
        if by == "domain":
            return adoption_by_domain(session, AdoptionFilter(brand=brand, status=status))  # type: ignore[arg-type]
        if brand:
            return adoption_by_month(session, brand=brand, months=months)
        return adoption_by_month_per_brand(session, months=months)


def _chunks(
    kind: str,
    *,
    engine: Engine,
    search: UserSearch | None,
    audit_filter: AuditFilter | None,
    by: str,
    brand: str | None,
    status: str,
    months: int,
    bom: bool,
    chunk_rows: int,
) -> Iterator[tuple[str, int]]:
    """(text, rows in it) chunks of a CSV report, header first."""
    columns = columns_for(kind, by)
    chunk_rows = max(1, int(chunk_rows))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    yield ("\ufeff" if bom else "") + buf.getvalue(), 0
    buf.seek(0)
    buf.truncate(0)

    if kind == "adoption":
        rows = _report_rows(kind, engine, by, brand, status, months)
        for start in range(0, len(rows), chunk_rows):
            part = rows[start : start + chunk_rows]
            writer.writerows([safe_cell(r.get(c)) for c in columns] for r in part)
            yield buf.getvalue(), len(part)
            buf.seek(0)
            buf.truncate(0)
        return

    fmt: Callable[[tuple], tuple]
    if kind == "users":
        stmt = _users_select(engine, search)
        fmt = _users_row if engine.dialect.name == "postgresql" else _users_row_sqlite
    else:
        stmt, fmt = _audit_select(audit_filter), _audit_row
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
        for part in result.partitions(chunk_rows):
            writer.writerows(map(fmt, part))
            yield buf.getvalue(), len(part)
            buf.seek(0)
            buf.truncate(0)


def iter_csv(
    kind: str,
    *,
    engine: Engine,
    search: UserSearch | None = None,
    audit_filter: AuditFilter | None = None,
    by: str = "brand",
    brand: str | None = None,
    status: str = "active",
    months: int = 24,
    bom: bool = False,
    chunk_rows: int = 5000,
) -> Iterator[str]:
    """A CSV report as text chunks: the header (after the BOM when ``bom``), then up to
    ``chunk_rows`` rows a chunk. ``kind``: "users" (``search``), "adoption" (``by`` brand,
    domain or month; ``brand``, ``status`` and for months ``months`` filter it) or "audit"
    (``audit_filter``). The columns are the module's ``*_COLUMNS`` constants."""
    for text, _n in _chunks(
        kind,
        engine=engine,
        search=search,
        audit_filter=audit_filter,
        by=by,
        brand=brand,
        status=status,
        months=months,
        bom=bom,
        chunk_rows=chunk_rows,
    ):
        yield text


def write_csv(
    out: BinaryIO | TextIO | str | PathLike,
    kind: str,
    *,
    engine: Engine,
    bom: bool = False,
    **options: Any,
) -> int:
    """Write a CSV report (see ``iter_csv``) to a path, a binary or a text stream, in UTF-8;
    returns the number of data rows written. A text stream should be opened with
    ``newline=""`` (the rows end with CRLF already)."""
    chunks = _chunks(
        kind,
        engine=engine,
        search=options.pop("search", None),
        audit_filter=options.pop("audit_filter", None),
        by=options.pop("by", "brand"),
        brand=options.pop("brand", None),
        status=options.pop("status", "active"),
        months=options.pop("months", 24),
        bom=bom,
        chunk_rows=options.pop("chunk_rows", 5000),
    )
    if options:
        raise TypeError(f"write_csv() got unexpected options: {', '.join(sorted(options))}")
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


def dataframe(
    kind: str,
    *,
    engine: Engine,
    search: UserSearch | None = None,
    audit_filter: AuditFilter | None = None,
    by: str = "brand",
    brand: str | None = None,
    status: str = "active",
    months: int = 24,
    limit: int | None = None,
) -> pd.DataFrame:
    """A report as a DataFrame with the export's columns, for previews and the notebook.

    ``users`` needs ``limit`` (a preview, never the whole base); ``audit`` takes the newest
    ``limit`` events when given. Text columns (``str``/object dtype) are escaped with
    ``safe_cell``'s rule, missing values stay missing; numbers, booleans and times keep
    their types (times as aware UTC datetimes).
    """
    columns = columns_for(kind, by)
    if kind == "users":
        if limit is None:
            raise ValueError("a users DataFrame needs a limit; stream the full list with iter_csv")
        u = user_search_query(search or UserSearch()).subquery("u")
        stmt = select(*(u.c[c] for c in ("email", "display_name", "brand", "domain", "status", "twofa")))
        stmt = stmt.add_columns(u.c.app_passwords, u.c.totp_enrolled_at, u.c.created_at, u.c.last_login_at)
        stmt = stmt.order_by(u.c.id).limit(max(0, int(limit)))  # the export's order
        with session_scope(engine) as session:
            records = [tuple(r) for r in session.execute(stmt)]
    elif kind == "audit":
        stmt = audit_query(audit_filter)
        if limit is not None:
            stmt = stmt.limit(max(0, int(limit)))
        with session_scope(engine) as session:
            records = [
                (at, actor, action, ot, ok, b, u, reason, _json_or_none(before), _json_or_none(after))
                for _i, at, actor, action, ot, ok, b, u, before, after, reason in session.execute(stmt)
            ]
    else:
        rows = _report_rows(kind, engine, by, brand, status, months)
        records = [tuple(r.get(c) for c in columns) for r in rows]
    df = pd.DataFrame.from_records(records, columns=list(columns))
    for col in df.select_dtypes(include=["object", "str"]).columns:
        df[col] = df[col].map(_text_or_none)
    return df


def _json_or_none(value: Any) -> str | None:
    return None if value is None else compact_json(value)


__all__ = [
    "ADOPTION_BRAND_COLUMNS",
    "ADOPTION_DOMAIN_COLUMNS",
    "ADOPTION_MONTH_COLUMNS",
    "AUDIT_COLUMNS",
    "FORMULA_TRIGGERS",
    "USERS_COLUMNS",
    "columns_for",
    "dataframe",
    "iter_csv",
    "safe_cell",
    "write_csv",
]
