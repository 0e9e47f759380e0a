"""CSV exports that open safely in a spreadsheet, streamed; and small DataFrames.

Reports and their columns (stable; the README copies them):

* ``users`` — the user list of any search (``core.reporting.queries.UserSearch``), by address:
  ``USERS_COLUMNS`` = email, display_name, brand, domain, status, twofa (on / off / dormant),
  app_passwords (live ones), twofa_enrolled_at, created_at, last_login_at.
* ``adoption`` by ``brand`` — ``ADOPTION_BRAND_COLUMNS`` (= ``core.reporting.queries.ADOPTION_FIELDS``):
  brand, users, users_2fa, pct_2fa, users_2fa_dormant, users_app_passwords,
  pct_app_passwords, app_passwords, allow_2fa, allow_user_disable_2fa, allow_app_passwords.
* ``adoption`` by ``domain`` — ``ADOPTION_DOMAIN_COLUMNS``: domain, company, brand, users,
  users_2fa, pct_2fa, users_2fa_dormant, users_app_passwords, pct_app_passwords,
  app_passwords.
* ``adoption`` by ``month`` — ``ADOPTION_MONTH_COLUMNS`` (= ``core.reporting.reports.MONTH_FIELDS``):
  month, brand, enrolments, resets, self_disables, app_passwords_created,
  app_passwords_revoked, users_2fa_end, app_passwords_end. Without a brand: one row per
  (month, brand), every brand; with a brand: that brand's months.
* ``audit`` — the audit log (``core.platform.audit.AuditFilter``), newest first: ``AUDIT_COLUMNS`` =
  at, actor, action, object_type, object_key, brand, user, reason, before, after
  (before/after as compact JSON text).

Format: UTF-8, RFC 4180 (comma separator, CRLF line ends), a header row of the bare column
names, times as ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SSZ``, empty cell for no value, booleans as
True/False, percentages as numbers with one decimal. ``bom=True`` puts a UTF-8 byte-order
mark first so Excel reads the file as UTF-8.

Quoting: every text cell is written between double quotes, an inner double quote doubled
(RFC 4180), even when nothing in it needs quotes (an empty text is ``""``); numbers,
booleans, times and missing values are bare (they never hold a separator, a quote or a
line break). So a ``,`` reader never splits a text, whatever it holds.

Formula injection (OWASP "CSV Injection"): every text cell goes through ``safe_cell``, which
prefixes a ``'`` when the text begins with ``= + - @``, tab, CR or LF, also when only
whitespace comes before such a character (some importers trim it) and for the full-width
forms ``＝ ＋ － ＠`` (U+FF1D, U+FF0B, U+FF0D, U+FF20), which some spreadsheet locales
treat as their ASCII twins. Numbers are numbers, never text, so they are never prefixed:
a negative number stays a number.

Read with ``;`` as the separator (Excel in most European locales), the quotes do not
protect a text after the first column: such a reader takes a double quote as quoting only
at the start of a field, so once the first cell's closing quote is behind it, every ``;``
in the line starts a new field and every CR or LF a new row, inside the other cells' quotes
or not. Quoting cannot prevent that (the bytes of ``x;=cmd`` are ``x;=cmd``), so the guard
also applies to every piece such a reader can make of a text: the part after each ``;``,
CR or LF, up to the next one. A ``'`` goes before that part when, its leading whitespace
and double quotes set aside, it begins with one of the characters above, or when those
leading characters hold one (a tab): after ``;"`` a reader quotes, ``""`` then stands for
one quote, and the field may begin with whatever follows the quotes it drops, and some
readers trim spaces. A ``'`` also goes after a ``;``, CR or LF that ends the text (the
cell's closing quote would open a quoted field that runs into the next line).
``x;=cmd|' /C calc'!A0;`` becomes ``"x;'=cmd|' /C calc'!A0;'"``: a ``,`` reader gets the
text with its two apostrophes, a ``;`` reader the fields ``…,"x``, ``'=cmd|' /C calc'!A0``
and ``'"…``. Nothing else changes: a ``,`` reader gets back exactly the text with those
apostrophes.

The ``users`` and ``audit`` exports stream their rows in chunks of ``chunk_rows`` rows (the
audit log through a server-side cursor) and format each chunk on its own, so memory stays
flat for a million rows; the result is never held whole, by the database driver or here.

The ``users`` export (a million rows; 300,000 rows/s is the goal on both engines) keeps
Python's work per row to one f-string. Its query (``_users_select``) applies the rule for
a cell's start in SQL: one comparison of the first character's code point settles almost
every cell (A..~ holds no trigger and no whitespace), the rare rest get the full rule, with
``ltrim`` for the leading whitespace. Live app passwords come from one ``GROUP BY`` joined
to the rows. PostgreSQL also formats the times (``to_char``) and hands over text only; its
rows arrive through psycopg's ``Cursor.stream`` in chunks (libpq's chunked-rows mode), a
plain query rather than a ``DECLARE CURSOR``, so the server may use a parallel plan; JIT
compilation is switched off for the transaction, as it costs more than it saves here.
SQLite's rows come from the driver's cursor (``fetchmany``). The f-string puts the six
text cells between their quotes (and reshapes SQLite's stored times): about 50 ns a row
more than a plain comma join, where quoting in SQL cost the PostgreSQL server ten times
that. Each chunk is then checked as a whole: twelve double quotes a row (the text cells'
own), one CR and one LF a row and no ``;`` mean no text held a quote, a line break or a
``;``, so nothing needed doubling or the piece guard. Otherwise the lines of that chunk
that fail the same check are made again in Python (``_users_line``), so the bytes are
always those of ``csv_line`` over the same values, on either engine.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from os import PathLike
from typing import Any, BinaryIO, TextIO

import pandas as pd
from sqlalchemy import Select, String, and_, case, cast, func, literal, select, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from core.platform.audit import AuditFilter, audit_query
from core.platform.db import session_scope
from core.platform.models import AppPassword
from core.reporting.queries import (
    ADOPTION_FIELDS,
    AdoptionFilter,
    UserSearch,
    adoption_by_brand,
    adoption_by_domain,
    user_search_query,
)
from core.reporting.reports import (
    DEFAULT_MONTHS,
    MONTH_FIELDS,
    adoption_by_month,
    adoption_by_month_per_brand,
)

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
_SPACES = "".join(sorted(c for c in _LOOK_CLOSER if c.isspace()))  # what str.lstrip() removes
_SPACES_AND_QUOTE = _SPACES + '"'
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
# Where a reader with ";" as its separator may start a field or a row inside a text.
_PIECE_BREAK = re.compile("([;\r\n])")


def _escape_text(s: str) -> str:
    if s and s[0] in _LOOK_CLOSER and (s[0] in FORMULA_TRIGGERS or s.lstrip()[:1] in FORMULA_TRIGGERS):
        s = "'" + s
    if ";" in s or "\r" in s or "\n" in s:
        return _escape_pieces(s)
    return s


def _escape_pieces(s: str) -> str:
    """``s`` with a ``'`` before each piece after a ``;``, CR or LF that a ``;`` reader could
    take for a formula (see the module docstring); the first piece is left as it is."""
    parts = _PIECE_BREAK.split(s)  # text, break, text, break, ..., text
    last = len(parts) - 1
    for i in range(2, len(parts), 2):
        piece = parts[i]
        solid = piece.lstrip(_SPACES_AND_QUOTE)
        # its leading whitespace and quotes: a reader may drop any of the quotes (and a
        # reader that trims, the spaces), so none of them may be a trigger either (a tab)
        lead = piece[: len(piece) - len(solid)]
        if (
            solid[:1] in FORMULA_TRIGGERS
            or not FORMULA_TRIGGERS.isdisjoint(lead)
            or (not piece and i == last)
        ):
            parts[i] = "'" + piece
    return "".join(parts)


def _quoted(s: str) -> str:
    """RFC 4180: between double quotes, an inner one doubled."""
    return '"' + s.replace('"', '""') + '"'


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
    ``'`` at its start when it would start a formula and after each ``;``, CR or LF that
    would start one for a ``;`` reader (see the module docstring).
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


def csv_cell(value: Any) -> str:
    """One cell as written: a number, boolean, time or missing value bare; anything else is
    text, through ``safe_cell`` and between double quotes (an inner quote doubled)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return _quoted(safe_cell(value))


