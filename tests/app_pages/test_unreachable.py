"""The database unreachable: the dashboard says so with the next step, and recovers when
it returns; nothing is retried into a duplicate write."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select

from core.platform.config import get_settings
from core.platform.db import dispose_engines
from core.platform.models import AuditEvent
from tests.app_pages.conftest import texts


def test_a_vanished_database_gives_a_clear_error_then_recovers(
    basic, engine, open_page, tmp_path, monkeypatch
):
    at = open_page("overview")
    assert not at.exception
    # Take the database away: move the file (and its WAL) aside, point at a folder
    # that cannot hold a database.
    url = str(engine.url)
    path = engine.url.database
    dispose_engines()
    shutil.move(path, tmp_path / "aside.db")
    for suffix in ("-wal", "-shm"):
        src = tmp_path / f"pages.db{suffix}"
        if src.exists():
            shutil.move(src, tmp_path / f"aside.db{suffix}")
    (tmp_path / "pages.db").mkdir()  # a directory where the file was: SQLite cannot open it
    at.run()
    assert not at.exception
    assert "The database is unreachable or busy right now" in texts(at)
    # The database comes back.
    (tmp_path / "pages.db").rmdir()
    shutil.move(tmp_path / "aside.db", path)
    for suffix in ("-wal", "-shm"):
        src = tmp_path / f"aside.db{suffix}"
        if src.exists():
            shutil.move(src, tmp_path / f"pages.db{suffix}")
    dispose_engines()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    at.run()
    assert not at.exception
    assert "The database is unreachable" not in texts(at)
    assert any(m.label == "Users" for m in at.metric)


def test_a_write_against_an_unreachable_database_changes_nothing(basic, engine, open_page):
    at = open_page("brands", as_="manager", brand="Beta Mail")
    before = _events(engine)
    # Point the app at a PostgreSQL port where nothing listens, then press Update.
    import os

    os.environ["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"
    get_settings.cache_clear()
    try:
        at.toggle[0].set_value(not at.toggle[0].value).run()
        update = [b for b in at.button if b.label == "Update"]
        if update:
            update[0].click().run()
        assert not at.exception
        assert "unreachable or busy" in texts(at)
    finally:
        os.environ["DATABASE_URL"] = str(engine.url)
        get_settings.cache_clear()
    assert _events(engine) == before


def _events(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
