"""Schema upgrades: an old database keeps its rows and gains working counts, search and
triggers; each revision runs only its own frozen statements; and those statements still
build the schema today's code expects, on both engines."""

from __future__ import annotations

import ast
import re
import shutil
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import core.platform.models  # noqa: F401  (registers every table on SQLModel.metadata)
from core.platform.config import PROJECT_ROOT
from core.platform.db import alembic_config, get_engine, session_scope, upgrade_schema
from core.reporting import running_counts, search_index
from core.reporting.search import search_users
from core.reporting.search_query import UserSearch
from tests.conftest import empty_pg_database

REVISIONS = sorted((PROJECT_ROOT / "migrations" / "versions").glob("*.py"))
# What a revision may import: it must run the same way whatever today's code says.
ALLOWED_IMPORTS = {"__future__", "alembic", "collections", "sqlalchemy", "typing"}


@pytest.fixture(params=["sqlite", "postgres"])
def new_database(request, tmp_path) -> Iterator[Callable[[], str]]:
    """Makes empty databases of one engine (files, or PostgreSQL databases dropped afterwards)."""
    with ExitStack() as stack:

        def make() -> str:
            if request.param == "sqlite":
                return f"sqlite:///{tmp_path}/mac_migrate_{uuid.uuid4().hex[:8]}.db"
            return stack.enter_context(empty_pg_database("mac_migrate"))

        yield make


# --- a database as the console of revision 0001 left it ------------------------------------


