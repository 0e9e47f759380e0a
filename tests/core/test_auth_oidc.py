"""core.access.oidc, single sign-on: an OIDC identity to an operator's session, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from core.access import oidc, sessions
from core.access.operator_signin import SignInStep
from core.platform.db import session_scope
from core.platform.models import AuditEvent, Operator, OperatorSession
from tests.factories import make_operator

pytestmark = pytest.mark.postgres

DIRECTORY = oidc.oidc_directory(
    {
        "Olga.Ops@Example.com": "OLGA",
        "ada@example.com": "ada",
        "ghost@example.com": "nobody",
        "not-an-email": "olga",
        "blank@example.com": " ",
        "number@example.com": 7,
    }
)


@pytest.fixture
def ops(engine: Engine) -> Engine:
    with session_scope(engine, write=True) as s:
        make_operator(s, "olga", "support")
        make_operator(s, "ada", "admin")
        make_operator(s, "ivan", "analyst")
    return engine


def sign_in(engine: Engine, claims: dict, now: float | None = None) -> SignInStep:
    with session_scope(engine, write=True) as s:
        return oidc.oidc_sign_in(s, provider="acme", claims=claims, directory=DIRECTORY, now=now)


def claims(email: object = "olga.ops@example.com", **more) -> dict:
    return {"sub": "s-1", "email": email, "iat": int(time.time()), **more}


def audit(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_directory_keeps_only_email_to_username_strings():
    assert DIRECTORY == {
        "olga.ops@example.com": "olga",
        "ada@example.com": "ada",
        "ghost@example.com": "nobody",
    }
    assert oidc.oidc_directory(None) == {}


def test_operator_for_email_is_case_insensitive(ops):
    with session_scope(ops) as s:
        for email in ("olga.ops@example.com", "OLGA.OPS@EXAMPLE.COM", " Olga.Ops@example.com "):
            op = oidc.operator_for_email(s, email=email, directory=DIRECTORY)
            assert op is not None and op.username == "olga", email
        assert oidc.operator_for_email(s, email="ghost@example.com", directory=DIRECTORY) is None
        assert oidc.operator_for_email(s, email="ivan@example.com", directory=DIRECTORY) is None
        assert oidc.operator_for_email(s, email="", directory=DIRECTORY) is None


def test_a_mapped_operator_gets_a_session_with_its_role(ops):
    step = sign_in(ops, claims(email_verified=True))
    assert step.ok and step.token
    with session_scope(ops, write=True) as s:
        actor = sessions.session_actor(s, step.token)
        assert actor is not None and (actor.name, actor.role) == ("olga", "support")
        op = s.scalars(select(Operator).where(Operator.username == "olga")).one()
        assert op.last_sign_in_at is not None
        assert s.scalars(select(OperatorSession).where(OperatorSession.operator_id == op.id)).one()
    event = audit(ops)[-1]
    assert (event.actor, event.action, event.object_key) == ("olga", "operator.sign_in", "olga")
    assert event.after == {"method": "oidc", "provider": "acme", "email": "olga.ops@example.com"}
    # The session ends like any other.
    with session_scope(ops, write=True) as s:
        sessions.end_session(s, step.token)
    with session_scope(ops) as s:
        assert sessions.session_actor(s, step.token, touch=False) is None


def test_email_verified_as_the_string_true_counts(ops):
    assert sign_in(ops, claims(email_verified="true")).ok
    assert sign_in(ops, claims(email="ada@example.com")).ok  # no claim: the provider's word


@pytest.mark.parametrize(
    ("given", "reason", "says"),
    [
        (
            claims(email="stranger@example.com"),
            "no operator",
            "There is no operator for stranger@example.com",
        ),
        (claims(email="ghost@example.com"), "no operator", "There is no operator for ghost@example.com"),
        (claims(email_verified=False), "email not verified", "has not verified olga.ops@example.com"),
        (claims(email_verified="false"), "email not verified", "has not verified"),
        (claims(email=None), "no email", "did not give an email address"),
        (claims(email="olga"), "no email", "did not give an email address"),
    ],
)
def test_refusals_are_audited_and_give_no_session(ops, given, reason, says):
    step = sign_in(ops, given)
    assert not step.ok and not step.token
    assert says in step.message
    event = audit(ops)[-1]
    assert event.action == "operator.sign_in_failed"
    assert event.after == {"step": "oidc", "method": "oidc", "provider": "acme", "reason": reason}
    with session_scope(ops) as s:
        assert s.scalars(select(OperatorSession)).first() is None


def test_a_deactivated_operator_is_refused(ops):
    with session_scope(ops, write=True) as s:
        s.execute(update(Operator).where(Operator.username == "olga").values(active=False))
    step = sign_in(ops, claims(email_verified=True))
    assert not step.ok and "deactivated" in step.message
    event = audit(ops)[-1]
    assert (event.action, event.object_key, event.after["reason"]) == (
        "operator.sign_in_failed",
        "olga",
        "deactivated",
    )


def test_an_old_identity_is_not_exchanged(ops):
    issued = claims()["iat"]
    assert sign_in(ops, claims(), now=issued + oidc.OIDC_FRESH_SECONDS - 1).ok
    late = sign_in(ops, claims(iat=issued), now=issued + oidc.OIDC_FRESH_SECONDS + 1)
    assert not late.ok and "took too long" in late.message
    assert not sign_in(ops, claims(iat=issued + 600), now=issued).ok  # from the future
    assert not sign_in(ops, {"email": "olga.ops@example.com"}).ok  # no iat at all
    assert audit(ops)[-1].after["reason"] == "stale identity"