def csv_line(values: Iterable[Any]) -> str:
    """One row as written: ``csv_cell`` of each value, commas between, CRLF at the end."""
    return ",".join(map(csv_cell, values)) + "\r\n"


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


# --- the users export ----------------------------------------------------------------------
#
# A million rows leave no room for Python work per cell: the database applies the rule for
# a cell's start, and each row becomes one line by one format (see the module docstring).

_TRIGGER_CODES = sorted(map(ord, FORMULA_TRIGGERS))
_SPACE_CODES = sorted(map(ord, _SPACES))
# No trigger and no whitespace lies in A..~ (65..126): most cells are settled by one compare.
_PLAIN_CODES = (65, 126)


def _guard_sql(text: Any, first_code: Callable[[Any], Any]) -> Any:
    """SQL for the rule of a text's start (the first step of ``_escape_text``), never NULL;
    ``first_code`` gives the code point of a text's first character (PostgreSQL ``ascii``,
    SQLite ``unicode``). The pieces after a ``;``, CR or LF are Python's (``_users_line``)."""
    code = first_code(text)
    quoted = literal("'", String) + text
    return case(
        (code.between(*_PLAIN_CODES), text),
        (code.in_(_TRIGGER_CODES), quoted),
        (
            and_(
                code.in_(_SPACE_CODES),
                first_code(func.ltrim(text, literal(_SPACES, String))).in_(_TRIGGER_CODES),
            ),
            quoted,
        ),
        else_=func.coalesce(text, ""),
    )


