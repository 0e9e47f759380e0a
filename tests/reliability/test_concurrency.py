"""Concurrent writers: no lost update, no phantom event, the cap of four holds, and a reset
racing a login ends in one of the two orders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pyotp
from sqlalchemy import func, select

from core.access.permissions import Actor
from core.brands import switches
from core.brands.switches import SwitchChange
from core.mailboxes import app_passwords, mailbox_login, twofa
from core.mailboxes.users import get_user
from core.platform.db import session_scope
from core.platform.errors import Conflict, Refused
from core.platform.models import AppPassword, AuditEvent, Domain
from tests.factories import PASSWORD, make_user, operator_actor, setup_basic

WORKERS = 20


def run_together(n: int, job: Callable[[int], str]) -> list[str]:
    """Start ``n`` threads at one barrier and collect what each returns."""
    barrier = threading.Barrier(n)
    results: list[str] = [""] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = job(i)
        except Exception as exc:  # the test asserts on every outcome
            results[i] = f"error: {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _switch_events(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "brand.switches_changed")
        )


def managers(engine) -> list[Actor]:
    """One account manager per worker, each a real operator (core reads it in every write)."""
    with session_scope(engine, write=True) as s:
        return [operator_actor(s, f"manager{i}", "account_manager") for i in range(WORKERS)]


def test_twenty_saves_of_one_loaded_version_land_once(engine):
    base = setup_basic(engine)
    actors = managers(engine)
    with session_scope(engine) as s:
        loaded = switches.get_brand(s, base["off"]).version
    changes = [
        SwitchChange(allow_2fa=True),
        SwitchChange(allow_app_passwords=True),
        SwitchChange(allow_2fa=True, allow_user_disable_2fa=True),
        SwitchChange(allow_2fa=True, allow_app_passwords=True),
    ]

    def save(i: int) -> str:
        try:
            with session_scope(engine, write=True) as s:
                switches.set_switches(
                    s,
                    actor=actors[i],
                    name=base["off"],
                    change=changes[i % len(changes)],
                    expected_version=loaded,
                )
            return "saved"
        except Conflict as exc:
            assert "was changed" in str(exc)
            return "conflict"

    results = run_together(WORKERS, save)
    assert results.count("saved") == 1, results
    assert results.count("conflict") == WORKERS - 1, results
    assert _switch_events(engine) == 1
    with session_scope(engine) as s:
        assert switches.get_brand(s, base["off"]).version == loaded + 1


def test_twenty_saves_that_each_reload_all_land(engine):
    base = setup_basic(engine)
    actors = managers(engine)

    def save(i: int) -> str:
        for _attempt in range(50):
            with session_scope(engine) as s:
                version = switches.get_brand(s, base["off"]).version
            try:
                with session_scope(engine, write=True) as s:
                    switches.set_switches(
                        s,
                        actor=actors[i],
                        name=base["off"],
                        # Alternate so every save really changes something.
                        change=SwitchChange(allow_2fa=(version % 2 == 1)),
                        expected_version=version,
                    )
                return "saved"
            except Conflict:
                continue
        return "gave up"

    results = run_together(WORKERS, save)
    assert results == ["saved"] * WORKERS
    assert _switch_events(engine) == WORKERS
    with session_scope(engine) as s:
        assert switches.get_brand(s, base["off"]).version == 1 + WORKERS


def test_twenty_app_password_creations_leave_exactly_four(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        email = make_user(s, s.scalars(select(Domain).where(Domain.name == base["d_on"])).one()).email

    def create(i: int) -> str:
        try:
            with session_scope(engine, write=True) as s:
                app_passwords.create(s, actor=Actor.customer(email), email=email, label=f"Device {i}")
            return "created"
        except Refused as exc:
            assert "already has 4 app passwords" in str(exc)
            return "refused"

    results = run_together(WORKERS, create)
    assert results.count("created") == 4, results
    assert results.count("refused") == WORKERS - 4, results
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(AppPassword)) == 4


def test_reset_racing_a_login_ends_in_one_order(engine):
    base = setup_basic(engine)
    for round_ in range(6):
        secret = pyotp.random_base32()
        with session_scope(engine, write=True) as s:
            dom = s.scalars(select(Domain).where(Domain.name == base["d_on"])).one()
            email = make_user(s, dom, f"race{round_}", twofa=True, secret=secret).email
        code = pyotp.TOTP(secret).now()
        now = time.time()

        def job(i: int, email=email, code=code, now=now) -> str:
            if i == 0:
                with session_scope(engine, write=True) as s:
                    twofa.reset(
                        s, actor=operator_actor(s, "support", "support"), email=email, reason="lost phone"
                    )
                return "reset"
            with session_scope(engine, write=True) as s:
                return mailbox_login.check_login(s, email=email, secret=PASSWORD, code=code, now=now).rule

        reset_result, login_rule = run_together(2, job)
        assert reset_result == "reset"
        # Login first: it needed and accepted the code. Reset first: no code is asked for
        # (the secret is gone), so the password alone lets the user in. Never anything else.
        assert login_rule == "ok"
        with session_scope(engine) as s:
            user = get_user(s, email)
            assert user.totp_secret is None and user.totp_enrolled_at is None and user.totp_last_step is None
        with session_scope(engine, write=True) as s:
            # After the reset the user is not asked for a code.
            assert mailbox_login.check_login(s, email=email, secret=PASSWORD).ok
