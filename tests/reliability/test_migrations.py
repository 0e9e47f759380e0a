"""A schema upgrade from the first migration to head keeps every row, on both engines."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from core.platform.db import alembic_config, get_engine, session_scope, upgrade_schema
from core.reporting import running_counts
from core.reporting.search import search_users
from core.reporting.search_query import UserSearch
from tests.conftest import TABLES, empty_pg_database
from tests.factories import make_app_password, make_brand, make_domain, make_user


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrate.db"
        return
    with empty_pg_database("mac_migrate") as url:
        yield url


# The running counts (migration 0003) come after the first migration.
COUNT_TABLES = ("user_group_counts", "event_month_counts")


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in TABLES
            if t not in COUNT_TABLES
        }


def test_upgrade_from_first_migration_keeps_every_row(empty_url):
    upgrade_schema(empty_url, "0001")
    engine = get_engine(empty_url)
    with session_scope(engine, write=True) as s:
        brand = make_brand(s, "Old Brand", allow_2fa=True, allow_app_passwords=True)
        dom = make_domain(s, brand, "old.example.com")
        for i in range(30):
            u = make_user(s, dom, f"mailbox{i:02d}", twofa=i % 2 == 0)
            if i % 5 == 0:
                make_app_password(s, u, "Phone")
    before = _counts(engine)
    upgrade_schema(empty_url)  # to head
    assert _counts(engine) == before
    with session_scope(engine) as s:
        found = search_users(s, UserSearch(text="box1"), limit=50)
    # Rows written before the index existed are found through it.
    assert [r["email"] for r in found] == [f"mailbox{i}@old.example.com" for i in range(10, 20)]
    # and counted by the running counts that came later
    with engine.connect() as conn:
        assert running_counts.differences(conn) == []
        assert conn.execute(text("SELECT sum(users), sum(enrolled) FROM user_group_counts")).one() == (30, 15)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == ScriptDirectory.from_config(alembic_config(empty_url)).get_current_head()
