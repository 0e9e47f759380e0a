"""Bulk loading, per engine, inside one transaction.

The three big tables are written through the DBAPI driver with explicit ids:
``executemany`` on SQLite, ``COPY FROM STDIN`` on PostgreSQL. Their secondary indexes
(and, on PostgreSQL, their foreign keys and unique constraints) are dropped for the load
and created again, from the database's own definitions, before the commit; sequences are
moved past the ids written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.platform.errors import Refused
from core.platform.models import AppPassword, Brand, Company, Domain, Operator, SecurityEvent, User

BIG_TABLES = ("users", "app_passwords", "security_events")
# Tables whose ids the load writes itself.
WITH_IDS = ("brands", "companies", "domains", "users", "app_passwords", "security_events", "operators")


class Writer:
    """Bulk rows into one table through the driver, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self.raw = conn.connection.driver_connection

    def write(self, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(cols)
        if self.sqlite:
            marks = ", ".join("?" * len(cols))
            self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)


def secondary_indexes(conn: Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes of ``tables`` that can be dropped and rebuilt."""
    if conn.dialect.name == "sqlite":
        marks = ", ".join(f"'{t}'" for t in tables)
        rows = conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})"
        ).all()
    else:
        rows = conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
                "(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"
            ),
            {"tables": list(tables)},
        ).all()
    return [(name, sql) for name, sql in rows]


def pg_constraints(conn: Connection, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys and unique constraints of ``tables``.

    PostgreSQL checks a foreign key row by row (a trigger each) and keeps a unique index
    up to date row by row; adding them back after the load checks everything in one pass.
    """
    rows = conn.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype IN ('f', 'u') "
            "AND c.conrelid = ANY(SELECT to_regclass(t) FROM unnest(CAST(:tables AS text[])) AS t) "
            "ORDER BY c.contype DESC, c.conname"
        ),
        {"tables": list(tables)},
    ).all()
    return [(table, name, definition) for table, name, definition in rows]


def existing_tables(conn: Connection) -> list[str]:
    """The tables of the schema, children first (as they must be emptied)."""
    present = set(inspect(conn).get_table_names())
    return [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name in present]


_REFUSE_IF_ROWS = (
    ("users", User),
    ("brands", Brand),
    ("companies", Company),
    ("domains", Domain),
    ("operators", Operator),
    ("app passwords", AppPassword),
    ("security events", SecurityEvent),
)


def ensure_empty(conn: Connection, replace: bool) -> None:
    if replace:
        tables = existing_tables(conn)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")
        return
    held = []
    for label, model in _REFUSE_IF_ROWS:
        n = conn.execute(select(func.count()).select_from(model)).scalar_one()
        if n:
            held.append(f"{n:,} {label}")
    if held:
        raise Refused(
            f"The database already holds data ({', '.join(held)}); demo data is only loaded into "
            "an empty database. Pass --replace to delete every row of every table first."
        )


def begin(engine: Engine) -> AbstractContextManager[Connection]:
    """One write transaction; on SQLite taken at once (BEGIN IMMEDIATE), not at the first write."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE").begin()
    return engine.begin()


@dataclass
class Dropped:
    """What ``drop_for_load`` took away, to be put back."""

    indexes: list[tuple[str, str]]
    constraints: list[tuple[str, str, str]]


def drop_for_load(conn: Connection, tables: tuple[str, ...]) -> Dropped:
    """Drop the secondary indexes (and, on PostgreSQL, the constraints) of ``tables``."""
    sqlite = conn.dialect.name == "sqlite"
    dropped = Dropped(secondary_indexes(conn, tables), [] if sqlite else pg_constraints(conn, tables))
    for name, _sql in dropped.indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    for table, name, _definition in dropped.constraints:
        conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    if not sqlite:
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    return dropped


def rebuild_indexes(conn: Connection, dropped: Dropped) -> None:
    for _name, sql in dropped.indexes:
        conn.exec_driver_sql(sql)


def restore_constraints(conn: Connection, dropped: Dropped) -> None:
    # Unique constraints first (pg_constraints' order), then the foreign keys they back.
    for table, name, definition in dropped.constraints:
        conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def follow_sequences(conn: Connection) -> None:
    """On PostgreSQL, move each id sequence past the ids the load wrote."""
    if conn.dialect.name == "sqlite":
        return
    for table in WITH_IDS:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
        )


def analyze(conn: Connection) -> None:
    """Gather the planner's statistics once, after the load."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
    conn.exec_driver_sql("ANALYZE")


@contextmanager
def big_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a 256 MiB page cache for the load, the connection's own put back after."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def checkpoint(engine: Engine) -> None:
    """On SQLite, copy the load from the write-ahead log into the database file now, once,
    rather than leaving every later reader to look pages up in a log of several hundred MB."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
