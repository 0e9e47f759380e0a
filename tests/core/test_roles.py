"""Every operator role against every write in core, and the command line's --actor.

A role that may act succeeds; any other gets PermissionDenied naming the role and the
action, and the database is exactly as it was. Runs on SQLite and PostgreSQL (``db_url``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.access import operators
from core.access.permissions import PERMISSION_WORDS, PERMISSIONS, ROLE_LABELS, Actor
from core.brands import switches
from core.brands.switches import SwitchChange
from core.mailboxes import app_passwords, twofa
from core.platform.db import session_scope
from core.platform.errors import PermissionDenied
from core.platform.models import ROLES, AppPassword, AuditEvent, Brand, Domain, Notification, Operator, User
from tests.factories import make_app_password, make_user, setup_basic

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
USERNAME = {"admin": "admin", "support": "support", "account_manager": "manager", "analyst": "analyst"}
EMAIL = "lost@alpha.example.com"
CSS = "#login-form .box-inner .modalheader { color: #000; background: #fff; }"


@pytest.fixture
def world(engine: Engine) -> dict:
    """setup_basic, plus a mailbox with 2FA and an app password to act on."""
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        d = s.scalars(select(Domain).where(Domain.name == base["d_on"])).one()
        u = make_user(s, d, "lost", twofa=True)
        make_app_password(s, u, "iPhone Mail")
    return base


def snapshot(engine: Engine) -> dict:
    """Everything a write could change, as plain values."""
    with session_scope(engine) as s:
        return {
            "brands": s.execute(
                select(
                    Brand.name,
                    Brand.allow_2fa,
                    Brand.allow_user_disable_2fa,
                    Brand.allow_app_passwords,
                    Brand.custom_login_css,
                    Brand.version,
                ).order_by(Brand.name)
            ).all(),
            "users": s.execute(select(User.email, User.totp_secret).order_by(User.email)).all(),
            "app_passwords": s.execute(select(AppPassword.label, AppPassword.revoked_at)).all(),
            "operators": s.execute(
                select(Operator.username, Operator.role, Operator.active, Operator.totp_secret).order_by(
                    Operator.username
                )
            ).all(),
            # A refusal is recorded (access.refused) but changes nothing else.
            "audit": s.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "access.refused")
            ),
            "notifications": s.scalar(select(func.count()).select_from(Notification)),
        }


WRITES: dict[str, tuple[str, Callable[[Session, Actor, dict], object]]] = {
    "switches.set_switches": (
        "brand.update",
        lambda s, a, w: switches.set_switches(s, actor=a, name=w["on"], change=SwitchChange(allow_2fa=False)),
    ),
    "switches.bulk_set_switches": (
        "brand.update",
        lambda s, a, w: switches.bulk_set_switches(
            s, actor=a, names=[w["on"], w["off"]], change=SwitchChange(allow_app_passwords=False)
        ),
    ),
    "switches.save_css": ("brand.css", lambda s, a, w: switches.save_css(s, actor=a, name=w["on"], css=CSS)),
    "twofa.reset": (
        "user.reset_2fa",
        lambda s, a, w: twofa.reset(s, actor=a, email=EMAIL, reason="lost phone"),
    ),
    "app_passwords.revoke": (
        "app_password.revoke",
        lambda s, a, w: app_passwords.revoke(s, actor=a, email=EMAIL, label="iPhone Mail"),
    ),
    "operators.add_operator": (
        "operator.manage",
        lambda s, a, w: operators.add_operator(
            s, actor=a, username="newcomer", role="analyst", password="a long enough password"
        ),
    ),
    "operators.set_role": (
        "operator.manage",
        lambda s, a, w: operators.set_role(s, actor=a, username="analyst", role="support"),
    ),
    "operators.deactivate": (
        "operator.recover",
        lambda s, a, w: operators.deactivate(s, actor=a, username="manager"),
    ),
    "operators.reset_totp": (
        "operator.recover",
        lambda s, a, w: operators.reset_totp(s, actor=a, username="support"),
    ),
}


def test_the_matrix_covers_every_role_and_the_issue_table():
    assert set(ROLES) == set(USERNAME)
    allowed = {w: sorted(r for r in ROLES if r in PERMISSIONS[action]) for w, (action, _) in WRITES.items()}
    assert allowed["twofa.reset"] == ["admin", "support"]
    assert allowed["app_passwords.revoke"] == ["admin", "support"]
    assert allowed["switches.set_switches"] == allowed["switches.save_css"] == ["account_manager", "admin"]
    assert allowed["operators.set_role"] == ["admin"]


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_write(engine, world, role, write):
    action, call = WRITES[write]
    with session_scope(engine) as s:
        actor = operators.actor_for(s, USERNAME[role])
    assert actor.role == role
    before = snapshot(engine)
    if role in PERMISSIONS[action]:
        with session_scope(engine, write=True) as s:
            call(s, actor, world)
        after = snapshot(engine)
        assert after != before
        assert after["audit"] > before["audit"]  # every write leaves its event
    else:
        with pytest.raises(PermissionDenied) as err, session_scope(engine, write=True) as s:
            call(s, actor, world)
        message = str(err.value)
        assert ROLE_LABELS[role] in message and PERMISSION_WORDS[action] in message, message
        assert isinstance(err.value, PermissionError)
        assert snapshot(engine) == before
        (refusal,) = refusals(engine)
        assert (refusal.actor, refusal.object_key) == (USERNAME[role], action)
        assert refusal.after == {"why": "role", "role": role}


def refusals(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")))


def test_the_command_line_itself_may_not_manage_operators_once_one_exists(engine, world):
    before = snapshot(engine)
    with pytest.raises(PermissionDenied), session_scope(engine, write=True) as s:
        operators.add_operator(s, actor=Actor.cli(), username="sneaky", role="admin", password="x" * 12)
    with pytest.raises(PermissionDenied), session_scope(engine, write=True) as s:
        operators.set_role(s, actor=Actor.cli(), username="analyst", role="admin")
    assert snapshot(engine) == before


def test_a_customer_may_not_act_as_an_operator(engine, world):
    customer = Actor.customer(EMAIL)
    before = snapshot(engine)
    for name in ("switches.set_switches", "switches.save_css", "twofa.reset", "operators.set_role"):
        with pytest.raises(PermissionDenied), session_scope(engine, write=True) as s:
            WRITES[name][1](s, customer, world)
    assert snapshot(engine) == before


# --- the command line ---------------------------------------------------------------------


def cli(db_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run(
        [PY, "-m", "core", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )


@pytest.mark.parametrize("role", ROLES)
def test_cli_brands_set_by_role(db_url, engine, world, role):
    before = snapshot(engine)
    r = cli(db_url, "brands", "set", world["on"], "--no-allow-2fa", "--actor", USERNAME[role])
    if role in PERMISSIONS["brand.update"]:
        assert r.returncode == 0, r.stderr
        assert snapshot(engine)["brands"] != before["brands"]
    else:
        assert r.returncode == 1
        assert f"{USERNAME[role]} ({ROLE_LABELS[role]}) may not change brand switches" in r.stderr
        assert "Traceback" not in r.stderr
        assert snapshot(engine) == before


COMMANDS = [
    # (what, args, a role that may not, a role that may)
    ("css", ["brands", "css", "Alpha Mail", "--file", "-"], "support", "account_manager"),
    ("reset", ["users", "reset-2fa", EMAIL, "--reason", "lost phone"], "account_manager", "support"),
    ("revoke", ["app-passwords", "revoke", EMAIL, "--label", "iPhone Mail"], "analyst", "support"),
    ("set-role", ["operators", "set-role", "analyst", "--role", "support"], "support", "admin"),
    ("add", ["operators", "add", "newcomer", "--role", "analyst", "--password-stdin"], "analyst", "admin"),
]


@pytest.mark.parametrize(("what", "args", "denied", "allowed"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_cli_write_commands_check_the_actor(db_url, engine, world, what, args, denied, allowed):
    stdin = CSS if what == "css" else ("a long enough password\n" if what == "add" else None)
    before = snapshot(engine)
    refused = cli(db_url, *args, "--actor", USERNAME[denied], stdin=stdin)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"({ROLE_LABELS[denied]}) may not" in refused.stderr
    assert snapshot(engine) == before
    done = cli(db_url, *args, "--actor", USERNAME[allowed], stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert snapshot(engine) != before


def test_cli_unknown_actor_exits_1_with_the_reason(db_url, engine, world):
    before = snapshot(engine)
    r = cli(db_url, "brands", "set", world["on"], "--no-allow-2fa", "--actor", "ghost")
    assert r.returncode == 1
    assert "There is no operator 'ghost'" in r.stderr and "Traceback" not in r.stderr
    assert snapshot(engine) == before


def test_cli_deactivated_actor_exits_1(db_url, engine, world):
    with session_scope(engine, write=True) as s:
        s.execute(update(Operator).where(Operator.username == "manager").values(active=False))
    before = snapshot(engine)
    r = cli(db_url, "brands", "set", world["on"], "--no-allow-2fa", "--actor", "manager")
    assert r.returncode == 1 and "deactivated" in r.stderr
    assert snapshot(engine) == before
