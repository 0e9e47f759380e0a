"""Operator sign-in: password, then a code from the operator's own authenticator.

The web adapter (``server.py``) calls these; it holds no rule of its own. Failed
attempts are rows of ``login_failures`` (a reload does not reset them): after 5 failures
for a username within 15 minutes, sign-in for it waits until the window passes. Before
that, one client address may make ``MAC_SIGNIN_PER_MINUTE`` (20) password attempts a
minute (``client_limit``), and a username that no operator could have never reaches the
database. The password is checked against a hash made by the same hasher whether or not
the name exists, outside any transaction.

Sessions are rows of ``operator_sessions``; the browser's cookie holds a random token, the
table its SHA-256. One session per operator: signing in again ends the others. A session
ends on sign-out, "sign out everywhere", a password change, an authenticator reset, a
deactivation or a role change, and stops acting after ``MAC_SESSION_IDLE_MINUTES`` idle or
``MAC_SESSION_MAX_HOURS`` after sign-in (``core.access.permissions.session_problem``).

Between the password step and the code step the browser carries a *pending* ticket: the
username, the time and an HMAC over both, valid for 5 minutes. It proves the password
was right without keeping any state for half-signed-in browsers.

Single sign-on (optional): when ``.streamlit/secrets.toml`` configures an OpenID Connect
provider, ``oidc_sign_in`` turns the provider's verified email into the console's own
session for the operator that ``[mac.oidc_operators]`` names for it. The provider's sign-in
(and its second factor) stands in for the password and the code; the role, the session,
the idle expiry and the sign-out are the same as after a password sign-in.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.access.permissions import Actor, require, require_self_or, session_problem
from core.platform import audit, totp
from core.platform.config import get_settings
from core.platform.crypto import (
    decrypt_secret,
    encrypt_secret,
    hash_password,
    sign,
    signature_ok,
    token_digest,
    verify_password,
)
from core.platform.db import session_scope
from core.platform.errors import BadInput
from core.platform.models import Operator, OperatorSession, utcnow

SESSION_COOKIE = "mac_session"
PENDING_COOKIE = "mac_pending"
PENDING_SECONDS = 300
ISSUER = "MAC Security Console"


@dataclass(frozen=True)
class SignInStep:
    ok: bool
    message: str
    next: str = ""  # "code" (enrolled) or "enrol" (no authenticator yet) after a right password
    ticket: str = ""  # the pending ticket, after a right password
    token: str = ""  # the session token, after a right code


def _subject(username: str) -> str:
    return f"operator:{username}"


def _no(message: str) -> SignInStep:
    return SignInStep(ok=False, message=message)


def _throttle_message(session: Session, username: str) -> str | None:
    until = totp.throttled_until(session, _subject(username))
    if until is None:
        return None
    minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
    return (
        f"Too many failed attempts for {username}: sign-in waits about {minutes} more "
        f"minute{'s' if minutes != 1 else ''}, until {until:%H:%M} UTC."
    )


def _failed(session: Session, username: str, why: str) -> SignInStep:
    totp.note_failure(session, _subject(username))
    # The event says which step failed, never the password or the code given.
    audit.record(
        session,
        actor=username or "(blank)",
        action="operator.sign_in_failed",
        object_type="operator",
        object_key=username or "(blank)",
        after={"step": why},
    )
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


def sign_in_name(username: str | None) -> str | None:
    """The username as stored (trimmed, lowercase), or None when no operator could have it."""
    name = (username or "").strip().lower()
    return name if _SIGN_IN_NAME.fullmatch(name) else None


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    # A hash made by the very hasher of real passwords, so verifying against it costs
    # the same: timing does not tell an unknown name from a known one.
    return hash_password(secrets.token_urlsafe(16))


class AttemptLimiter:
    """At most ``limit`` attempts per key (a client address) in a sliding ``window`` of seconds.

    In the process's memory, before any database work or password hash: a flood from one
    address is stopped without costing the other operators anything. Each server process
    keeps its own count (the README says so).
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._seen) > 10_000:  # forget idle addresses instead of growing without bound
                self._seen = {k: q for k, q in self._seen.items() if q and now - q[-1] < self.window}
            q = self._seen.setdefault(key, deque())
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True


@lru_cache(maxsize=1)
def client_limit() -> AttemptLimiter:
    """Password attempts a minute from one address (``MAC_SIGNIN_PER_MINUTE``, default 20)."""
    return AttemptLimiter(limit=get_settings().signin_per_minute, window=60)


CLIENT_LIMITED = "Too many sign-in attempts from your address; wait a minute, then try again."


