"""core.access.permissions: every write proves, in its own transaction, who acts and that they still may.

A dashboard page hands core the browser's session (``sessions.session_of``), never a role it
remembered: each test below opens a session, changes the world the way a colleague, an
administrator or the clock would, and then acts through the old session. Runs on SQLite and
PostgreSQL (``db_url``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from core.access import operators, permissions, sessions
from core.access.permissions import Actor
from core.mailboxes import app_passwords, twofa
from core.platform.config import load_settings
from core.platform.db import session_scope
from core.platform.errors import PermissionDenied
from core.platform.models import AuditEvent, Domain, Operator, OperatorSession, User, utcnow
from tests.factories import make_user, session_token, setup_basic

EMAIL = "lost@alpha.example.com"


@pytest.fixture
def world(engine: Engine) -> dict:
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        d = s.scalars(select(Domain).where(Domain.name == base["d_on"])).one()
        make_user(s, d, "lost", twofa=True)
        make_user(s, d, "other", twofa=True)
    return base


def token_for(engine: Engine, username: str) -> str:
    with session_scope(engine, write=True) as s:
        return session_token(s, username)


def reset(engine: Engine, actor: Actor, email: str = EMAIL) -> twofa.ResetResult:
    with session_scope(engine, write=True) as s:
        return twofa.reset(s, actor=actor, email=email, reason="lost phone")


def enrolled(engine: Engine, email: str = EMAIL) -> bool:
    with session_scope(engine) as s:
        return s.scalars(select(User.totp_secret).where(User.email == email)).one() is not None


def refusals(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")))


def admin() -> Actor:
    return Actor(name="admin", role="admin")


def _sign_out(engine: Engine, token: str) -> None:
    with session_scope(engine, write=True) as s:
        sessions.end_session(s, token)


def _deactivate(engine: Engine, token: str) -> None:
    with session_scope(engine, write=True) as s:
        operators.deactivate(s, actor=admin(), username="support")


def _demote(engine: Engine, token: str) -> None:
    with session_scope(engine, write=True) as s:
        operators.set_role(s, actor=admin(), username="support", role="analyst")


def _idle(engine: Engine, token: str) -> None:
    with session_scope(engine, write=True) as s:
        s.execute(update(OperatorSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))


def _too_old(engine: Engine, token: str) -> None:
    # Used a moment ago, but signed in 13 hours ago: past MAC_SESSION_MAX_HOURS (12).
    with session_scope(engine, write=True) as s:
        s.execute(update(OperatorSession).values(created_at=utcnow() - timedelta(hours=13)))


def _password_changed(engine: Engine, token: str) -> None:
    with session_scope(engine, write=True) as s:
        operators.change_password(s, actor=Actor.cli(), username="support", password="a brand new password")


def _authenticator_reset(engine: Engine, token: str) -> None:
    with session_scope(engine, write=True) as s:
        operators.reset_totp(s, actor=admin(), username="support")


def _credentials_stamped(engine: Engine, token: str) -> None:
    # A credential change made by another process that left the session row open.
    with session_scope(engine, write=True) as s:
        s.execute(update(Operator).values(credentials_changed_at=utcnow() + timedelta(seconds=1)))


def _signed_in_again(engine: Engine, token: str) -> None:
    token_for(engine, "support")


def _signed_out_everywhere(engine: Engine, token: str) -> None:
    with session_scope(engine, write=True) as s:
        sessions.sign_out_everywhere(s, actor=admin(), username="support")


CHANGES: dict[str, tuple[Callable[[Engine, str], None], str, str]] = {
    # what happens between render and click: (the change, the refusal's why, its message)
    "sign-out": (_sign_out, "session ended", permissions.SIGNED_OUT),
    "deactivated": (_deactivate, "session ended", permissions.SIGNED_OUT),
    "demoted": (_demote, "session ended", permissions.SIGNED_OUT),
    "idle": (_idle, "session idle", permissions.SIGNED_OUT),
    "absolute lifetime": (_too_old, "session too old", permissions.SIGNED_OUT),
    "password changed": (_password_changed, "session ended", permissions.SIGNED_OUT),
    "authenticator reset": (_authenticator_reset, "session ended", permissions.SIGNED_OUT),
    "credentials changed": (_credentials_stamped, "credentials changed", permissions.SIGNED_OUT),
    "signed in elsewhere": (_signed_in_again, "session ended", permissions.SIGNED_OUT),
    "signed out everywhere": (_signed_out_everywhere, "session ended", permissions.SIGNED_OUT),
}


def test_a_current_session_acts_and_the_event_names_its_operator(engine, world):
    token = token_for(engine, "support")
    result = reset(engine, sessions.session_of(token))
    assert result.email == EMAIL and not enrolled(engine)
    with session_scope(engine) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.2fa_reset")).one()
    assert event.actor == "support"
    assert refusals(engine) == []


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_session_that_may_no_longer_act_is_refused_and_changes_nothing(engine, world, change):
    token = token_for(engine, "support")
    with session_scope(engine) as s:
        assert sessions.session_actor(s, token, touch=False) is not None  # the page rendered
    make_change, why, message = CHANGES[change]
    make_change(engine, token)

    with pytest.raises(PermissionDenied) as err:
        reset(engine, sessions.session_of(token))  # the click in the still-open tab
    assert str(err.value) == message
    assert enrolled(engine), "the 2FA reset went through"
    (refusal,) = refusals(engine)
    assert (refusal.actor, refusal.object_key, refusal.after["why"]) == ("support", "user.reset_2fa", why)
    with session_scope(engine) as s:
        assert sessions.session_actor(s, token, touch=False) is None  # and the next page is signed out


def test_a_role_changed_behind_the_session_is_read_from_the_database(engine, world):
    # Even with the session left open (a role set directly in the database), the role of
    # the moment decides, not the one the page was rendered with.
    token = token_for(engine, "support")
    with session_scope(engine, write=True) as s:
        s.execute(update(Operator).where(Operator.username == "support").values(role="analyst"))
    with pytest.raises(PermissionDenied, match=r"support \(Analyst\) may not reset a user's 2FA"):
        reset(engine, sessions.session_of(token))
    assert enrolled(engine)
    assert refusals(engine)[0].after == {"why": "role", "role": "analyst"}


def test_an_operator_deactivated_behind_the_command_line_may_not_act(engine, world):
    actor = Actor(name="support", role="support")  # what --actor resolved a moment ago
    with session_scope(engine, write=True) as s:
        s.execute(update(Operator).where(Operator.username == "support").values(active=False))
    with pytest.raises(PermissionDenied, match="deactivated"):
        reset(engine, actor)
    assert enrolled(engine)


def test_a_made_up_session_is_refused(engine, world):
    with pytest.raises(PermissionDenied, match="signed out"):
        reset(engine, sessions.session_of("not-a-session"))
    assert enrolled(engine)
    assert refusals(engine)[0].after["why"] == "no such session"


def test_the_remembered_role_of_an_actor_is_never_trusted(engine, world):
    # An Actor that claims a role its operator does not have gets that operator's rights.
    claimed = Actor(name="analyst", role="admin")
    with pytest.raises(PermissionDenied, match=r"analyst \(Analyst\)"):
        reset(engine, claimed)
    assert enrolled(engine)


def test_a_customer_acts_only_on_their_own_mailbox(engine, world):
    with pytest.raises(PermissionDenied, match="own mailbox"), session_scope(engine, write=True) as s:
        twofa.self_disable(s, actor=Actor.customer("other@alpha.example.com"), email=EMAIL)
    assert enrolled(engine)
    with session_scope(engine, write=True) as s:
        twofa.self_disable(s, actor=Actor.customer(EMAIL.upper()), email=EMAIL)
    assert not enrolled(engine)


def test_a_customer_is_named_by_the_address_as_stored(engine, world):
    shouted = Actor.customer(f"  {EMAIL.upper()} ")
    assert (shouted.name, shouted.email) == (f"user:{EMAIL}", EMAIL)
    with session_scope(engine, write=True) as s:
        enrolment = app_passwords.create(s, actor=shouted, email=EMAIL, label="Phone")
        assert app_passwords.revoke(s, actor=shouted, email=EMAIL.upper(), label=enrolment.label) == EMAIL
    with session_scope(engine) as s:
        actors = set(s.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("app_password.%"))))
    assert actors == {f"user:{EMAIL}"}


def test_first_run_setup_may_add_only_the_first_operator(engine, world):
    with (
        pytest.raises(PermissionDenied, match="has operators already"),
        session_scope(engine, write=True) as s,
    ):
        operators.add_operator(
            s, actor=Actor.first_run(), username="intruder", role="admin", password="long enough password"
        )
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(Operator.username == "intruder")) == 0


def test_sign_out_everywhere_is_ones_own_or_an_administrators(engine, world):
    support = token_for(engine, "support")
    analyst = token_for(engine, "analyst")
    with pytest.raises(PermissionDenied), session_scope(engine, write=True) as s:
        sessions.sign_out_everywhere(s, actor=sessions.session_of(analyst), username="support")
    with session_scope(engine) as s:
        assert sessions.session_actor(s, support, touch=False) is not None
    with session_scope(engine, write=True) as s:
        assert sessions.sign_out_everywhere(s, actor=sessions.session_of(analyst), username="analyst") == 1
    with session_scope(engine) as s:
        assert sessions.session_actor(s, analyst, touch=False) is None
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "operator.signed_out_everywhere")
        ).one()
    assert (event.actor, event.object_key, event.after) == ("analyst", "analyst", {"ended_sessions": 1})


def test_signing_in_again_ends_the_older_session(engine, world):
    first = token_for(engine, "support")
    second = token_for(engine, "support")
    with session_scope(engine) as s:
        assert sessions.session_actor(s, first, touch=False) is None
        assert sessions.session_actor(s, second, touch=False) is not None


def test_the_session_lifetime_setting():
    env = {"MAC_SECRET_KEY": load_settings().secret_key}
    assert load_settings(env).session_max_hours == 12
    assert load_settings({**env, "MAC_SESSION_MAX_HOURS": "2"}).session_max_hours == 2
