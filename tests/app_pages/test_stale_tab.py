"""A tab left open: the page rendered for an operator who, by the click, may no longer act.

Streamlit runs a widget's callback before the page's guard, so the click is judged by core
alone (``core.access.permissions.require``, in the write's own transaction). Each test renders a page
as the operator, changes the world behind the open tab, clicks, and checks that nothing
changed, that the refusal is in the audit log and that the page then says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from core.access import operators, sessions
from core.access.permissions import Actor
from core.platform.db import session_scope
from core.platform.models import (
    AppPassword,
    AuditEvent,
    Brand,
    Domain,
    Operator,
    OperatorSession,
    User,
    utcnow,
)
from tests.app_pages.conftest import texts
from tests.factories import make_app_password, make_user

ADMIN = Actor(name="admin", role="admin")


@pytest.fixture
def ann(engine: Engine, basic: dict) -> str:
    with session_scope(engine, write=True) as s:
        alpha = s.scalars(select(Domain).where(Domain.name == basic["d_on"])).one()
        user = make_user(s, alpha, "ann", twofa=True)
        make_app_password(s, user, "iPhone Mail")
    return f"ann@{basic['d_on']}"


def _token(at: AppTest) -> str:
    return at.session_state["auth_token"]


def signed_out(engine: Engine, at: AppTest, username: str) -> None:
    with session_scope(engine, write=True) as s:
        sessions.end_session(s, _token(at))


def deactivated(engine: Engine, at: AppTest, username: str) -> None:
    with session_scope(engine, write=True) as s:
        operators.deactivate(s, actor=ADMIN, username=username)


def demoted(engine: Engine, at: AppTest, username: str) -> None:
    with session_scope(engine, write=True) as s:
        operators.set_role(s, actor=ADMIN, username=username, role="analyst")


def went_idle(engine: Engine, at: AppTest, username: str) -> None:
    with session_scope(engine, write=True) as s:
        s.execute(update(OperatorSession).values(last_seen_at=utcnow() - timedelta(minutes=45)))


def password_changed(engine: Engine, at: AppTest, username: str) -> None:
    with session_scope(engine, write=True) as s:
        operators.change_password(s, actor=Actor.cli(), username=username, password="another long password")


CHANGES: dict[str, Callable[[Engine, AppTest, str], None]] = {
    "signed out": signed_out,
    "deactivated": deactivated,
    "demoted": demoted,
    "idle": went_idle,
    "password changed": password_changed,
}


def refusal_count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return len(s.scalars(select(AuditEvent.id).where(AuditEvent.action == "access.refused")).all())


def enrolled(engine: Engine, email: str) -> bool:
    with session_scope(engine) as s:
        return s.scalars(select(User.totp_secret).where(User.email == email)).one() is not None


@pytest.mark.parametrize("change", list(CHANGES))
def test_disable_2fa_in_a_dialog_left_open(open_page, engine, ann, change):
    at = open_page("users", as_="support", user=ann)
    at.button("users_reset_open").click().run()
    assert "users_reset_confirm" in [b.key for b in at.button]  # the dialog is open
    CHANGES[change](engine, at, "support")
    at.button("users_reset_confirm").click().run()
    assert not at.exception
    assert enrolled(engine, ann), "the stale tab reset the user's 2FA"
    assert refusal_count(engine) == 1
    assert "You are signed out." in texts(at)
    assert "users_reset_confirm" not in [b.key for b in at.button]


def test_a_role_lowered_behind_an_open_session_is_refused_in_the_dialog(open_page, engine, ann):
    # The session stays current, only the role changed: the dialog says why.
    at = open_page("users", as_="support", user=ann)
    at.button("users_reset_open").click().run()
    with session_scope(engine, write=True) as s:
        s.execute(update(Operator).where(Operator.username == "support").values(role="analyst"))
    at.button("users_reset_confirm").click().run()
    assert enrolled(engine, ann)
    assert "support (Analyst) may not reset a user's 2FA" in texts(at)


@pytest.mark.parametrize("change", ["signed out", "demoted"])
def test_revoke_confirmed_in_a_tab_left_open(open_page, engine, ann, change):
    at = open_page("users", as_="support", user=ann)
    at.button("users_revoke_open").click().run()
    CHANGES[change](engine, at, "support")
    at.button("users_revoke_confirm").click().run()
    assert not at.exception
    with session_scope(engine) as s:
        assert s.scalars(select(AppPassword.revoked_at)).one() is None
    assert refusal_count(engine) == 1


@pytest.mark.parametrize("change", ["signed out", "deactivated"])
def test_bulk_brand_change_in_a_tab_left_open(open_page, engine, basic, change):
    at = open_page("brands", as_="manager")
    at.multiselect("brands_bulk_names").set_value(["Alpha Mail", "Beta Mail"])
    at.selectbox("brands_bulk_allow_app_passwords").select("On").run()
    CHANGES[change](engine, at, "manager")
    at.button("brands_bulk_apply").click().run()
    assert not at.exception
    with session_scope(engine) as s:
        beta = s.scalars(select(Brand).where(Brand.name == "Beta Mail")).one()
    assert beta.allow_app_passwords is False and beta.version == 1
    assert refusal_count(engine) == 1