def check_password(engine: Engine, *, username: str, password: str, client: str | None = None) -> SignInStep:
    """Step 1: the password. Opens its own short transactions on ``engine``.

    The hash is verified outside any transaction, so sign-in attempts never hold the
    write lock that other writes wait for; only a failure is written (a short write).
    A client address over ``client_limit()`` is refused before the database or the hash.
    """
    if client is not None and not client_limit().allow(client):
        return _no(CLIENT_LIMITED)
    name = sign_in_name(username)
    stored, active, step = _stand_in_hash(), False, "enrol"
    if name is not None:
        with session_scope(engine) as session:
            throttled = _throttle_message(session, name)
            if throttled:
                return _no(throttled)
            op = session.scalars(select(Operator).where(Operator.username == name)).first()
            if op is not None:
                stored, active = op.password_hash, op.active
                step = "code" if (op.totp_secret and op.totp_confirmed) else "enrol"
    # Verified against a hash even for an unknown or malformed name: the same cost either way.
    ok = verify_password(stored, password or "")
    if ok and active:
        return SignInStep(ok=True, message="", next=step, ticket=make_ticket(name))
    with session_scope(engine, write=True) as session:
        return _failed(session, name or INVALID_NAME, "password")


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
    name = read_ticket(ticket, now)
    if name is None:
        return _no("The sign-in took too long; enter your password again.")
    throttled = _throttle_message(session, name)
    if throttled:
        return _no(throttled)
    try:
        clean = totp.clean_code(code)
    except BadInput as exc:
        return _no(str(exc))
    op = session.scalars(select(Operator).where(Operator.username == name).with_for_update()).one()
    if not op.active or not op.totp_secret:
        return _no("This operator cannot sign in; ask an administrator.")
    step = totp.match_step(decrypt_secret(op.totp_secret), clean, last_step=op.totp_last_step, now=now)
    if step is None:
        return _failed(session, name, "code")
    enrolling = not op.totp_confirmed
    op.totp_last_step = step
    op.totp_confirmed = True
    op.last_sign_in_at = utcnow()
    totp.clear_failures(session, _subject(name))
    if enrolling:
        audit.record(
            session, actor=name, action="operator.totp_enrolled", object_type="operator", object_key=name
        )
    token, ended = open_session(session, op)
    audit.record(
        session,
        actor=name,
        action="operator.sign_in",
        object_type="operator",
        object_key=name,
        after={"ended_sessions": ended} if ended else None,
    )
    return SignInStep(ok=True, message="Signed in.", token=token)


def open_session(session: Session, op: Operator) -> tuple[str, int]:
    """A new session for ``op`` and how many older ones it ended: one session per operator.

    Signing in again ends the operator's other sessions, so a browser left signed in
    elsewhere (a shared computer, a stolen cookie) stops with the next sign-in.
    """
    ended = end_sessions(session, op.id)
    token = secrets.token_urlsafe(32)
    session.add(OperatorSession(token_hash=token_digest(token), operator_id=op.id))
    return token, ended


def end_sessions(session: Session, operator_id: int | None) -> int:
    """End every open session of an operator; how many there were."""
    result = session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator_id, OperatorSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return result.rowcount or 0


def session_actor(session: Session, token: str | None, *, touch: bool = True) -> Actor | None:
    """The operator behind a session token, or None when the session may no longer act.

    It may not once it ended, went idle, outlived ``MAC_SESSION_MAX_HOURS`` or was issued
    before the operator's last credential change (``core.access.permissions.session_problem``).
    """
    if not token:
        return None
    digest = token_digest(token)
    row = session.execute(
        select(OperatorSession, Operator)
        .join(Operator, Operator.id == OperatorSession.operator_id)
        .where(OperatorSession.token_hash == digest)
    ).first()
    if row is None:
        return None
    sess, op = row
    now = utcnow()
    if session_problem(sess, op, now) is not None:
        return None
    if touch and now - sess.last_seen_at > timedelta(seconds=30):
        # Only every 30 s: a page view is many requests, and each would be a write.
        session.execute(update(OperatorSession).where(OperatorSession.id == sess.id).values(last_seen_at=now))
    return Actor(name=op.username, role=op.role, operator_id=op.id, session_digest=digest)


def session_of(token: str | None) -> Actor:
    """The actor a dashboard request acts as: its session, to be proven by ``core.access.permissions.require``.

    It carries no role: the write's own transaction reads who is behind the session.
    """
    return Actor(name="(signed-in session)", role="session", session_digest=token_digest(token or ""))


def end_session(session: Session, token: str | None) -> None:
    actor = session_actor(session, token, touch=False)
    if actor is None:
        return
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.token_hash == token_digest(token or ""))
        .values(ended_at=utcnow())
    )
    audit.record(
        session, actor=actor.name, action="operator.sign_out", object_type="operator", object_key=actor.name
    )