def _users_select(engine: Engine, search: UserSearch | None) -> Select:
    """The user search with the export's columns, in the order the mailboxes were created,
    the text cells' starts already through the cell rule.

    Creation order (the primary key) reads the table front to back; address order walks
    the email index and fetches each row from wherever it lies, four times slower at a
    million mailboxes on SQLite. Spreadsheets sort by address in one click.

    Live app passwords are counted once per user by a ``GROUP BY`` joined to the rows, not
    by a subquery per row. PostgreSQL hands over text only, times formatted (``to_char``)
    and "" for none; SQLite hands over its stored times ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), which ``_sqlite_time`` reshapes
    faster than SQLite's own string functions.
    """
    u = user_search_query(search or UserSearch()).subquery("u")
    live = (
        select(AppPassword.user_id, func.count().label("n"))
        .where(AppPassword.revoked_at.is_(None))
        .group_by(AppPassword.user_id)
        .subquery("live_ap")
    )
    app_passwords = func.coalesce(live.c.n, 0)
    times = (u.c.totp_enrolled_at, u.c.created_at, u.c.last_login_at)
    if engine.dialect.name == "postgresql":
        iso = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
        first_code, app_passwords = func.ascii, cast(app_passwords, String)
        time_cols = [func.coalesce(func.to_char(func.timezone("UTC", c), iso), "") for c in times]
    else:
        first_code = func.unicode
        time_cols = [type_coerce(c, String) for c in times]
    texts = (u.c.email, u.c.display_name, u.c.brand, u.c.domain, u.c.status)
    return (
        select(*(_guard_sql(c, first_code) for c in texts), u.c.twofa, app_passwords, *time_cols)
        .select_from(u)
        .outerjoin(live, live.c.user_id == u.c.id)
        .order_by(u.c.id)
    )


def _users_chunks(engine: Engine, search: UserSearch | None, chunk_rows: int) -> Iterator[tuple[str, int]]:
    """(text, rows in it) chunks of the users export, without the header.

    The rows stream through the driver's own cursor: PostgreSQL sends them in chunks as it
    produces them (libpq's chunked-rows mode; no ``DECLARE CURSOR``, which would rule out a
    parallel plan), SQLite steps through the result as it is fetched. Each row becomes one
    line (the six text cells between quotes, the rest bare) and each chunk is checked as a
    whole (``_lines_plain``); the lines of a chunk that fails it are checked one by one, and
    those that fail are made again by ``_users_line``.
    """
    stmt = _users_select(engine, search)
    with engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        params: Any = compiled.construct_params()
        if compiled.positional:
            params = [params[k] for k in compiled.positiontup or ()]
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL jit = off")  # compiling costs more than it saves here
            chunks = _users_chunks_postgresql
        else:
            chunks = _users_chunks_sqlite
        sql, dbapi = str(compiled), conn.dialect.loaded_dbapi
        try:
            yield from chunks(conn.connection.driver_connection, sql, params, chunk_rows)
        except dbapi.Error as exc:  # the driver's own error: give it SQLAlchemy's shape, as elsewhere
            raise DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=conn.dialect) from exc


_USERS_QUOTES = 12  # a users line's own double quotes: six text cells, when no text holds one


def _users_chunks_postgresql(dbapi: Any, sql: str, params: Any, chunk_rows: int) -> Iterator[tuple[str, int]]:
    from psycopg import capabilities

    size = chunk_rows if capabilities.has_stream_chunked() else 1  # libpq 17+; else row by row
    # closing(): a stream left open holds the connection's lock (a download cancelled half way)
    with dbapi.cursor() as cursor, closing(cursor.stream(sql, params, size=size)) as rows:
        while part := list(islice(rows, chunk_rows)):
            # every cell is text already; an f-string is as fast as a plain join here
            lines = [
                f'"{e}","{dn}","{b}","{d}","{st}","{tw}",{ap},{te},{c},{ll}\r\n'
                for e, dn, b, d, st, tw, ap, te, c, ll in part
            ]
            text = "".join(lines)
            if not _lines_plain(text, len(part)):
                text = _remade(lines, part, lambda r: r)
            yield text, len(part)