def _at(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _add(conn: Connection, table: sa.Table, **row: object) -> int:
    """Insert one row as a console does (the database picks the id) and return its id."""
    return conn.execute(table.insert().values(**row)).inserted_primary_key[0]


def _write_as_0001(conn: Connection, tables: sa.MetaData) -> dict[str, int]:
    """Rows in 0001's own tables (reflected from the database, so no later column is known);
    the ids of the brands, domains and mailboxes by name."""
    t = tables.tables
    ids: dict[str, int] = {}
    for name in ("Alpha", "Beta", "Gamma"):
        ids[name] = _add(
            conn,
            t["brands"],
            name=name,
            allow_2fa=True,
            allow_user_disable_2fa=False,
            allow_app_passwords=True,
            custom_login_css="",
            version=1,
            created_at=_at(8, 1),
            updated_at=_at(8, 1),
        )
    alpha_co = _add(conn, t["companies"], name="Alpha Co", brand_id=ids["Alpha"], created_at=_at(8, 1))
    beta_co = _add(conn, t["companies"], name="Beta Co", brand_id=ids["Beta"], created_at=_at(8, 1))
    domains = (("alpha.example", alpha_co, None), ("beta.example", beta_co, None))
    domains += (("gamma.example", alpha_co, ids["Gamma"]),)
    for name, company_id, brand_id in domains:
        ids[name] = _add(conn, t["domains"], name=name, company_id=company_id, brand_id=brand_id)
    for i in range(1, 25):
        domain = domains[i % 3][0]
        local = "first.last" if i == 24 else f"mailbox{i:02d}"
        enrolled = i % 2 == 0
        ids[local] = uid = _add(
            conn,
            t["users"],
            email=f"{local}@{domain}",
            domain_id=ids[domain],
            brand_id=ids["Beta"] if i % 7 == 0 else None,
            display_name=f"Mailbox {i}",
            status="suspended" if i % 5 == 0 else "active",
            created_at=_at(8, 2),
            password_hash="x",
            totp_secret="x" if enrolled else None,
            totp_enrolled_at=_at(9 + i % 3, 10) if enrolled else None,
        )
        ap = t["app_passwords"]
        if i % 4 == 0:
            for label in ("Phone", "Laptop"):
                _add(conn, ap, user_id=uid, label=label, password_hash="x", created_at=_at(9, 1))
        if i % 6 == 0:
            _add(
                conn,
                ap,
                user_id=uid,
                label="Old",
                password_hash="x",
                created_at=_at(8, 5),
                revoked_at=_at(9, 5),
            )
        if enrolled:
            _add(
                conn,
                t["security_events"],
                user_id=uid,
                brand_id=ids["Alpha"],
                kind="enrolled",
                at=_at(9 + i % 3, 10),
            )
    # the last minutes of October in UTC are October's, whatever the server's zone
    _add(
        conn,
        t["security_events"],
        user_id=ids["mailbox02"],
        brand_id=ids["Alpha"],
        kind="disabled",
        at=_at(10, 31, 23, 30),
    )
    _add(
        conn,
        t["audit_events"],
        at=_at(9, 1),
        actor="admin",
        action="brand.update",
        object_type="brand",
        object_key="Alpha",
        brand_id=ids["Alpha"],
        before={"allow_2fa": False},
        after={"allow_2fa": True},
    )
    _add(
        conn,
        t["notifications"],
        user_id=ids["mailbox02"],
        kind="2fa_reset",
        recipient="mailbox02@gamma.example",
        subject="Your sign-in was reset",
        body="Hello",
        created_at=_at(9, 2),
        status="pending",
        attempts=0,
        next_attempt_at=_at(9, 2),
    )
    operator = _add(
        conn,
        t["operators"],
        username="admin",
        display_name="Admin",
        role="admin",
        password_hash="x",
        totp_confirmed=False,
        active=True,
        created_at=_at(8, 1),
    )
    _add(
        conn,
        t["operator_sessions"],
        token_hash="0" * 64,
        operator_id=operator,
        created_at=_at(9, 1),
        last_seen_at=_at(9, 1),
    )
    _add(conn, t["login_failures"], subject="operator:admin", at=_at(9, 1))
    return ids


def _rows(conn: Connection, tables: sa.MetaData) -> dict[str, list[tuple]]:
    """Every row of 0001's tables, by 0001's columns."""
    return {
        name: [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]
        for name, table in tables.tables.items()
    }


# --- what the running counts must say, counted here in Python -------------------------------


def _month(at: datetime) -> str:
    return (at if at.tzinfo is None else at.astimezone(UTC)).strftime("%Y-%m")


def _expected_groups(conn: Connection, t: dict[str, sa.Table]) -> dict[tuple, tuple[int, ...]]:
    live = Counter(
        r.user_id
        for r in conn.execute(sa.select(t["app_passwords"]).where(t["app_passwords"].c.revoked_at.is_(None)))
    )
    groups: dict[tuple, list[int]] = {}
    for u in conn.execute(sa.select(t["users"])):
        enrolled, n = u.totp_enrolled_at is not None, live[u.id]
        g = groups.setdefault((u.domain_id, u.brand_id or 0, u.status), [0, 0, 0, 0, 0])
        for k, add in enumerate((1, enrolled, n > 0, enrolled and n > 0, n)):
            g[k] += int(add)
    return {key: tuple(g) for key, g in groups.items()}


def _expected_months(conn: Connection, t: dict[str, sa.Table]) -> dict[tuple, int]:
    return dict(
        Counter((_month(e.at), e.brand_id, e.kind) for e in conn.execute(sa.select(t["security_events"])))
    )


def _kept_groups(conn: Connection) -> dict[tuple, tuple[int, ...]]:
    rows = conn.execute(
        text(
            "SELECT domain_id, user_brand_id, status, users, enrolled, ap_users, ap_users_enrolled, ap_count "
            "FROM user_group_counts"
        )
    )
    kept = {(r[0], r[1], r[2]): tuple(int(v) for v in r[3:]) for r in rows}
    return {key: sums for key, sums in kept.items() if any(sums)}


def _kept_months(conn: Connection) -> dict[tuple, int]:
    rows = conn.execute(text("SELECT month, brand_id, kind, n FROM event_month_counts"))
    return {(r[0], r[1], r[2]): int(r[3]) for r in rows if r[3]}


def _assert_counts_in_step(conn: Connection, t: dict[str, sa.Table]) -> None:
    assert _kept_groups(conn) == _expected_groups(conn, t)
    assert _kept_months(conn) == _expected_months(conn, t)


# --- what the search index must find ---------------------------------------------------------


def _found_by_index(conn: Connection, fragment: str) -> list[str]:
    """Addresses containing ``fragment``, read through the n-gram index only."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            text(
                "SELECT u.email FROM users_email_fts f JOIN users u ON u.id = f.rowid "
                "WHERE users_email_fts MATCH :phrase ORDER BY u.email"
            ),
            {"phrase": '"' + fragment + '"'},
        )
        return [r[0] for r in rows]
    folded = fragment.translate(str.maketrans(".@-_+", "ªºǂǃǀ"))
    checks = (
        ("ix_users_email_trgm", "email LIKE :pattern", f"%{fragment}%"),
        ("ix_users_email_trgm_folded", "translate(email, '.@-_+', 'ªºǂǃǀ') LIKE :pattern", f"%{folded}%"),
    )
    found = []
    for index, condition, pattern in checks:
        with conn.begin_nested():
            # Left only bitmap scans, the planner reads the trigram index or the whole table.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            conn.execute(text("SET LOCAL enable_indexscan = off"))
            query = f"SELECT email FROM users WHERE {condition} ORDER BY email"
            plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {query}"), {"pattern": pattern}))
            assert f"Bitmap Index Scan on {index}" in plan, plan
            found.append([r[0] for r in conn.execute(text(query), {"pattern": pattern})])
    assert found[0] == found[1]
    return found[0]


def _expected_found(conn: Connection, fragment: str) -> list[str]:
    return sorted(r[0] for r in conn.execute(text("SELECT email FROM users")) if fragment in r[0])


def test_a_database_made_at_0001_keeps_its_rows_and_gains_counts_search_and_triggers(new_database):
    url = new_database()
    upgrade_schema(url, "0001")
    engine = get_engine(url)
    old = sa.MetaData()
    with engine.begin() as conn:
        old.reflect(conn)
        old.remove(old.tables["alembic_version"])
        ids = _write_as_0001(conn, old)
    with engine.connect() as conn:
        before = _rows(conn, old)

    upgrade_schema(url)  # to head

    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert _rows(conn, old) == before
        t = old.tables
        # The counts of the rows written before any count existed,
        _assert_counts_in_step(conn, t)
        assert sum(s[0] for s in _kept_groups(conn).values()) == 24
        assert _kept_months(conn)[("2026-10", ids["Alpha"], "disabled")] == 1
        # and the addresses written before the index existed, found through it.
        assert _found_by_index(conn, "box1") == _expected_found(conn, "box1")
        assert len(_found_by_index(conn, "box1")) == 10
        assert _found_by_index(conn, "t.l") == ["first.last@alpha.example"]
        # and the app passwords made before 0006 keep every protocol and wait for their lookup key.
        assert conn.execute(text("SELECT DISTINCT protocols, lookup_key FROM app_passwords")).all() == [
            ("imap,pop3,smtp,sieve,dav", None)
        ]
    with session_scope(engine) as s:
        found = search_users(s, UserSearch(text="box1"), limit=50)
    with engine.connect() as conn:
        assert [r["email"] for r in found] == _expected_found(conn, "box1")

    # Every trigger the upgrade made, at work on writes made after it.
    users, ap, events = t["users"], t["app_passwords"], t["security_events"]
    with engine.begin() as conn:
        newcomer = _add(
            conn,
            users,
            email="newcomer@alpha.example",
            domain_id=ids["alpha.example"],
            display_name="Newcomer",
            status="active",
            created_at=_at(12, 1),
            totp_secret="x",
            totp_enrolled_at=_at(12, 1),
        )
        # a first app password (mailbox01 had none), and one of two revoked (mailbox04)
        _add(conn, ap, user_id=ids["mailbox01"], label="Phone", password_hash="x", created_at=_at(12, 1))
        revoke = ap.update().where(ap.c.user_id == ids["mailbox04"], ap.c.label == "Laptop")
        conn.execute(revoke.values(revoked_at=_at(12, 2)))
        # mailbox08 (two live app passwords) moves to another group; mailbox11 changes address
        move = users.update().where(users.c.id == ids["mailbox08"])
        conn.execute(move.values(status="suspended", brand_id=ids["Gamma"]))
        conn.execute(
            users.update().where(users.c.id == ids["mailbox11"]).values(email="renamed@gamma.example")
        )
        conn.execute(users.delete().where(users.c.id == ids["mailbox03"]))
        _add(conn, events, user_id=newcomer, brand_id=ids["Alpha"], kind="enrolled", at=_at(12, 3))
        conn.execute(events.delete().where(events.c.kind == "disabled"))
    with engine.connect() as conn:
        _assert_counts_in_step(conn, t)
        assert ("2026-10", ids["Alpha"], "disabled") not in _kept_months(conn)
        assert _kept_months(conn)[("2026-12", ids["Alpha"], "enrolled")] == 1
        for fragment in ("box1", "newcomer", "renamed", "box03"):
            assert _found_by_index(conn, fragment) == _expected_found(conn, fragment)
        assert _found_by_index(conn, "box11") == []
        assert _found_by_index(conn, "comer@al") == ["newcomer@alpha.example"]


# --- each revision holds its own statements ------------------------------------------------


def _imports(path: Path) -> set[str]:
    """The top-level modules ``path`` imports, statically or by name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or "").partition(".")[0])
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in {"__import__", "import_module"}:
                found.add(f"{called}(...)")
    return found


