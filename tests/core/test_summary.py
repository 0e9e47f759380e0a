"""The running counts (core.reporting.running_counts) agree with a fresh count after every kind of write.

The adoption figures read these counts, so a trigger that misses a case would show wrong
numbers without any error: each test writes in one way, then compares the kept counts with
a count made from the rows (``running_counts.differences``) and with an independent Python count.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, text, update

from core.access.permissions import Actor
from core.mailboxes import app_passwords, twofa
from core.platform.db import alembic_config, get_engine, session_scope, upgrade_schema
from core.platform.models import (
    AppPassword,
    Brand,
    Company,
    Domain,
    SecurityEvent,
    User,
    UserGroupCount,
    utcnow,
)
from core.reporting import adoption, history, running_counts
from tests.factories import make_app_password, make_brand, make_domain, make_user, operator_actor


def assert_in_step(engine) -> None:
    with engine.connect() as conn:
        assert running_counts.differences(conn) == []


def python_adoption(engine) -> dict[str, tuple[int, int, int, int]]:
    """brand -> (active users, enrolled, users with live app passwords, live app passwords),
    counted in Python from the rows, whatever the switches say."""
    out: dict[str, list[int]] = {}
    with session_scope(engine) as s:
        live: dict[int, int] = {}
        for ap in s.scalars(select(AppPassword).where(AppPassword.revoked_at.is_(None))):
            live[ap.user_id] = live.get(ap.user_id, 0) + 1
        brand_name = dict(s.execute(select(Brand.id, Brand.name)).all())
        company_brand = dict(s.execute(select(Company.id, Company.brand_id)).all())
        domain = {d.id: (d.brand_id, company_brand[d.company_id]) for d in s.scalars(select(Domain))}
        for user in s.scalars(select(User).where(User.status == "active")):
            dom_brand, comp_brand = domain[user.domain_id]
            c = out.setdefault(brand_name[user.brand_id or dom_brand or comp_brand], [0, 0, 0, 0])
            c[0] += 1
            c[1] += user.totp_enrolled_at is not None
            c[2] += live.get(user.id, 0) > 0
            c[3] += live.get(user.id, 0)
    return {k: tuple(v) for k, v in out.items()}


def kept_adoption(engine) -> dict[str, tuple[int, int, int, int]]:
    with session_scope(engine) as s:
        out = {}
        for name in adoption.brand_names(s):
            brand_id = s.execute(select(Brand.id).where(Brand.name == name)).scalar_one()
            users, enrolled, ap, ap_users = adoption.brand_counts(s, brand_id)
            if users:
                out[name] = (users, enrolled, ap_users, ap)
    return out


@pytest.fixture
def world(db_url):
    engine = get_engine(db_url)
    with session_scope(engine, write=True) as s:
        a = make_brand(s, "Alpha", allow_2fa=True, allow_app_passwords=True)
        b = make_brand(s, "Beta", allow_2fa=False, allow_app_passwords=True)
        c = make_brand(s, "Gamma", allow_2fa=True, allow_app_passwords=False)
        d1 = make_domain(s, a, "one.example")
        d2 = make_domain(s, b, "two.example", domain_brand=c)
        users = []
        for i in range(12):
            u = make_user(
                s,
                d1 if i % 2 else d2,
                f"u{i}",
                twofa=i % 3 == 0,
                status="suspended" if i == 5 else "active",
                brand=b if i % 4 == 1 else None,
            )
            users.append(u.id)
        for i, uid in enumerate(users[:6]):
            user = s.get(User, uid)
            for n in range(i % 3):
                make_app_password(s, user, f"Device {n}")
        ids = {"brands": (a.id, b.id, c.id), "domains": (d1.id, d2.id), "users": users}
    assert_in_step(engine)
    return engine, ids


def test_the_seed_and_the_counts_agree(world):
    engine, _ = world
    assert kept_adoption(engine) == python_adoption(engine)


def test_user_moves_status_changes_and_enrolment_are_counted(world):
    engine, ids = world
    users, (a, _b, c), (d1, d2) = ids["users"], ids["brands"], ids["domains"]
    with session_scope(engine, write=True) as s:
        s.execute(update(User).where(User.id == users[0]).values(domain_id=d1))
        s.execute(update(User).where(User.id == users[1]).values(brand_id=c))
        s.execute(update(User).where(User.id == users[2]).values(brand_id=None))
        s.execute(update(User).where(User.id == users[3]).values(status="suspended"))
        s.execute(update(User).where(User.id == users[4]).values(totp_enrolled_at=utcnow()))
        s.execute(update(User).where(User.id == users[6]).values(totp_enrolled_at=None))
        # a change that moves nothing: a new enrolment time for an enrolled user
        s.execute(update(User).where(User.id == users[9]).values(totp_enrolled_at=utcnow()))
    assert_in_step(engine)
    # one statement that touches many users at once
    with session_scope(engine, write=True) as s:
        s.execute(update(User).where(User.domain_id == d2).values(status="suspended", brand_id=a))
    assert_in_step(engine)
    assert kept_adoption(engine) == python_adoption(engine)


def test_app_password_writes_of_every_shape_are_counted(world):
    engine, ids = world
    users = ids["users"]
    with session_scope(engine, write=True) as s:
        # several rows in one statement, for one user and for several users
        s.execute(
            insert(AppPassword),
            [
                {"user_id": users[7], "label": "One", "password_hash": "x"},
                {"user_id": users[7], "label": "Two", "password_hash": "x"},
                {"user_id": users[8], "label": "One", "password_hash": "x"},
                {"user_id": users[1], "label": "Extra", "password_hash": "x"},
            ],
        )
        # already revoked when written: never live
        s.execute(
            insert(AppPassword).values(user_id=users[9], label="Old", password_hash="x", revoked_at=utcnow())
        )
    assert_in_step(engine)
    with session_scope(engine, write=True) as s:
        s.execute(update(AppPassword).where(AppPassword.user_id == users[7]).values(revoked_at=utcnow()))
        s.execute(update(AppPassword).where(AppPassword.user_id == users[9]).values(revoked_at=None))
        s.execute(update(AppPassword).values(last_used_at=utcnow()))  # changes no count
    assert_in_step(engine)
    with session_scope(engine, write=True) as s:
        s.execute(delete(AppPassword).where(AppPassword.user_id.in_([users[1], users[2], users[8]])))
    assert_in_step(engine)
    assert kept_adoption(engine) == python_adoption(engine)


def test_services_keep_the_counts(world):
    engine, ids = world
    users = ids["users"]
    with session_scope(engine, write=True) as s:
        actor = operator_actor(s, "support", "support")
        emails = [s.get(User, uid).email for uid in users]
    with session_scope(engine, write=True) as s:
        app_passwords.create(s, actor=Actor.cli(), email=emails[9], label="Laptop")
        app_passwords.create(s, actor=Actor.cli(), email=emails[9], label="Phone")
    with session_scope(engine, write=True) as s:
        app_passwords.revoke(s, actor=actor, email=emails[9], label="Laptop")
        twofa.reset(s, actor=actor, email=emails[0], reason="lost phone")
    assert_in_step(engine)
    assert kept_adoption(engine) == python_adoption(engine)


def test_deleting_users_and_events(world):
    engine, ids = world
    users = ids["users"]
    with session_scope(engine, write=True) as s:
        s.execute(delete(AppPassword).where(AppPassword.user_id == users[11]))
        s.execute(delete(User).where(User.id == users[11]))
        s.add(SecurityEvent(user_id=users[10], brand_id=ids["brands"][0], kind="2fa_enrolled"))
    assert_in_step(engine)
    with session_scope(engine, write=True) as s:
        s.execute(delete(SecurityEvent))
    assert_in_step(engine)
    with session_scope(engine) as s:
        assert all(r["enrolments"] == 0 for r in history.adoption_by_month(s, months=3))


def test_a_random_mix_of_writes_stays_in_step(world):
    engine, ids = world
    rng = random.Random(11)
    users, brands, domains = ids["users"], ids["brands"], ids["domains"]
    for step in range(40):
        uid = rng.choice(users)
        with session_scope(engine, write=True) as s:
            what = rng.randrange(6)
            if what == 0:
                s.execute(update(User).where(User.id == uid).values(domain_id=rng.choice(domains)))
            elif what == 1:
                s.execute(update(User).where(User.id == uid).values(brand_id=rng.choice([None, *brands])))
            elif what == 2:
                s.execute(
                    update(User).where(User.id == uid).values(status=rng.choice(["active", "suspended"]))
                )
            elif what == 3:
                s.execute(
                    update(User).where(User.id == uid).values(totp_enrolled_at=rng.choice([None, utcnow()]))
                )
            elif what == 4:
                s.execute(insert(AppPassword).values(user_id=uid, label=f"L{step}", password_hash="x"))
            else:
                s.execute(
                    update(AppPassword)
                    .where(AppPassword.user_id == uid, AppPassword.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                )
        assert_in_step(engine)
    assert kept_adoption(engine) == python_adoption(engine)


def test_rebuild_repairs_counts_that_were_tampered_with(world):
    engine, _ = world
    with session_scope(engine, write=True) as s:
        s.execute(update(UserGroupCount).values(users=UserGroupCount.users + 5))
    with engine.connect() as conn:
        assert running_counts.differences(conn)
    with engine.begin() as conn:
        running_counts.rebuild(conn)
    assert_in_step(engine)


@pytest.mark.postgres
def test_concurrent_first_app_passwords_count_the_user_once(pg_url):
    """Two transactions each add a first app password for one user, without the service's
    lock: the trigger's own lock on the user's row still counts the user once."""
    engine = get_engine(pg_url)
    with session_scope(engine, write=True) as s:
        s.execute(delete(AppPassword))
        s.execute(delete(SecurityEvent))
        s.execute(delete(User))
        a = make_brand(s, "Concurrent", allow_2fa=True, allow_app_passwords=True)
        d = make_domain(s, a, "concurrent.example")
        uid = make_user(s, d, "racer").id
        brand_id = a.id
    errors: list[BaseException] = []
    second_pid: list[int] = []
    second_ready = threading.Event()
    second_done = threading.Event()

    def second() -> None:
        try:
            with engine.begin() as conn:
                second_pid.append(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
                second_ready.set()
                conn.execute(insert(AppPassword).values(user_id=uid, label="Device 2", password_hash="x"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            second_ready.set()
            second_done.set()

    with engine.begin() as first:
        me = first.execute(text("SELECT pg_backend_pid()")).scalar_one()
        first.execute(insert(AppPassword).values(user_id=uid, label="Device 1", password_hash="x"))
        racer = threading.Thread(target=second)
        racer.start()
        assert second_ready.wait(timeout=30) and second_pid, errors
        # Commit only once PostgreSQL reports the second insert waiting on this transaction.
        waits = text("SELECT :me = ANY(pg_blocking_pids(:pid))").bindparams(me=me, pid=second_pid[0])
        with engine.connect() as watch:
            blocked, deadline = False, time.monotonic() + 30
            while not blocked and not second_done.is_set() and time.monotonic() < deadline:
                blocked = watch.execute(waits).scalar_one()
        assert blocked, f"the second insert did not wait for the first: {errors}"
    racer.join(timeout=30)
    assert not errors
    assert_in_step(engine)
    with session_scope(engine) as s:
        assert adoption.brand_counts(s, brand_id)[2:] == (2, 1)  # two app passwords, one user


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_upgrading_a_database_with_data_counts_what_is_there(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path}/old.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = get_engine(url)
    if backend == "postgres":  # the fixture's database is at head: go back first
        command.downgrade(alembic_config(url), "0002")
    else:
        upgrade_schema(url, "0002")
    with engine.begin() as conn:  # written while no trigger existed
        conn.exec_driver_sql("DELETE FROM app_passwords")
        conn.exec_driver_sql("DELETE FROM security_events")
        conn.exec_driver_sql("DELETE FROM users")
        conn.exec_driver_sql("DELETE FROM domains")
        conn.exec_driver_sql("DELETE FROM companies")
        conn.exec_driver_sql("DELETE FROM brands")
        conn.exec_driver_sql(
            "INSERT INTO brands (id, name, allow_2fa, allow_user_disable_2fa, allow_app_passwords, "
            "custom_login_css, version, created_at, updated_at) "
            "VALUES (1, 'Old', true, false, true, '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        conn.exec_driver_sql(
            "INSERT INTO companies (id, name, brand_id, created_at) VALUES (1, 'Old Co', 1, CURRENT_TIMESTAMP)"
        )
        conn.exec_driver_sql("INSERT INTO domains (id, name, company_id) VALUES (1, 'old.example', 1)")
        conn.exec_driver_sql(
            "INSERT INTO users (id, email, domain_id, display_name, status, created_at, totp_enrolled_at) VALUES "
            "(1, 'a@old.example', 1, 'A', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
            "(2, 'b@old.example', 1, 'B', 'active', CURRENT_TIMESTAMP, NULL)"
        )
        conn.exec_driver_sql(
            "INSERT INTO app_passwords (user_id, label, password_hash, created_at) "
            "VALUES (2, 'Mail', 'x', CURRENT_TIMESTAMP)"
        )
    upgrade_schema(url)  # 0003: counts what is there, then keeps counting
    assert_in_step(engine)
    with session_scope(engine) as s:
        assert adoption.brand_counts(s, 1) == (2, 1, 1, 1)
