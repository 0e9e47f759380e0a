"""Every device kind accepts a code once and is throttled after five failures, the same way.

Each kind is driven twice: through its authenticator (``verify``) and through the sign-in
that uses it (a mailbox's ``check_login``, an operator's ``check_code``), on SQLite and
PostgreSQL. A new throttled device kind must be added to ``KINDS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.access import operator_signin
from core.access.operator_authenticator import OperatorAuthenticator
from core.mailboxes import mailbox_login
from core.mailboxes.mailbox_authenticator import MailboxAuthenticator
from core.platform import throttle
from core.platform.authenticator import ThrottledAuthenticator
from core.platform.db import session_scope
from core.platform.models import LoginFailure, Operator, User
from tests.factories import PASSWORD, make_brand, make_domain, make_operator, make_user

EMAIL = "ann@alpha.example.com"
OPERATOR = "olga"


@dataclass(frozen=True)
class Kind:
    """One device kind: how to load its authenticator, and how its sign-in takes a code."""

    cls: type[ThrottledAuthenticator]
    subject: str
    device: Callable[[Session], ThrottledAuthenticator]
    # (session, code, now) -> (accepted, throttled)
    sign_in: Callable[[Session, str, float], tuple[bool, bool]]


def _mailbox(s: Session) -> MailboxAuthenticator:
    return MailboxAuthenticator(s.scalars(select(User).where(User.email == EMAIL).with_for_update()).one())


def _operator(s: Session) -> OperatorAuthenticator:
    return OperatorAuthenticator(
        s.scalars(select(Operator).where(Operator.username == OPERATOR).with_for_update()).one()
    )


def _mailbox_sign_in(s: Session, code: str, now: float) -> tuple[bool, bool]:
    outcome = mailbox_login.check_login(s, email=EMAIL, secret=PASSWORD, code=code, now=now)
    return outcome.ok, outcome.rule == "throttled"


def _operator_sign_in(s: Session, code: str, now: float) -> tuple[bool, bool]:
    ticket = operator_signin.make_ticket(OPERATOR, now=now)
    step = operator_signin.check_code(s, ticket=ticket, code=code, now=now)
    return step.ok, step.message.startswith(f"Too many failed attempts for {OPERATOR}")


KINDS = {
    "mailbox": Kind(MailboxAuthenticator, f"user:{EMAIL}", _mailbox, _mailbox_sign_in),
    "operator": Kind(OperatorAuthenticator, f"operator:{OPERATOR}", _operator, _operator_sign_in),
}


def _kinds(base: type) -> set[type]:
    """The classes below ``base`` that nothing derives from: the device kinds."""
    below = base.__subclasses__()
    return {base} if not below else set().union(*(_kinds(cls) for cls in below))


def test_every_throttled_device_kind_is_tested():
    assert {kind.cls for kind in KINDS.values()} == _kinds(ThrottledAuthenticator)


@pytest.fixture
def secret(engine: Engine) -> str:
    """A mailbox of a brand with 2FA on and an operator, both enrolled with the same secret."""
    secret = pyotp.random_base32()
    with session_scope(engine, write=True) as s:
        brand = make_brand(s, "Alpha Mail", allow_2fa=True)
        make_user(s, make_domain(s, brand, "alpha.example.com"), "ann", twofa=True, secret=secret)
        make_operator(s, OPERATOR, "support", secret=secret)
    return secret


def _wrong(secret: str, now: float) -> str:
    right = {pyotp.TOTP(secret).at(now + d) for d in (-30, 0, 30)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 111_111)) if c not in right)


def _failures(engine: Engine, subject: str) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.subject == subject))


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


def test_a_code_is_accepted_once_by_the_device(engine, secret, kind):
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    with session_scope(engine, write=True) as s:
        assert kind.device(s).verify(s, code, now=now).ok
    with session_scope(engine, write=True) as s:
        again = kind.device(s).verify(s, code, now=now)
    assert (again.ok, again.reason) == (False, "reused")
    with session_scope(engine, write=True) as s:  # RFC 6238 §5.2: an older step is used up too
        assert kind.device(s).verify(s, pyotp.TOTP(secret).at(now - 30), now=now).reason == "reused"
    assert _failures(engine, kind.subject) == 2


def test_a_code_is_accepted_once_by_the_sign_in(engine, secret, kind):
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    with session_scope(engine, write=True) as s:
        assert kind.sign_in(s, code, now) == (True, False)
    with session_scope(engine, write=True) as s:
        assert kind.sign_in(s, code, now) == (False, False)
    with session_scope(engine, write=True) as s:
        assert kind.sign_in(s, pyotp.TOTP(secret).at(now + 30), now) == (True, False)


def test_the_sixth_failure_within_15_minutes_is_throttled_by_the_device(engine, secret, kind):
    now = time.time()
    for _ in range(throttle.FAILURES):
        with session_scope(engine, write=True) as s:
            assert kind.device(s).verify(s, _wrong(secret, now), now=now).reason == "wrong"
    with session_scope(engine, write=True) as s:
        sixth = kind.device(s).verify(s, pyotp.TOTP(secret).at(now), now=now)  # the right code
    assert (sixth.ok, sixth.reason) == (False, "throttled")
    with session_scope(engine) as s:
        assert sixth.until == throttle.throttled_until(s, kind.subject)
    assert _failures(engine, kind.subject) == throttle.FAILURES  # a throttled attempt is not counted


def test_the_sixth_failure_within_15_minutes_is_throttled_by_the_sign_in(engine, secret, kind):
    now = time.time()
    for _ in range(throttle.FAILURES):
        with session_scope(engine, write=True) as s:
            assert kind.sign_in(s, _wrong(secret, now), now) == (False, False)
    with session_scope(engine, write=True) as s:
        assert kind.sign_in(s, pyotp.TOTP(secret).at(now), now) == (False, True)
    assert _failures(engine, kind.subject) == throttle.FAILURES


def test_a_code_of_the_wrong_form_is_no_failure(engine, secret, kind):
    with session_scope(engine, write=True) as s:
        verdict = kind.device(s).verify(s, "12ab56")
    assert (verdict.ok, verdict.reason) == (False, "malformed") and "6 digits" in verdict.message
    assert _failures(engine, kind.subject) == 0