@pytest.mark.parametrize("path", REVISIONS, ids=[p.stem for p in REVISIONS])
def test_a_revision_imports_nothing_but_alembic_and_sqlalchemy(path):
    assert _imports(path) <= ALLOWED_IMPORTS


def test_the_import_check_sees_every_way_of_reaching_core(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import core.reporting\nfrom core.reporting import running_counts\nfrom . import sibling\n"
        "import importlib\nimportlib.import_module('core.reporting')\n"
    )
    assert _imports(probe) == {"core", ".", "importlib", "import_module(...)"}
    assert REVISIONS, "no revision found"


# --- the frozen statements still build what today's code expects -----------------------------


def _normal(sql: str) -> str:
    """SQL without comments and with its whitespace collapsed."""
    return " ".join(re.sub(r"--[^\n]*", " ", sql).split())


def _schema(conn: Connection) -> dict[str, object]:
    """Tables, columns, keys, indexes, triggers and functions, comparable across databases."""
    inspector = sa.inspect(conn)
    out: dict[str, object] = {}
    # SQLite's expression index cannot be reflected; sqlite_master below holds its statement.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
            out[f"table {table}"] = {
                "columns": sorted(
                    (c["name"], repr(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(table)
                ),
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign keys": sorted(
                    (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                    for fk in inspector.get_foreign_keys(table)
                ),
                "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            }
    if conn.dialect.name == "sqlite":
        catalog = conn.execute(
            text(
                "SELECT CASE WHEN type = 'table' THEN 'virtual table' ELSE type END, name, sql "
                "FROM sqlite_master WHERE sql IS NOT NULL "
                "AND (type IN ('index', 'trigger') OR sql LIKE 'CREATE VIRTUAL TABLE%')"
            )
        )
        out |= {f"{kind} {name}": _normal(sql) for kind, name, sql in catalog}
        return out
    catalog = conn.execute(
        text(
            "SELECT 'index ' || indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
            "UNION ALL SELECT 'trigger ' || tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal "
            "UNION ALL SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', "
            "pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND NOT EXISTS "
            "(SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') "
            "UNION ALL SELECT 'extension ' || extname, extversion FROM pg_extension"
        )
    )
    out |= {key: _normal(definition) for key, definition in catalog}
    return out


def _build_as_todays_code(url: str) -> None:
    """The schema as today's models, search index and running counts describe it."""
    with get_engine(url).begin() as conn:
        SQLModel.metadata.create_all(conn)
        search_index.create(conn)
        search_index.create_folded(conn)
        running_counts.create_triggers(conn)


def test_the_migrated_schema_is_the_one_todays_code_creates(new_database):
    migrated, fresh = new_database(), new_database()
    upgrade_schema(migrated)
    _build_as_todays_code(fresh)
    with get_engine(migrated).connect() as a, get_engine(fresh).connect() as b:
        migrated_schema, fresh_schema = _schema(a), _schema(b)
    assert migrated_schema == fresh_schema
    assert any(key.startswith("trigger summary_") for key in migrated_schema)


def test_every_revision_downgrades_to_empty_and_upgrades_again(new_database):
    url, straight = new_database(), new_database()
    upgrade_schema(url)
    command.downgrade(alembic_config(url), "base")
    with get_engine(url).connect() as conn:
        assert [key for key in _schema(conn) if not key.startswith("extension ")] == []
    upgrade_schema(url)
    upgrade_schema(straight)
    with get_engine(url).connect() as a, get_engine(straight).connect() as b:
        assert _schema(a) == _schema(b)


def test_autogenerate_finds_nothing_to_write_at_head(new_database):
    url = new_database()
    upgrade_schema(url)
    with warnings.catch_warnings():  # SQLite's expression index cannot be compared; the test above does
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        command.check(alembic_config(url))


def test_a_new_autogenerated_revision_imports_nothing_but_alembic_and_sqlalchemy(tmp_path):
    """Autogenerate against a database at 0001 writes today's tables in plain SQLAlchemy types."""
    scripts = tmp_path / "migrations"
    shutil.copytree(PROJECT_ROOT / "migrations", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (scripts / "versions").glob("*.py"):
        if not path.name.startswith("0001_"):
            path.unlink()
    cfg = alembic_config(f"sqlite:///{tmp_path}/autogenerate.db")
    cfg.set_main_option("script_location", str(scripts))
    command.upgrade(cfg, "head")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        command.revision(cfg, autogenerate=True, message="probe", rev_id="probe")
    (written,) = (scripts / "versions").glob("probe_*.py")
    source = written.read_text()
    assert "op.create_table('user_group_counts'" in source
    assert "sa.Column('credentials_changed_at', sa.DateTime(timezone=True)" in source
    assert "sqlmodel" not in source
    assert _imports(written) <= ALLOWED_IMPORTS
