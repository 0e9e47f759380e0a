"""The database unreachable: the dashboard says so with the next step, and recovers when
it returns; nothing is retried into a duplicate write."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select

from app_pages._ui import DB_BUSY
from core.platform.config import get_settings
from core.platform.db import dispose_engines
from core.platform.models import AuditEvent, Brand
from tests.app_pages.conftest import read, texts


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


def test_a_write_against_an_unreachable_database_changes_nothing(basic, engine, open_page, monkeypatch):
    """The page renders with the database up; it goes away before Update is pressed."""
    at = open_page("brands", as_="manager", brand="Beta Mail")
    at.toggle[0].set_value(True).run()
    (update,) = [b for b in at.button if b.label == "Update"]
    assert not update.disabled
    before = (_events(engine), _brand(engine))
    assert before[1] == (False, 1)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    get_settings.cache_clear()
    update.click().run()
    assert not at.exception
    assert (_events(engine), _brand(engine)) == before
    # The click's write ran and was answered with the next step (the guard then stops the page).
    kind, message = at.session_state["brands_flash"]
    assert (kind, str(message)) == ("error", DB_BUSY)
    # The database is back: the page says the Update did not happen, and nothing was written.
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    at.run()
    assert not at.exception
    assert DB_BUSY in [read(e.value) for e in at.error]
    assert (_events(engine), _brand(engine)) == before


def _brand(engine) -> tuple[bool, int]:
    with engine.connect() as conn:
        row = conn.execute(select(Brand.allow_2fa, Brand.version).where(Brand.name == "Beta Mail")).one()
    return tuple(row)


def _events(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
