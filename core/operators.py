"""Operators, their roles, and the permission check every write goes through.

| role            | may                                                          |
|-----------------|--------------------------------------------------------------|
| analyst         | read every page, download every report                      |
| support         | analyst + reset a user's 2FA, revoke a user's app password  |
| account_manager | analyst + change brand switches (single, bulk), save CSS    |
| admin           | everything, and manage operators                             |

Two actors are not operators: ``cli`` is the local command line's provisioning (adding
mailboxes, imports, demo data; whoever runs it already holds the database), and a
customer acting on their own mailbox (``user:<email>``: enrolling, app passwords,
turning their own 2FA off). Each may do only its own short list of actions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from core import audit, totp
from core.crypto import decrypt_secret, encrypt_secret, hash_password
from core.errors import BadInput, NotFound, PermissionDenied, Refused
from core.models import ROLES, Operator

READ = "read"
PERMISSIONS: dict[str, frozenset[str]] = {
    READ: frozenset(ROLES),
    "export": frozenset(ROLES),
    "user.reset_2fa": frozenset({"support", "admin"}),
    "app_password.revoke": frozenset({"support", "admin", "customer"}),
    "brand.update": frozenset({"account_manager", "admin"}),
    "brand.css": frozenset({"account_manager", "admin"}),
    "operator.manage": frozenset({"admin"}),
    "user.create": frozenset({"admin", "system"}),
    "user.import": frozenset({"admin", "system"}),
    "user.enroll_2fa": frozenset({"customer", "system"}),
    "user.self_disable_2fa": frozenset({"customer"}),
    "app_password.create": frozenset({"customer", "system"}),
    "notification.send": frozenset({"admin", "system"}),
    "demo.seed": frozenset({"system"}),
}

ACTION_WORDS = {
    "user.reset_2fa": "reset a user's 2FA",
    "app_password.revoke": "revoke an app password",
    "brand.update": "change brand switches",
    "brand.css": "save a brand's login CSS",
    "operator.manage": "manage operators",
    "user.create": "add mailboxes",
    "user.import": "import mailboxes",
    "user.enroll_2fa": "enrol a mailbox in 2FA",
    "user.self_disable_2fa": "turn off 2FA",
    "app_password.create": "create app passwords",
    "notification.send": "send customer notifications",
    "demo.seed": "load demo data",
}

ROLE_LABELS = {
    "analyst": "Analyst",
    "support": "Support",
    "account_manager": "Account manager",
    "admin": "Administrator",
}

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class Actor:
    """Who acts: an operator (by username and role), the local CLI, or a customer."""

    name: str
    role: str
    operator_id: int | None = None
    email: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        return cls(name="cli", role="system")

    @classmethod
    def customer(cls, email: str) -> Actor:
        return cls(name=f"user:{email}", role="customer", email=email)

    def can(self, action: str) -> bool:
        return self.role in PERMISSIONS.get(action, frozenset())


def authorize(actor: Actor, action: str) -> None:
    """Raise PermissionDenied unless ``actor``'s role may do ``action``."""
    if not actor.can(action):
        who = ROLE_LABELS.get(actor.role, actor.role)
        raise PermissionDenied(
            f"{actor.name} ({who}) may not {ACTION_WORDS.get(action, action)}; "
            "ask an operator whose role allows it."
        )


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
    if len(password or "") < 10:
        raise BadInput("An operator password needs at least 10 characters.")
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
    """Create an operator. The first operator of an empty database may be made by ``cli``."""
    if not (actor.role == "system" and operator_count(session) == 0):
        authorize(actor, "operator.manage")
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
        session,
        actor=actor.name,
        action="operator.created",
        object_type="operator",
        object_key=name,
        after={"role": role, "display_name": op.display_name},
    )
    return op


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
    authorize(actor, "operator.manage")
    op = get_operator(session, username)
    check_role(role)
    if op.role == role:
        return op
    if op.role == "admin" and op.active and _active_admins(session) <= 1:
        raise Refused(f"{op.username} is the last active administrator; make another admin first.")
    before = op.role
    op.role = role
    audit.record(
        session,
        actor=actor.name,
        action="operator.role_changed",
        object_type="operator",
        object_key=op.username,
        before={"role": before},
        after={"role": role},
    )
    return op


def deactivate(session: Session, *, actor: Actor, username: str) -> Operator:
    if actor.role != "system":
        authorize(actor, "operator.manage")
    op = get_operator(session, username)
    if not op.active:
        return op
    if op.role == "admin" and _active_admins(session) <= 1:
        raise Refused(f"{op.username} is the last active administrator and cannot be deactivated.")
    op.active = False
    audit.record(
        session,
        actor=actor.name,
        action="operator.deactivated",
        object_type="operator",
        object_key=op.username,
        before={"active": True},
        after={"active": False},
    )
    return op


def change_password(session: Session, *, actor: Actor, username: str, password: str) -> Operator:
    op = get_operator(session, username)
    if actor.operator_id != op.id and actor.role != "system":
        authorize(actor, "operator.manage")
    check_new_password(password)
    op.password_hash = hash_password(password)
    audit.record(
        session,
        actor=actor.name,
        action="operator.password_changed",
        object_type="operator",
        object_key=op.username,
    )
    return op


def reset_totp(session: Session, *, actor: Actor, username: str) -> Operator:
    """Remove an operator's authenticator; they enrol again at their next sign-in."""
    if actor.role != "system":
        authorize(actor, "operator.manage")
    op = get_operator(session, username)
    op.totp_secret = None
    op.totp_confirmed = False
    op.totp_last_step = None
    audit.record(
        session,
        actor=actor.name,
        action="operator.totp_reset",
        object_type="operator",
        object_key=op.username,
        before={"totp": "enrolled"},
        after={"totp": "none"},
    )
    return op


def current_totp(session: Session, username: str) -> str:
    """The current code of an operator's authenticator (demo and tests: no phone needed)."""
    op = get_operator(session, username)
    if not op.totp_secret:
        raise Refused(f"Operator {op.username!r} has no authenticator set up yet.")
    return totp.current_code(decrypt_secret(op.totp_secret))
