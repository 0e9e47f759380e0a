"""An exception after any step of a multi-step write leaves the database as it was."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
from sqlalchemy import MetaData, select

from core.access.permissions import Actor
from core.brands import switches
from core.mailboxes import twofa, users
from core.notices import queueing
from core.platform import audit
from core.platform.db import session_scope
from core.platform.models import Domain
from tests.factories import make_brand, make_user, operator_actor, setup_basic


class Boom(RuntimeError):
    pass


def snapshot(engine) -> dict[str, list]:
    """Every row of every table, as sorted tuples."""
    meta = MetaData()
    with warnings.catch_warnings():  # expression indexes are not reflected; rows are what counts
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            if name.startswith("users_email_fts"):
                continue
            out[name] = sorted(tuple(map(str, r)) for r in conn.execute(table.select()))
    return out


def fail_after(monkeypatch, module, name: str, *, after_call: bool = True) -> None:
    """Make ``module.name`` raise Boom, after doing its work when ``after_call``."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        if after_call:
            original(*args, **kwargs)
        raise Boom(f"injected after {name}")

    monkeypatch.setattr(module, name, wrapper)


def _enrolled(engine) -> str:
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        dom = s.scalars(select(Domain).where(Domain.name == base["d_on"])).one()
        return make_user(s, dom, twofa=True).email


RESET_STEPS: list[tuple[str, object, str]] = [
    ("after the secret is removed", audit, "record"),
    ("after the audit event", audit, "security_event"),
    ("after the notification", queueing, "queue"),
]


@pytest.mark.parametrize(("step", "module", "name"), RESET_STEPS, ids=[s[0] for s in RESET_STEPS])
def test_reset_fault_leaves_nothing(engine, monkeypatch, step, module, name):
    email = _enrolled(engine)
    before = snapshot(engine)
    # "after the secret is removed": audit.record is the next step, so fail it before it runs.
    fail_after(monkeypatch, module, name, after_call=name != "record")
    with pytest.raises(Boom), session_scope(engine, write=True) as s:
        twofa.reset(s, actor=operator_actor(s, "support", "support"), email=email, reason="lost phone")
    assert snapshot(engine) == before


@pytest.mark.parametrize("fail_on_call", [1, 2, 3])
def test_bulk_change_fault_on_any_brand_undoes_all(engine, monkeypatch, fail_on_call):
    setup_basic(engine)
    with session_scope(engine, write=True) as s:
        make_brand(s, "Gamma Mail")
        make_brand(s, "Delta Mail")
    before = snapshot(engine)
    original = audit.record
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        result = original(*args, **kwargs)
        if calls["n"] == fail_on_call:
            raise Boom("injected")
        return result

    monkeypatch.setattr(audit, "record", flaky)
    with pytest.raises(Boom), session_scope(engine, write=True) as s:
        switches.bulk_set_switches(
            s,
            actor=operator_actor(s, "manager", "account_manager"),
            names=["Beta Mail", "Gamma Mail", "Delta Mail"],
            change=switches.SwitchChange(allow_2fa=True),
        )
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("label", "patch"),
    [
        ("after the rows are inserted", lambda mp: fail_after(mp, audit, "record")),
        (
            "before the rows are inserted",
            lambda mp: fail_after(mp, users, "normalize_email", after_call=False),
        ),
    ],
)
def test_import_fault_stores_nothing(engine, monkeypatch, label, patch: Callable):
    base = setup_basic(engine)
    before = snapshot(engine)
    patch(monkeypatch)
    csv_text = "email,display_name,status\n" + "".join(
        f"u{i}@{base['d_on']},U {i},active\n" for i in range(50)
    )
    with pytest.raises(Boom), session_scope(engine, write=True) as s:
        users.import_users(s, actor=Actor.cli(), source=csv_text)
    assert snapshot(engine) == before


def test_css_save_fault_keeps_the_old_css(engine, monkeypatch):
    setup_basic(engine)
    before = snapshot(engine)
    fail_after(monkeypatch, audit, "record")
    with pytest.raises(Boom), session_scope(engine, write=True) as s:
        switches.save_css(
            s,
            actor=operator_actor(s, "manager", "account_manager"),
            name="Alpha Mail",
            css="#login-form .box-inner .modal { color: #111111; background: #ffffff; }",
        )
    assert snapshot(engine) == before


def test_a_locked_sqlite_database_gives_a_clear_refusal_and_no_write(sqlite_url, tmp_path):
    """A write while another process holds the write lock fails cleanly once the wait ends."""
    import sqlite3

    from core.platform.db import get_engine

    engine = get_engine(sqlite_url)
    setup_basic(engine)
    before = snapshot(engine)
    path = sqlite_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # Shorten the 15 s lock wait on the pooled connection the next session reuses.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=200")
        from sqlalchemy.exc import OperationalError

        with pytest.raises(OperationalError, match="locked"), session_scope(engine, write=True) as s:
            switches.set_switches(
                s,
                actor=operator_actor(s, "manager", "account_manager"),
                name="Beta Mail",
                change=switches.SwitchChange(allow_2fa=True),
            )
    finally:
        holder.rollback()
        holder.close()
    assert snapshot(engine) == before
