"""A mailbox's 2FA: enrolment, the support reset of the article's step 3, and self-disable.

A reset removes the secret so the user can enrol again with a new token, and in the same
transaction writes the audit event, the security event and the customer's notification.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from core.access.permissions import Actor, require
from core.mailboxes.effective_brand import effective_brand
from core.mailboxes.state import twofa_state
from core.mailboxes.users import get_user, mailbox_for_change
from core.notices import messages, queueing
from core.platform import audit, totp
from core.platform.crypto import encrypt_secret
from core.platform.errors import BadInput, Refused
from core.platform.events import TwoFaEnrolled, TwoFaReset, TwoFaSelfDisabled
from core.platform.models import RESET_REASONS, User, utcnow

OTHER = "other"  # the one reason of RESET_REASONS that needs its own text
OTHER_NEEDS_TEXT = "Say what the other reason is."


@dataclass(frozen=True)
class Enrolment:
    email: str
    secret: str
    uri: str


@dataclass(frozen=True)
class ResetResult:
    email: str
    brand: str
    reason: str
    notification_subject: str
    notification_body: str
    notification_id: int | None = None  # the queued notice, to follow its delivery


def clean_reason(reason: str, other: str = "") -> str:
    """The reason a reset records: one of RESET_REASONS, or ``other: <text>``.

    ``reason`` is the reason picked (the page's list, the command line's ``--reason``) and
    ``other`` the text that goes with "other"; a reason outside the list is that text
    (``--reason "courier lost it"`` is kept as ``other: courier lost it``). "Other" with no
    text is refused: the audit event would not say why the 2FA was removed.
    """
    text = " ".join((reason or "").split())
    if text.lower() == OTHER:
        text = " ".join(f"{OTHER}: {other or ''}".split())
    if not text:
        raise BadInput(f"A reason is required: one of {', '.join(RESET_REASONS)}.")
    if len(text) > 300:
        raise BadInput("The reason has at most 300 characters.")
    lowered = text.lower()
    if lowered in RESET_REASONS:
        return lowered
    if lowered.startswith(f"{OTHER}:"):
        text = text[len(OTHER) + 1 :].strip()
    if not text:
        raise BadInput(OTHER_NEEDS_TEXT)
    return f"{OTHER}: {text}"


def enroll(session: Session, *, actor: Actor, email: str) -> Enrolment:
    """Give the mailbox a new TOTP secret; the caller shows the URI once."""
    actor = require(session, actor, "user.enroll_2fa", mailbox=email)
    user, brand = mailbox_for_change(
        session,
        email,
        switch="allow_2fa",
        refused="{brand} does not allow 2FA; an account manager can turn it on for the brand.",
        suspended="{email} is suspended; reactivate the mailbox before enrolling it.",
    )
    if user.totp_secret:
        raise Refused(f"{user.email} is enrolled already; reset its 2FA first to enrol a new token.")
    secret = totp.new_secret()
    user.totp_secret = encrypt_secret(secret)
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = None
    audit.record(
        session,
        TwoFaEnrolled(email=user.email, user_id=user.id, brand_id=brand.id),
        actor=actor.name,
    )
    audit.security_event(session, user_id=user.id, brand_id=brand.id, kind="2fa_enrolled")
    return Enrolment(
        email=user.email,
        secret=secret,
        uri=totp.provisioning_uri(secret, account=user.email, issuer=brand.name),
    )


def reset(session: Session, *, actor: Actor, email: str, reason: str, other: str = "") -> ResetResult:
    """Support's 2FA reset: secret removed, audit event, security event and notification.

    ``reason`` and ``other`` as ``clean_reason`` takes them.
    """
    actor = require(session, actor, "user.reset_2fa")
    why = clean_reason(reason, other)
    user = get_user(session, email, for_update=True)
    if not user.totp_secret:
        raise Refused(f"{user.email} has no 2FA to reset: it is not enrolled.")
    brand = effective_brand(session, user)
    enrolled_at = _iso(user)
    _clear(user)
    subject, body = messages.reset_notice(email=user.email, brand=brand.name, reason=why)
    audit.record(
        session,
        TwoFaReset(
            email=user.email,
            user_id=user.id,
            brand_id=brand.id,
            state=twofa_state(True, brand.allow_2fa),
            enrolled_at=enrolled_at,
            reason=why,
        ),
        actor=actor.name,
    )
    audit.security_event(session, user_id=user.id, brand_id=brand.id, kind="2fa_reset")
    notice = queueing.queue(
        session, user_id=user.id, recipient=user.email, kind="2fa_reset", subject=subject, body=body
    )
    session.flush()  # the notice's id, for the operator to follow its delivery
    return ResetResult(
        email=user.email,
        brand=brand.name,
        reason=why,
        notification_subject=subject,
        notification_body=body,
        notification_id=notice.id,
    )


def self_disable(session: Session, *, actor: Actor, email: str) -> None:
    """The user turns their own 2FA off, where the brand allows it."""
    actor = require(session, actor, "user.self_disable_2fa", mailbox=email)
    user = get_user(session, email, for_update=True)
    brand = effective_brand(session, user)
    if not (brand.allow_2fa and brand.allow_user_disable_2fa):
        raise Refused(f"{brand.name} does not let users turn 2FA off; support can reset it.")
    if not user.totp_secret:
        raise Refused(f"{user.email} has no 2FA to turn off.")
    _clear(user)
    audit.record(
        session,
        TwoFaSelfDisabled(email=user.email, user_id=user.id, brand_id=brand.id),
        actor=actor.name,
    )
    audit.security_event(session, user_id=user.id, brand_id=brand.id, kind="2fa_self_disabled")


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None


def _iso(user: User) -> str | None:
    return user.totp_enrolled_at.isoformat() if user.totp_enrolled_at else None
