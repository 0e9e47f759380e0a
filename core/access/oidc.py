"""Single sign-on (optional) through an OpenID Connect provider.

When ``.streamlit/secrets.toml`` configures a provider, ``oidc_sign_in`` turns the
provider's verified email into the console's own session for the operator that
``[mac.oidc_operators]`` names for it. The provider's sign-in (and its second factor)
stands in for the password and the code; the role, the session, the idle expiry and the
sign-out are the same as after a password sign-in. A refusal is audited, and does not
count towards the password throttle.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.access.operator_signin import PENDING_SECONDS, SignInStep
from core.access.sessions import open_session
from core.platform import audit
from core.platform.events import OperatorSignedIn, OperatorSignInFailed
from core.platform.models import Operator, utcnow

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
        OperatorSignInFailed(username=(object_key or who)[:320], step="oidc", provider=provider, why=why),
        actor=who,
    )
    return SignInStep(ok=False, message=message)


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
        OperatorSignedIn(username=op.username, ended_sessions=ended, provider=provider, email=email.lower()),
        actor=op.username,
    )
    return SignInStep(ok=True, message="Signed in.", token=token)
