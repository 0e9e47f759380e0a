"""Operator sign-in: password, then a code from the operator's own authenticator.

The web adapter (``web.signin``) calls these; it holds no rule of its own. Failed
attempts are rows of ``login_failures`` (a reload does not reset them): after 5 failures
for a username within 15 minutes, sign-in for it waits until the window passes. Before
that, one client address may make ``MAC_SIGNIN_PER_MINUTE`` (20) password attempts a
minute (``core.access.client_limit``), and a username that no operator could have never
reaches the database. The password is checked against a hash made by the same hasher
whether or not the name exists, outside any transaction.

A right code opens a session (``core.access.sessions``). The code is checked by the
operator's ``OperatorAuthenticator`` (``core.access.operator_authenticator``): the throttle,
then RFC 6238 with the replay guard, the same path as a customer's mailbox.

Between the password step and the code step the browser carries a *pending* ticket: the
username, the time and an HMAC over both, valid for 5 minutes. It proves the password
was right without keeping any state for half-signed-in browsers.

Single sign-on, which stands in for both steps, is ``core.access.oidc``. First-run setup
(``create_first_admin``) makes the first administrator while no operator exists, and
hands on a pending ticket to their enrolment.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.access import client_limit, operators
from core.access.operator_authenticator import OperatorAuthenticator, throttle_subject
from core.access.permissions import Actor
from core.access.sessions import open_session
from core.platform import audit, throttle, totp
from core.platform.crypto import encrypt_secret, hash_password, sign, signature_ok, verify_password
from core.platform.db import session_scope
from core.platform.errors import BadInput, NotFound
from core.platform.events import OperatorSignedIn, OperatorSignInFailed, OperatorTotpEnrolled
from core.platform.models import Operator, utcnow

PENDING_COOKIE = "mac_pending"
PENDING_SECONDS = 300
ISSUER = "MAC Security Console"


# The longest input each step reads; the rest of a longer one is never looked at.
NAME_MAX = 64
CODE_MAX = 20
DISPLAY_NAME_MAX = 200


@dataclass(frozen=True)
class SignInStep:
    ok: bool
    message: str
    next: str = ""  # "code" (enrolled) or "enrol" (no authenticator yet) after a right password
    ticket: str = ""  # the pending ticket, after a right password
    token: str = ""  # the session token, after a right code
    limited: bool = False  # refused by the per-client attempt limit, before any other check
    username: str = ""  # the name as read (trimmed, lowercase, bounded), to offer it again


def _no(message: str, **fields: object) -> SignInStep:
    return SignInStep(ok=False, message=message, **fields)  # type: ignore[arg-type]


def _throttle_message(username: str, until: datetime) -> str:
    minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
    return (
        f"Too many failed attempts for {username}: sign-in waits about {minutes} more "
        f"minute{'s' if minutes != 1 else ''}, until {until:%H:%M} UTC."
    )


def _failed(session: Session, username: str, why: str) -> SignInStep:
    """The refusal of a wrong password or code, audited; the throttle has counted it already."""
    # The event says which step failed, never the password or the code given.
    who = username or "(blank)"
    audit.record(session, OperatorSignInFailed(username=who, step=why), actor=who)
    return _no(
        "Wrong username, password or code."
        if why != "code"
        else "That code is not valid; try the current one."
    )


def make_ticket(username: str, now: float | None = None) -> str:
    stamp = str(int(time.time() if now is None else now))
    return f"{username}|{stamp}|{sign(f'pending|{username}|{stamp}')}"


def read_ticket(ticket: str, now: float | None = None) -> str | None:
    """The username a pending ticket vouches for, or None when it is forged or stale."""
    try:
        username, stamp, mac = (ticket or "").split("|")
        age = (time.time() if now is None else now) - int(stamp)
    except ValueError:
        return None
    if not signature_ok(f"pending|{username}|{stamp}", mac) or not 0 <= age <= PENDING_SECONDS:
        return None
    return username


# What a sign-in username may hold before it reaches the database or the audit log: the
# operator username rule (core.access.operators.check_username), at most 64 characters.
_SIGN_IN_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
INVALID_NAME = "(invalid username)"


def typed_name(username: str | None) -> str:
    """The username as typed, trimmed, lowercase and at most ``NAME_MAX`` characters (to show again)."""
    return (username or "")[:NAME_MAX].strip().lower()[:NAME_MAX]


def sign_in_name(username: str | None) -> str | None:
    """The username as stored (trimmed, lowercase), or None when no operator could have it."""
    name = (username or "").strip().lower()
    return name if _SIGN_IN_NAME.fullmatch(name) else None


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    # A hash made by the very hasher of real passwords, so verifying against it costs
    # the same: timing does not tell an unknown name from a known one.
    return hash_password(secrets.token_urlsafe(16))


def check_password(engine: Engine, *, username: str, password: str, client: str | None = None) -> SignInStep:
    """Step 1: the password. Opens its own short transactions on ``engine``.

    The hash is verified outside any transaction, so sign-in attempts never hold the
    write lock that other writes wait for; only a failure is written (a short write).
    A client address over ``client_limit.client_limit()`` is refused before the database
    or the hash, with ``limited`` set. A refusal carries the name as read, to offer again.
    """
    step = _password_step(engine, username=username, password=password, client=client)
    return step if step.ok else replace(step, username=typed_name(username))


def _password_step(engine: Engine, *, username: str, password: str, client: str | None) -> SignInStep:
    if client is not None and not client_limit.client_limit().allow(client):
        return _no(client_limit.CLIENT_LIMITED, limited=True)
    name = sign_in_name(username)
    stored, active, step = _stand_in_hash(), False, "enrol"
    if name is not None:
        with session_scope(engine) as session:
            until = throttle.throttled_until(session, throttle_subject(name))
            if until is not None:
                return _no(_throttle_message(name, until))
            op = session.scalars(select(Operator).where(Operator.username == name)).first()
            if op is not None:
                stored, active = op.password_hash, op.active
                step = "code" if (op.totp_secret and op.totp_confirmed) else "enrol"
    # Verified against a hash even for an unknown or malformed name: the same cost either way.
    ok = verify_password(stored, password or "")
    if ok and active:
        return SignInStep(ok=True, message="", next=step, ticket=make_ticket(name))
    name = name or INVALID_NAME
    with session_scope(engine, write=True) as session:
        throttle.note_failure(session, throttle_subject(name))
        return _failed(session, name, "password")


def start_enrolment(session: Session, *, ticket: str) -> tuple[str, str]:
    """For an operator without an authenticator: a new secret and its otpauth:// URI."""
    name = read_ticket(ticket)
    if name is None:
        raise BadInput("The sign-in took too long; enter your password again.")
    op = session.scalars(select(Operator).where(Operator.username == name)).one()
    if op.totp_secret and op.totp_confirmed:
        raise BadInput("This operator has an authenticator already; enter its code.")
    secret = totp.new_secret()
    op.totp_secret = encrypt_secret(secret)
    op.totp_confirmed = False
    return secret, totp.provisioning_uri(secret, account=name, issuer=ISSUER)


