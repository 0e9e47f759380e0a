"""Operator sign-in: password, then a code from the operator's own authenticator.

The web adapter (``server.py``) calls these; it holds no rule of its own. Failed
attempts are rows of ``login_failures`` (a reload does not reset them): after 5 failures
for a username within 15 minutes, sign-in for it waits until the window passes.
Sessions are rows of ``operator_sessions``; the browser's cookie holds a random token,
the table its SHA-256, and a session ends on sign-out or after 30 idle minutes.

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

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from core import audit, totp
from core.config import get_settings
from core.crypto import decrypt_secret, encrypt_secret, sign, signature_ok, token_digest, verify_password
from core.errors import BadInput
from core.models import Operator, OperatorSession, utcnow
from core.operators import Actor

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


def check_password(session: Session, *, username: str, password: str) -> SignInStep:
    """Step 1. Run in a write session: a failure is recorded and must be committed."""
    name = (username or "").strip().lower()
    throttled = _throttle_message(session, name)
    if throttled:
        return _no(throttled)
    op = session.scalars(select(Operator).where(Operator.username == name)).first()
    # Verify against a hash even for an unknown name, so timing does not tell names apart.
    ok = verify_password(op.password_hash if op else _DUMMY_HASH, password or "")
    if op is None or not ok or not op.active:
        return _failed(session, name, "password")
    step = "code" if (op.totp_secret and op.totp_confirmed) else "enrol"
    return SignInStep(ok=True, message="", next=step, ticket=make_ticket(name))


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
    token = secrets.token_urlsafe(32)
    session.add(OperatorSession(token_hash=token_digest(token), operator_id=op.id))
    audit.record(session, actor=name, action="operator.sign_in", object_type="operator", object_key=name)
    return SignInStep(ok=True, message="Signed in.", token=token)


def session_actor(session: Session, token: str | None, *, touch: bool = True) -> Actor | None:
    """The operator behind a session token, or None when it is unknown, ended or idle too long."""
    if not token:
        return None
    row = session.execute(
        select(OperatorSession, Operator)
        .join(Operator, Operator.id == OperatorSession.operator_id)
        .where(OperatorSession.token_hash == token_digest(token))
    ).first()
    if row is None:
        return None
    sess, op = row
    now = utcnow()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if sess.ended_at is not None or not op.active or now - sess.last_seen_at > idle:
        return None
    if touch and now - sess.last_seen_at > timedelta(seconds=30):
        # Only every 30 s: a page view is many requests, and each would be a write.
        session.execute(update(OperatorSession).where(OperatorSession.id == sess.id).values(last_seen_at=now))
    return Actor(name=op.username, role=op.role, operator_id=op.id)


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
    token = secrets.token_urlsafe(32)
    session.add(OperatorSession(token_hash=token_digest(token), operator_id=op.id))
    audit.record(
        session,
        actor=op.username,
        action="operator.sign_in",
        object_type="operator",
        object_key=op.username,
        after={"method": "oidc", "provider": provider, "email": email.lower()},
    )
    return SignInStep(ok=True, message="Signed in.", token=token)


def sign_in_for_tests(session: Session, username: str) -> str:
    """A session token for an existing operator, without the code step.

    For the page tests (AppTest has no cookies) and the command line's own tools; the
    dashboard never calls it.
    """
    op = session.scalars(select(Operator).where(Operator.username == username)).one()
    token = secrets.token_urlsafe(32)
    session.add(OperatorSession(token_hash=token_digest(token), operator_id=op.id))
    return token


_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$Xb8gYxJ1nFh6mVtO0m3o8Gk3CqzH3xM2pQk9k5mZ8Yc"
)
