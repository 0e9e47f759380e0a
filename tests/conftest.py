"""Shared fixtures: a real SQLite file and a real PostgreSQL database per test.

PostgreSQL comes from TEST_DATABASE_URL or, by default, the local server at
127.0.0.1:5432 (trust auth). Each test worker gets its own database, created from the
Alembic migrations once, and every table is emptied between tests. Without a server the
PostgreSQL tests are skipped with the reason, except when CI is set: then they fail.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet

# Settings are read from the environment: fix them before any core module is imported.
_TEST_DIR = tempfile.mkdtemp(prefix="mac-tests-")
os.environ["MAC_SECRET_KEY"] = Fernet.generate_key().decode()
os.environ["MAC_DATA_DIR"] = _TEST_DIR
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TEST_DIR}/default.db")

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from core.platform.config import get_settings  # noqa: E402
from core.platform.db import dispose_engines, get_engine, upgrade_schema  # noqa: E402

get_settings.cache_clear()

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TABLES = (
    "login_failures",
    "operator_sessions",
    "mail_auth_tokens",
    "notifications",
    "security_events",
    "audit_events",
    "app_passwords",
    "users",
    "domains",
    "companies",
    "operators",
    "brands",
    "user_group_counts",
    "event_month_counts",
)


def pg_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or PG_DEFAULT


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI and is unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable ({reason}); start it to run these tests")


@contextmanager
def empty_pg_database(prefix: str) -> Iterator[str]:
    """The URL of a new PostgreSQL database without any table, dropped afterwards.

    Without a server it skips the test with the reason (fails it when CI is set).
    """
    admin_url = make_url(pg_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection error
        admin.dispose()
        _pg_unavailable(str(exc).splitlines()[0])
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def new_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """A new database at the newest schema: an SQLite file in ``tmp_dir`` ("sqlite") or a
    PostgreSQL database ("postgres"); dropped or disposed afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir}/mac-{uuid.uuid4().hex[:8]}.db"
        upgrade_schema(url)
        try:
            yield url
        finally:
            get_engine(url).dispose()
        return
    with empty_pg_database("mac_test") as url:
        upgrade_schema(url)
        yield url


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test worker, at the newest schema."""
    with empty_pg_database(f"mac_test_{worker_id}") as url:
        upgrade_schema(url)
        yield url
        dispose_engines()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def _truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Each test that takes it runs twice: on a new SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/mac.db"
        upgrade_schema(url)
        return url
    url = request.getfixturevalue("pg_url")
    _truncate(get_engine(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/mac.db"
    upgrade_schema(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Engine:
    return get_engine(db_url)
