"""Operators and their roles; who may do what is ``core.access.permissions``.

| role            | may                                                          |
|-----------------|--------------------------------------------------------------|
| analyst         | read every page, download every report                      |
| support         | analyst + reset a user's 2FA, revoke a user's app password  |
| account_manager | analyst + change brand switches (single, bulk), save CSS    |
| admin           | everything, and manage operators                             |

A change of role, a deactivation, a password change and an authenticator reset end the
operator's sessions (``core.access.sessions.end_sessions``); the last two also stamp
``credentials_changed_at``, so a session issued before them can never act again.

An operator added from the dashboard gets a generated one-time password
(``invite_operator``): the administrator never picks or reuses one, and it is returned
once, for the administrator to pass on; only its hash is stored.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from core.access import sessions
from core.access.operator_authenticator import OperatorAuthenticator
from core.access.permissions import SETUP, SYSTEM, Actor, require, require_self_or
from core.platform import audit
from core.platform.crypto import encrypt_secret, hash_password
from core.platform.errors import BadInput, NotFound, PermissionDenied, Refused
from core.platform.events import (
    OperatorCreated,
    OperatorDeactivated,
    OperatorPasswordChanged,
    OperatorRoleChanged,
    OperatorTotpReset,
)
from core.platform.models import ROLES, Operator, utcnow

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
# 15 random bytes are 20 URL-safe characters (120 bits): well past MIN_PASSWORD.
ONE_TIME_PASSWORD_BYTES = 15


@dataclass(frozen=True)
class Invitation:
    """An operator just added, with their one-time password: the one time it can be read."""

    username: str
    role: str
    password: str = field(repr=False)


def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not _USERNAME_RE.match(name):
        raise BadInput(
            f"Operator username {username!r} is not valid: use 2-64 lowercase letters, "
            "digits, dots, dashes or underscores, starting with a letter or digit."
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise BadInput(f"Role {role!r} is not one of: {', '.join(ROLES)}.")
    return role


def check_new_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise BadInput(f"An operator password needs at least {MIN_PASSWORD} characters.")
    return password


def get_operator(session: Session, username: str) -> Operator:
    name = (username or "").strip().lower()
    op = session.scalars(select(Operator).where(Operator.username == name)).first()
    if op is None:
        raise NotFound(f"There is no operator {username!r}; `python -m core operators list` shows them.")
    return op


def actor_for(session: Session, username: str) -> Actor:
    """The Actor for an existing, active operator (what the CLI's --actor names)."""
    op = get_operator(session, username)
    if not op.active:
        raise PermissionDenied(f"Operator {op.username!r} is deactivated and may not act.")
    return Actor(name=op.username, role=op.role, operator_id=op.id)


def operator_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Operator)) or 0


def list_operators(session: Session) -> list[dict]:
    ops = session.scalars(select(Operator).order_by(Operator.username)).all()
    return [
        {
            "username": o.username,
            "display_name": o.display_name,
            "role": o.role,
            "active": o.active,
            "totp_enrolled": bool(o.totp_secret and o.totp_confirmed),
            "created_at": o.created_at,
            "last_sign_in_at": o.last_sign_in_at,
        }
        for o in ops
    ]


def add_operator(
    session: Session,
    *,
    actor: Actor,
    username: str,
    role: str,
    password: str,
    display_name: str = "",
    totp_secret: str | None = None,
) -> Operator:
    """Create an operator. The first one of an empty database is made by first-run setup or the CLI."""
    first = actor.role in (SYSTEM, SETUP)
    actor = require(session, actor, "operator.create_first" if first else "operator.manage")
    name = check_username(username)
    check_role(role)
    check_new_password(password)
    if session.scalars(select(Operator.id).where(Operator.username == name)).first():
        raise Refused(f"Operator {name!r} exists already.")
    op = Operator(
        username=name,
        display_name=display_name.strip() or name,
        role=role,
        password_hash=hash_password(password),
        totp_secret=encrypt_secret(totp_secret) if totp_secret else None,
        totp_confirmed=bool(totp_secret),
    )
    session.add(op)
    session.flush()
    audit.record(
        session, OperatorCreated(username=name, role=role, display_name=op.display_name), actor=actor.name
    )
    return op


def invite_operator(
    session: Session, *, actor: Actor, username: str, role: str, display_name: str = ""
) -> Invitation:
    """Add an operator with a generated one-time password, returned once (``add_operator``'s checks)."""
    password = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    op = add_operator(
        session, actor=actor, username=username, role=role, password=password, display_name=display_name
    )
    return Invitation(username=op.username, role=op.role, password=password)


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Operator)
            .where(Operator.role == "admin", Operator.active.is_(True))
        )
        or 0
    )


def set_role(session: Session, *, actor: Actor, username: str, role: str) -> Operator:
    actor = require(session, actor, "operator.manage")
    op = get_operator(session, username)
    check_role(role)
    if op.role == role:
        return op
    if op.role == "admin" and op.active and _active_admins(session) <= 1:
        raise Refused(f"{op.username} is the last active administrator; make another admin first.")
    before = op.role
    op.role = role
    sessions.end_sessions(session, op.id)
    audit.record(
        session, OperatorRoleChanged(username=op.username, before=before, role=role), actor=actor.name
    )
    return op


def deactivate(session: Session, *, actor: Actor, username: str) -> Operator:
    actor = require(session, actor, "operator.recover")
    op = get_operator(session, username)
    if not op.active:
        return op
    if op.role == "admin" and _active_admins(session) <= 1:
        raise Refused(f"{op.username} is the last active administrator and cannot be deactivated.")
    op.active = False
    sessions.end_sessions(session, op.id)
    audit.record(session, OperatorDeactivated(username=op.username), actor=actor.name)
    return op


def change_password(session: Session, *, actor: Actor, username: str, password: str) -> Operator:
    op = get_operator(session, username)
    actor = require_self_or(session, actor, "operator.recover", operator_id=op.id)
    check_new_password(password)
    op.password_hash = hash_password(password)
    _credentials_changed(session, op)
    audit.record(session, OperatorPasswordChanged(username=op.username), actor=actor.name)
    return op


def reset_totp(session: Session, *, actor: Actor, username: str) -> Operator:
    """Remove an operator's authenticator; they enrol again at their next sign-in."""
    actor = require(session, actor, "operator.recover")
    op = get_operator(session, username)
    op.totp_secret = None
    op.totp_confirmed = False
    op.totp_last_step = None
    _credentials_changed(session, op)
    audit.record(session, OperatorTotpReset(username=op.username), actor=actor.name)
    return op


def _credentials_changed(session: Session, op: Operator) -> None:
    # Every session issued before now stops acting (core.access.permissions), and ends.
    op.credentials_changed_at = utcnow()
    sessions.end_sessions(session, op.id)


def current_totp(session: Session, username: str) -> str:
    """The current code of an operator's authenticator (demo and tests: no phone needed)."""
    op = get_operator(session, username)
    if not op.totp_secret:
        raise Refused(f"Operator {op.username!r} has no authenticator set up yet.")
    return OperatorAuthenticator(op).current_code()
