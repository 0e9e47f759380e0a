"""The one engine of a process, short sessions, and the schema helpers.

SQLite runs in WAL mode with foreign keys on. Its write transactions begin with
``BEGIN IMMEDIATE`` so that two writers queue on the database lock up front instead of
both reading and one failing at commit; that is what makes the app-password cap and
the brand version check hold under concurrent requests on SQLite. On PostgreSQL the same
guarantees come from row locks (``SELECT ... FOR UPDATE``) taken by the services.

The SQLite file holds the operators' password hashes: it is created owner-only (0600)
before SQLite first opens it, in a folder made 0700 when the console makes it. SQLite
gives the ``-wal`` and ``-shm`` files (and a rollback ``-journal``) the mode of the
database file, so they are 0600 too, and nothing changes the process's umask.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock

from alembic.config import Config
from sqlalchemy import Select, event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from core.platform.config import PROJECT_ROOT, get_settings, make_private_dir
from core.platform.errors import NotFound

log = logging.getLogger(__name__)
_engines: dict[str, Engine] = {}
_engines_lock = Lock()


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy's "begin" event below decide how a transaction starts.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (the configured database by default), made once a process."""
    url = url or get_settings().database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            _engines[url] = engine
        return engine


def _create_private_file(path: Path) -> None:
    """Create an empty ``path`` with mode 0600 unless it exists (an existing file keeps its mode)."""
    make_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        return
    # An empty file is an empty SQLite database; SQLite copies its mode to -wal and -shm.
    os.close(fd)


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A "file:" URI (uri=true) names its file in SQLite's own syntax: left to SQLite.
        if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
            _create_private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        _sqlite_setup(engine)
        return engine
    # Month boundaries in reports are UTC months: pin the session time zone.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"options": "-c timezone=UTC"},
    )


def dispose_engines() -> None:
    """Close every pooled connection (tests, and after a fork)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = False) -> Iterator[Session]:
    """A short transaction: committed when the block ends, rolled back on any exception.

    ``write=True`` marks a transaction that will write; on SQLite it takes the write
    lock at BEGIN (see the module docstring).

    An exception may carry ``after_rollback(session)``: a record to keep although the
    change was undone (``core.access.permissions`` keeps the audit event of a refusal this way). It
    runs in a write transaction of its own once the first one is rolled back.
    """
    engine = engine or get_engine()
    with Session(_bind(engine, write), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException as exc:
            session.rollback()
            keep = getattr(exc, "after_rollback", None)
            if keep is not None:
                _keep(engine, keep)
            raise


def _bind(engine: Engine, write: bool) -> Engine:
    return engine.execution_options(sqlite_begin="IMMEDIATE") if write and is_sqlite(engine) else engine


def _keep(engine: Engine, keep: Callable[[Session], None]) -> None:
    try:
        with Session(_bind(engine, True), expire_on_commit=False) as session:
            keep(session)
            session.commit()
    except Exception:  # the refusal itself must still reach the person
        log.exception("A record kept after a rollback could not be written")


def first_or_missing(session: Session, stmt: Select, *, for_update: bool = False, missing: str):
    """The first row ``stmt`` selects, locked for update when asked; ``NotFound(missing)`` if none."""
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound(missing)
    return row


def alembic_config(url: str):
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade_schema(url: str | None = None, revision: str = "head") -> None:
    """Create or upgrade the schema with Alembic (SQLite and PostgreSQL alike)."""
    from alembic import command

    command.upgrade(alembic_config(url or get_settings().database_url), revision)
