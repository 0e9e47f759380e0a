"""Who may do what, checked once per write inside the write's own transaction.

Every service that changes something calls ``require(session, actor, permission, ...)`` first.
It never trusts the ``Actor`` it is given beyond its identity: the role, the state of the
operator and, for the dashboard, of the signed-in session are read again from the
database in the caller's transaction, so a tab left open, a sign-out, a deactivation, a
demotion, an idle session or a credential change between a page's render and a click is
refused. It returns the actor as the database says it is now; the service writes that
actor's name into its audit event.

The actors, one permission table for all of them (``PERMISSIONS``):

| actor            | who                                                            | proven by                     |
|------------------|----------------------------------------------------------------|-------------------------------|
| operator         | a console user with a role (analyst, support, account_manager, admin) | the operator row (active, role) and, from the dashboard, its session row |
| ``system``       | the local command line's provisioning (whoever runs it holds the database) | being that process      |
| ``setup``        | the web's first-run form that creates the first administrator | no operator existing yet      |
| ``customer``     | a mailbox user acting on their own mailbox                     | the mailbox named is theirs   |

A dashboard session is current while it has not ended (sign-out, "sign out everywhere",
a newer sign-in, a password change, an authenticator reset, a deactivation or a role
change end it), has been used within ``MAC_SESSION_IDLE_MINUTES``, is younger than
``MAC_SESSION_MAX_HOURS`` and was issued after the operator's last credential change.

A refusal raises ``PermissionDenied`` with one plain sentence; the caller's transaction is
rolled back (nothing changes), and an ``access.refused`` audit event is written afterwards
in a transaction of its own (``core.platform.db.session_scope`` runs the exception's
``after_rollback``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from core.platform.config import get_settings
from core.platform.errors import PermissionDenied
from core.platform.models import ROLES, Operator, OperatorSession, utcnow

READ = "read"
SYSTEM = "system"
SETUP = "setup"
CUSTOMER = "customer"

PERMISSIONS: dict[str, frozenset[str]] = {
    READ: frozenset(ROLES),
    "export": frozenset(ROLES),
    "user.reset_2fa": frozenset({"support", "admin"}),
    "app_password.revoke": frozenset({"support", "admin", CUSTOMER}),
    "brand.update": frozenset({"account_manager", "admin"}),
    "brand.create": frozenset({"account_manager", "admin", SYSTEM}),
    "brand.css": frozenset({"account_manager", "admin"}),
    # Driving the Branding preview is part of working on a brand's look.
    "brand.preview": frozenset({"account_manager", "admin"}),
    "operator.manage": frozenset({"admin"}),
    # The local command line may still recover a locked-out console: deactivate an operator,
    # reset an authenticator or a password, end sessions.
    "operator.recover": frozenset({"admin", SYSTEM}),
    "operator.create_first": frozenset({SETUP, SYSTEM}),
    # Every operator may change their own password and end their own sessions.
    "operator.self": frozenset({*ROLES, SYSTEM}),
    "user.create": frozenset({"admin", SYSTEM}),
    "user.import": frozenset({"admin", SYSTEM}),
    "user.enroll_2fa": frozenset({CUSTOMER, SYSTEM}),
    "user.self_disable_2fa": frozenset({CUSTOMER}),
    "app_password.create": frozenset({CUSTOMER, SYSTEM}),
    "notification.send": frozenset({"admin", SYSTEM}),
    "demo.seed": frozenset({SYSTEM}),
    # The tokens mail servers present to POST /api/mail-auth: whoever holds one may check
    # any mailbox's password, so only an administrator or the local command line.
    "mail_auth.manage": frozenset({"admin", SYSTEM}),
}

PERMISSION_WORDS = {
    "export": "download reports",
    "user.reset_2fa": "reset a user's 2FA",
    "app_password.revoke": "revoke an app password",
    "brand.update": "change brand switches",
    "brand.create": "create brands",
    "brand.css": "save a brand's login CSS",
    "brand.preview": "drive a brand's login preview",
    "operator.manage": "manage operators",
    "operator.recover": "deactivate operators or reset their sign-in",
    "operator.create_first": "create the first administrator",
    "operator.self": "change their own sign-in",
    "user.create": "add mailboxes",
    "user.import": "import mailboxes",
    "user.enroll_2fa": "enrol a mailbox in 2FA",
    "user.self_disable_2fa": "turn off 2FA",
    "app_password.create": "create app passwords",
    "notification.send": "send customer notifications",
    "demo.seed": "load demo data",
    "mail_auth.manage": "manage the mail servers' tokens",
}

ROLE_LABELS = {
    "analyst": "Analyst",
    "support": "Support",
    "account_manager": "Account manager",
    "admin": "Administrator",
}

# What each role may do, in words, each after the analyst's: the words change with
# ``PERMISSIONS`` (tests/core/test_page_rules.py holds them to it).
ROLE_SUMMARIES = {
    "analyst": "reads and downloads",
    "support": "+ resets a user's 2FA, revokes app passwords",
    "account_manager": "+ brand switches and login CSS",
    "admin": "everything, and operators",
}

SIGNED_OUT = "You were signed out; sign in again."


@dataclass(frozen=True)
class Actor:
    """Who acts: an operator (by username and role), the local CLI, first-run setup, or a customer.

    ``session_digest`` names the dashboard session the operator acts through (the SHA-256
    of its token); ``require`` checks that session too.
    """

    name: str
    role: str
    operator_id: int | None = None
    email: str | None = None
    session_digest: str | None = field(default=None, repr=False)

    @classmethod
    def cli(cls) -> Actor:
        return cls(name="cli", role=SYSTEM)

    @classmethod
    def first_run(cls) -> Actor:
        return cls(name="first-run setup", role=SETUP)

    @classmethod
    def customer(cls, email: str) -> Actor:
        """The customer of a mailbox, by its address as stored (trimmed, lowercase)."""
        address = (email or "").strip().lower()
        return cls(name=f"user:{address}", role=CUSTOMER, email=address)

    def can(self, permission: str) -> bool:
        """What this actor's role allows (a page's courtesy; ``require`` decides)."""
        return self.role in PERMISSIONS.get(permission, frozenset())


def refused_words(name: str, role: str, permission: str) -> str:
    who = ROLE_LABELS.get(role, role)
    return f"{name} ({who}) may not {PERMISSION_WORDS.get(permission, permission)}; ask an operator whose role allows it."


def authorize(actor: Actor, permission: str) -> None:
    """The role check alone, for reads that write nothing (an export link). Writes call ``require``."""
    if not actor.can(permission):
        raise PermissionDenied(refused_words(actor.name, actor.role, permission))


def session_problem(sess: OperatorSession, op: Operator, now: datetime | None = None) -> str | None:
    """Why a dashboard session may no longer act (a few words for the audit log), or None."""
    now = now or utcnow()
    settings = get_settings()
    if sess.ended_at is not None:
        return "session ended"
    if not op.active:
        return "operator deactivated"
    if now - sess.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        return "session idle"
    if now - sess.created_at > timedelta(hours=settings.session_max_hours):
        return "session too old"
    if op.credentials_changed_at is not None and sess.created_at < op.credentials_changed_at:
        return "credentials changed"
    return None


def _refuse(actor: Actor, permission: str, why: str, message: str) -> PermissionDenied:
    """The refusal, with its audit event kept after the caller's rollback."""
    error = PermissionDenied(message)
    name = (actor.name or "(unknown)")[:120]

    def keep(session: Session) -> None:
        # audit imports nothing of access; imported here to keep the graph flat
        from core.platform import audit
        from core.platform.events import AccessRefused

        audit.record(session, AccessRefused(permission=permission, why=why, role=actor.role), actor=name)

    error.after_rollback = keep
    return error