def sign_out_everywhere(session: Session, *, actor: Actor, username: str) -> int:
    """End every session of an operator (one's own, or, for an administrator, anyone's)."""
    op = session.scalars(
        select(Operator).where(Operator.username == (username or "").strip().lower())
    ).first()
    if op is None:
        require(session, actor, "operator.recover")
        raise BadInput(f"There is no operator {username!r}.")
    actor = require_self_or(session, actor, "operator.recover", operator_id=op.id)
    ended = end_sessions(session, op.id)
    audit.record(
        session,
        actor=actor.name,
        action="operator.signed_out_everywhere",
        object_type="operator",
        object_key=op.username,
        after={"ended_sessions": ended},
    )
    return ended


# --- single sign-on (OIDC) ----------------------------------------------------------------

# An identity from the provider is exchanged for a session within this many seconds of
# its issue; an older one (a cookie left behind) is refused and the flow starts again.
OIDC_FRESH_SECONDS = PENDING_SECONDS
# The provider's clock may run a little ahead of ours.
_OIDC_SKEW_SECONDS = 60


def oidc_directory(table: Mapping[str, Any] | None) -> dict[str, str]:
    """The ``[mac.oidc_operators]`` table of secrets.toml: lowercase email -> operator username.

    Entries that are not ``"email" = "username"`` strings are left out.
    """
    directory: dict[str, str] = {}
    for email, username in (table or {}).items():
        if isinstance(email, str) and isinstance(username, str) and "@" in email and username.strip():
            directory[email.strip().lower()] = username.strip().lower()
    return directory


def operator_for_email(session: Session, *, email: str, directory: Mapping[str, str]) -> Operator | None:
    """The operator the directory names for an email (case-insensitive), active or not.

    None when the directory has no entry for the email or the entry names no operator.
    """
    name = directory.get((email or "").strip().lower())
    if not name:
        return None
    return session.scalars(select(Operator).where(Operator.username == name)).first()


def _claim_true(value: Any) -> bool:
    # JSON true, or the string "true" that some providers send.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _oidc_refused(
    session: Session, *, email: str, object_key: str, provider: str, why: str, message: str
) -> SignInStep:
    # The event names the provider and why; never a token or any other claim.
    who = (email or "(no email)")[:120]
    audit.record(
        session,
        actor=who,
        action="operator.sign_in_failed",
        object_type="operator",
        object_key=(object_key or who)[:320],
        after={"step": "oidc", "method": "oidc", "provider": provider, "reason": why},
    )
    return _no(message)


def oidc_sign_in(
    session: Session,
    *,
    provider: str,
    claims: Mapping[str, Any],
    directory: Mapping[str, str],
    now: float | None = None,
) -> SignInStep:
    """A session for the operator behind a provider's identity, or a refusal, audited either way.

    ``claims`` are the ID token's claims as the provider's client verified them. The email
    must be there; when the provider also sends ``email_verified`` it must be true (a
    provider that never sends it is trusted to give verified addresses only). The email
    maps through ``directory`` to an operator, who must be active. Run in a write session.
    """
    email = claims.get("email")
    email = email.strip() if isinstance(email, str) else ""
    if "@" not in email:
        return _oidc_refused(
            session,
            email="",
            object_key="",
            provider=provider,
            why="no email",
            message="The provider did not give an email address, which the console needs to find "
            "your operator; ask an administrator.",
        )
    if "email_verified" in claims and not _claim_true(claims["email_verified"]):
        return _oidc_refused(
            session,
            email=email,
            object_key=email,
            provider=provider,
            why="email not verified",
            message=f"The provider has not verified {email}; verify it there, then sign in again.",
        )
    issued = claims.get("iat")
    clock = time.time() if now is None else now
    if not isinstance(issued, int | float) or not (
        -_OIDC_SKEW_SECONDS <= clock - issued <= OIDC_FRESH_SECONDS
    ):
        return _oidc_refused(
            session,
            email=email,
            object_key=email,
            provider=provider,
            why="stale identity",
            message="The single sign-on took too long; sign in again.",
        )
    op = operator_for_email(session, email=email, directory=directory)
    if op is None:
        return _oidc_refused(
            session,
            email=email,
            object_key=email,
            provider=provider,
            why="no operator",
            message=f"There is no operator for {email}; ask an administrator to add one.",
        )
    if not op.active:
        return _oidc_refused(
            session,
            email=email,
            object_key=op.username,
            provider=provider,
            why="deactivated",
            message=f"The operator for {email} is deactivated; ask an administrator.",
        )
    op.last_sign_in_at = utcnow()
    token, ended = open_session(session, op)
    audit.record(
        session,
        actor=op.username,
        action="operator.sign_in",
        object_type="operator",
        object_key=op.username,
        after={
            "method": "oidc",
            "provider": provider,
            "email": email.lower(),
            **({"ended_sessions": ended} if ended else {}),
        },
    )
    return SignInStep(ok=True, message="Signed in.", token=token)
