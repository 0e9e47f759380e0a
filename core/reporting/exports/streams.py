"""The per-engine streams of the large reports: the users export and the audit log.

The ``users`` and ``audit`` exports stream their rows in chunks of ``chunk_rows`` rows (the
audit log through a server-side cursor) and format each chunk on its own, so memory stays
flat for a million rows; the result is never held whole, by the database driver or here.

The ``users`` export (a million rows; 300,000 rows/s is the goal on both engines) keeps
Python's work per row to one f-string. Its query (``_users_select``, through ``cells.guard_sql``) applies the rule for
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

from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Select, String, cast, func, select, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from core.platform.audit import AuditFilter, audit_query
from core.platform.models import AppPassword
from core.reporting.exports.cells import csv_line, escape_pieces, guard_sql, iso_utc, quoted
from core.reporting.exports.registry import audit_cells
from core.reporting.search_query import UserSearch, user_search_query


def _users_select(engine: Engine, search: UserSearch | None, limit: int | None) -> Select:
    """The user search with the export's columns, in the order the mailboxes were created,
    the text cells' starts already through the cell rule; the first ``limit`` of them when given.

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
    stmt = (
        select(*(guard_sql(c, first_code) for c in texts), u.c.twofa, app_passwords, *time_cols)
        .select_from(u)
        .outerjoin(live, live.c.user_id == u.c.id)
        .order_by(u.c.id)
    )
    return stmt if limit is None else stmt.limit(limit)


def users_chunks(
    engine: Engine, search: UserSearch | None, chunk_rows: int, limit: int | None
) -> Iterator[tuple[str, int]]:
    """(text, rows in it) chunks of the users export, without the header.

    The rows stream through the driver's own cursor: PostgreSQL sends them in chunks as it
    produces them (libpq's chunked-rows mode; no ``DECLARE CURSOR``, which would rule out a
    parallel plan), SQLite steps through the result as it is fetched. Each row becomes one
    line (the six text cells between quotes, the rest bare) and each chunk is checked as a
    whole (``_lines_plain``); the lines of a chunk that fails it are checked one by one, and
    those that fail are made again by ``_users_line``.
    """
    stmt = _users_select(engine, search, limit)
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
    texts = (quoted(escape_pieces(c)) for c in cells[:6])
    return ",".join([*texts, *map(str, cells[6:])]) + "\r\n"


def _sqlite_time(v: str | None) -> str:
    """A time as SQLite stores it ("YYYY-MM-DD HH:MM:SS.ffffff", UTC) in ISO 8601 with Z."""
    if not v:
        return ""
    if v[10:11] == " " and (len(v) == 19 or v[19:20] == "."):
        return f"{v[:10]}T{v[11:19]}Z"
    return iso_utc(datetime.fromisoformat(v))  # another writer's format: parse it properly


def audit_chunks(
    engine: Engine, audit_filter: AuditFilter | None, chunk_rows: int, limit: int | None
) -> Iterator[tuple[str, int]]:
    """(text, rows in it) chunks of the audit log, newest first, through a server-side cursor."""
    stmt = audit_query(audit_filter)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
        for part in result.partitions(chunk_rows):
            yield "".join(csv_line(audit_cells(r)) for r in part), len(part)
