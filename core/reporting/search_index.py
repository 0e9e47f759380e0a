"""The n-gram index behind the address-fragment search, one function over both engines.

SQLite: an FTS5 table with the trigram tokenizer (``users_email_fts``), kept in step with
``users`` by triggers. PostgreSQL: a ``pg_trgm`` GIN index on ``users.email``, which the
planner uses for ``LIKE '%fragment%'`` by itself.

A fragment shorter than three characters has no trigram; it falls back to a scan in
address order, which finds a page of matches quickly because such fragments are common.
A fragment that matches very many addresses (say ``.com``) does the same: reading the
whole match set to sort it would be slower than walking the address index.

pg_trgm reads only letters and digits: to it "k.r" is the words "k" and "r", whose
trigrams match a fifth of all addresses, so every fragment that spans a dot, an ``@`` or
a hyphen (one in eight of the benchmark's) got no help from ``ix_users_email_trgm``.
``ix_users_email_trgm_folded`` (migration 0004) indexes the address with that
punctuation spelled as letters (``FOLD_FROM`` to ``FOLD_TO``, letters no address
carries), so "k.r" is the single trigram "kªr", as FTS5's trigram tokenizer sees it on
SQLite. The user search takes its candidates from it and tests each with the exact
substring test, so a stray placeholder letter in an address could only add a candidate,
never change a result. A database whose character type does not count those letters as
letters still answers correctly, only as slowly as before.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, func, literal_column, text

FTS_TABLE = "users_email_fts"
# Above this many trigram matches, scanning in address order is the quicker plan.
CANDIDATE_CAP = 5_000
# PostgreSQL walks the address index in slices of this many rows (see core.reporting.search).
WALK_SLICE = 10_000

FOLDED_INDEX = "ix_users_email_trgm_folded"
FOLD_FROM = ".@-_+"
FOLD_TO = "ªºǂǃǀ"
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)

SQLITE_TRIGGERS = {
    "users_fts_ai": f"""
        CREATE TRIGGER IF NOT EXISTS users_fts_ai AFTER INSERT ON users BEGIN
          INSERT INTO {FTS_TABLE}(rowid, email) VALUES (new.id, new.email);
        END""",
    "users_fts_ad": f"""
        CREATE TRIGGER IF NOT EXISTS users_fts_ad AFTER DELETE ON users BEGIN
          INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, email) VALUES ('delete', old.id, old.email);
        END""",
    "users_fts_au": f"""
        CREATE TRIGGER IF NOT EXISTS users_fts_au AFTER UPDATE OF email ON users BEGIN
          INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, email) VALUES ('delete', old.id, old.email);
          INSERT INTO {FTS_TABLE}(rowid, email) VALUES (new.id, new.email);
        END""",
}


def create(conn: Connection) -> None:
    """Create the index for the connection's engine: today's form of what migration 0002 froze
    (tests/reliability/test_migrations.py holds the two to the same schema)."""
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "email, content='users', content_rowid='id', tokenize='trigram')"
            )
        )
        for ddl in SQLITE_TRIGGERS.values():
            conn.execute(text(ddl))
        rebuild(conn)
    else:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        conn.execute(
            text("CREATE INDEX IF NOT EXISTS ix_users_email_trgm ON users USING gin (email gin_trgm_ops)")
        )


def folded(expr: ColumnElement[str]) -> ColumnElement[str]:
    """PostgreSQL: ``expr`` with its punctuation folded, the expression the folded index
    holds (written out as constants so that the planner matches it to the index)."""
    return func.translate(expr, literal_column(f"'{FOLD_FROM}'"), literal_column(f"'{FOLD_TO}'"))


def fold(fragment: str) -> str:
    """``fragment`` folded as ``folded`` folds the address."""
    return fragment.translate(_FOLD)


def create_folded(conn: Connection) -> None:
    """PostgreSQL: the trigram index over the folded address (migration 0004)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {FOLDED_INDEX} ON users USING gin "
                f"(translate(email, '{FOLD_FROM}', '{FOLD_TO}') gin_trgm_ops)"
            )
        )


def drop_folded(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"DROP INDEX IF EXISTS {FOLDED_INDEX}"))


def drop(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        conn.execute(text(f"DROP TABLE IF EXISTS {FTS_TABLE}"))
    else:
        conn.execute(text("DROP INDEX IF EXISTS ix_users_email_trgm"))


def suspend_triggers(conn: Connection) -> None:
    """Before a bulk load on SQLite: per-row index upkeep would triple the load time."""
    if conn.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def resume_triggers(conn: Connection) -> None:
    """After a bulk load on SQLite: rebuild the index once and put the triggers back."""
    if conn.dialect.name == "sqlite":
        rebuild(conn)
        for ddl in SQLITE_TRIGGERS.values():
            conn.execute(text(ddl))


def rebuild(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))


def fts_phrase(fragment: str) -> str:
    """An FTS5 phrase matching ``fragment`` literally (double quotes doubled)."""
    return '"' + fragment.replace('"', '""') + '"'