def _users_chunks_sqlite(dbapi: Any, sql: str, params: Any, chunk_rows: int) -> Iterator[tuple[str, int]]:
    iso = _sqlite_time
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, params)
        while part := cursor.fetchmany(chunk_rows):
            lines = [
                f'"{e}","{dn}","{b}","{d}","{st}","{tw}",{ap},{iso(te)},{iso(c)},{iso(ll)}\r\n'
                for e, dn, b, d, st, tw, ap, te, c, ll in part
            ]
            text = "".join(lines)
            if not _lines_plain(text, len(part)):
                text = _remade(lines, part, lambda r: (*r[:7], iso(r[7]), iso(r[8]), iso(r[9])))
            yield text, len(part)
    finally:
        cursor.close()


def _remade(lines: list[str], rows: Sequence[Sequence], cells: Callable[[Sequence], Sequence]) -> str:
    """A chunk whose text held a double quote, a ``;``, a CR or an LF more than its lines'
    own: each line that does is made again from ``cells(row)``, the others kept."""
    return "".join(
        line if _lines_plain(line, 1) else _users_line(cells(row))
        for line, row in zip(lines, rows, strict=True)
    )


def _lines_plain(text: str, rows: int) -> bool:
    """Whether ``rows`` users' lines hold only their own quotes and line ends, and no ``;``:
    then their text cells needed neither a quote doubled nor the piece guard."""
    return (
        text.count('"') == _USERS_QUOTES * rows
        and text.count("\n") == rows
        and text.count("\r") == rows
        and ";" not in text
    )


def _users_line(cells: Sequence[Any]) -> str:
    """One users line the plain way: the six text cells (starts guarded already) through the
    piece guard and quoted, the rest (formatted already) bare."""
    texts = (_quoted(_escape_pieces(c)) for c in cells[:6])
    return ",".join([*texts, *map(str, cells[6:])]) + "\r\n"


def _sqlite_time(v: str | None) -> str:
    """A time as SQLite stores it ("YYYY-MM-DD HH:MM:SS.ffffff", UTC) in ISO 8601 with Z."""
    if not v:
        return ""
    if v[10:11] == " " and (len(v) == 19 or v[19:20] == "."):
        return f"{v[:10]}T{v[11:19]}Z"
    return iso_utc(datetime.fromisoformat(v))  # another writer's format: parse it properly


def _audit_select(audit_filter: AuditFilter | None):
    return audit_query(audit_filter)


def _audit_line(r: tuple) -> str:
    # audit_query: id, at, actor, action, object_type, object_key, brand, user, before, after, reason
    _id, at, actor, action, otype, okey, brand, user, before, after, reason = r
    # before/after: compact JSON text, whatever JSON value they hold (a string included)
    return csv_line(
        (
            at,
            actor,
            action,
            otype,
            okey,
            brand,
            user,
            reason,
            None if before is None else compact_json(before),
            None if after is None else compact_json(after),
        )
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
    # The header: the bare column names (fixed identifiers, nothing to quote or guard).
    yield ("\ufeff" if bom else "") + ",".join(columns) + "\r\n", 0

    if kind == "adoption":
        rows = _report_rows(kind, engine, by, brand, status, months)
        for start in range(0, len(rows), chunk_rows):
            part = rows[start : start + chunk_rows]
            yield "".join(csv_line(r.get(c) for c in columns) for r in part), len(part)
        return

    if kind == "users":
        yield from _users_chunks(engine, search, chunk_rows)
        return

    with engine.connect() as conn:
        stmt = _audit_select(audit_filter)
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
        for part in result.partitions(chunk_rows):
            yield "".join(map(_audit_line, part)), len(part)


def iter_csv(
    kind: str,
    *,
    engine: Engine,
    search: UserSearch | None = None,
    audit_filter: AuditFilter | None = None,
    by: str = "brand",
    brand: str | None = None,
    status: str = "active",
    months: int = DEFAULT_MONTHS,
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
        months=options.pop("months", DEFAULT_MONTHS),
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
    months: int = DEFAULT_MONTHS,
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
    "csv_cell",
    "csv_line",
    "dataframe",
    "iter_csv",
    "safe_cell",
    "write_csv",
]