def _operator_now(session: Session, actor: Actor, permission: str) -> tuple[Operator, str | None]:
    """The operator row behind ``actor`` (locked for share) and, if it acts through one, its session."""
    if actor.session_digest:
        row = session.execute(
            select(OperatorSession, Operator)
            .join(Operator, Operator.id == OperatorSession.operator_id)
            .where(OperatorSession.token_hash == actor.session_digest)
            .with_for_update(read=True, of=Operator)
        ).first()
        if row is None:
            raise _refuse(actor, permission, "no such session", SIGNED_OUT)
        sess, op = row
        return op, session_problem(sess, op)
    # An operator acting without a dashboard session (the command line's --actor) is known
    # by id, or by its unique username.
    who = (
        Operator.id == actor.operator_id if actor.operator_id is not None else Operator.username == actor.name
    )
    op = session.scalars(select(Operator).where(who).with_for_update(read=True)).first()
    if op is None:
        raise _refuse(actor, permission, "no such operator", f"There is no operator {actor.name!r}.")
    return op, None if op.active else "operator deactivated"


def require(session: Session, actor: Actor, permission: str, *, mailbox: str | None = None) -> Actor:
    """Refuse unless ``actor`` holds ``permission`` now; returns the actor as the database has it.

    Call it first in every write, with the session of that write. ``mailbox`` is the
    address of the mailbox the write touches: a customer may act only on their own.
    """
    allowed = PERMISSIONS.get(permission)
    if allowed is None:
        raise ValueError(f"unknown permission {permission!r}")
    if permission == "operator.create_first" and (
        session.scalar(select(func.count()).select_from(Operator)) or 0
    ):
        raise _refuse(
            actor,
            permission,
            "operators exist",
            "The console has operators already: an administrator adds the others "
            "(on the command line, name one with --actor).",
        )
    if actor.role in (SYSTEM, SETUP):
        if actor.role not in allowed:
            raise _refuse(
                actor, permission, "not for this actor", refused_words(actor.name, actor.role, permission)
            )
        return actor
    if actor.role == CUSTOMER:
        own = bool(mailbox and actor.email) and mailbox.strip().lower() == actor.email.strip().lower()
        if CUSTOMER not in allowed or not own:
            raise _refuse(
                actor, permission, "not their mailbox", "A customer may act only on their own mailbox."
            )
        return actor
    op, problem = _operator_now(session, actor, permission)
    now = Actor(name=op.username, role=op.role, operator_id=op.id, session_digest=actor.session_digest)
    if problem == "operator deactivated":
        raise _refuse(now, permission, problem, f"Operator {op.username!r} is deactivated and may not act.")
    if problem:
        raise _refuse(now, permission, problem, SIGNED_OUT)
    if op.role not in allowed:
        raise _refuse(now, permission, "role", refused_words(op.username, op.role, permission))
    return now


def require_self_or(session: Session, actor: Actor, permission: str, *, operator_id: int | None) -> Actor:
    """An operator acting on themselves needs only ``operator.self``; on another, ``permission``."""
    me = require(session, actor, "operator.self")
    if me.operator_id is not None and me.operator_id == operator_id:
        return me
    return require(session, actor, permission)