def check_code(session: Session, *, ticket: str, code: str, now: float | None = None) -> SignInStep:
    """Step 2 (or the enrolment's confirmation): the code, then a new session."""
    code = (code or "")[:CODE_MAX]
    name = read_ticket(ticket, now)
    if name is None:
        return _no("The sign-in took too long; enter your password again.")
    op = session.scalars(select(Operator).where(Operator.username == name).with_for_update()).one()
    if not op.active or not op.totp_secret:
        return _no("This operator cannot sign in; ask an administrator.")
    verdict = OperatorAuthenticator(op).verify(session, code, now=now)
    if verdict.reason == "throttled":
        return _no(_throttle_message(name, verdict.until))
    if verdict.reason == "malformed":
        return _no(verdict.message)
    if not verdict.ok:
        return _failed(session, name, "code")
    enrolling = not op.totp_confirmed
    op.totp_confirmed = True
    op.last_sign_in_at = utcnow()
    if enrolling:
        audit.record(session, OperatorTotpEnrolled(username=name), actor=name)
    token, ended = open_session(session, op)
    audit.record(session, OperatorSignedIn(username=name, ended_sessions=ended), actor=name)
    return SignInStep(ok=True, message="Signed in.", token=token)


class SetupClosed(NotFound):
    """First-run setup is asked for once the console has operators: there is none to do."""


def create_first_admin(
    session: Session, *, username: str, password: str, display_name: str = ""
) -> SignInStep:
    """First-run setup: the first administrator, and a pending ticket on to their enrolment.

    Only while the console has no operator: once one exists the setup is closed
    (``SetupClosed``), and an administrator adds the others.
    """
    if operators.operator_count(session) > 0:
        raise SetupClosed("First-run setup is over: the console has operators.")
    op = operators.add_operator(
        session,
        actor=Actor.first_run(),
        username=(username or "")[:NAME_MAX],
        role="admin",
        password=password,
        display_name=(display_name or "")[:DISPLAY_NAME_MAX],
    )
    # The password was just set: on to the authenticator's enrolment.
    return SignInStep(ok=True, message="", next="enrol", ticket=make_ticket(op.username))
