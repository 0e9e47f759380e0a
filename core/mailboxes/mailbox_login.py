"""The login check, as the mail platform makes it.

Webmail: the password, then the TOTP code when the user is enrolled and the brand allows
2FA (RFC 6238: SHA-1, 6 digits, 30 s, one step of drift either way; a code is accepted
once). Mail clients (IMAP/SMTP): an app password, which never asks for a code, and only
while the brand allows app passwords. After 5 failures in 15 minutes a mailbox's sign-in
waits until the window passes. Support uses this to see why a customer cannot sign in.

``check_login`` never raises for a refused login: the failure must be recorded (and
committed) for the throttle, so it returns an outcome instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from core.mailboxes.app_passwords import find
from core.mailboxes.effective_brand import effective_brand
from core.mailboxes.mailbox_authenticator import MailboxAuthenticator
from core.platform import throttle
from core.platform.authenticator import Verdict
from core.platform.crypto import verify_password
from core.platform.models import User, utcnow


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    rule: str  # ok, no_such_user, suspended, throttled, wrong_password, code_needed, ...
    message: str


def _refuse(rule: str, message: str) -> LoginOutcome:
    return LoginOutcome(ok=False, rule=rule, message=message)


def check_login(
    session: Session,
    *,
    email: str,
    secret: str,
    code: str | None = None,
    app_password: bool = False,
    now: float | None = None,
) -> LoginOutcome:
    """Would the platform let ``email`` in with ``secret`` (and ``code``)? Run in a write session."""
    addr = (email or "").strip().lower()
    user = session.scalars(select(User).where(User.email == addr).with_for_update()).first()
    if user is None:
        return _refuse("no_such_user", f"There is no mailbox {addr!r}.")
    if user.status != "active":
        return _refuse("suspended", f"{user.email} is suspended; the platform lets no one in.")
    device = MailboxAuthenticator(user)
    until = throttle.throttled_until(session, device.subject)
    if until is not None:
        return _throttled(user, until)
    brand = effective_brand(session, user)
    if app_password:
        return _check_app_password(
            session, user, brand.name, brand.allow_app_passwords, secret, device.subject
        )
    if not verify_password(user.password_hash, secret):
        throttle.note_failure(session, device.subject)
        return _refuse("wrong_password", "Wrong password.")
    if user.totp_secret and brand.allow_2fa:
        if not code:
            return _refuse("code_needed", f"{user.email} has 2FA on: a 6-digit code is needed.")
        verdict = device.verify(session, code, now=now)
        if not verdict.ok:
            return _code_refused(user, verdict)
    else:
        throttle.clear_failures(session, device.subject)
    user.last_login_at = utcnow()
    return LoginOutcome(ok=True, rule="ok", message=f"{user.email} would be let in.")


def _throttled(user: User, until: datetime) -> LoginOutcome:
    return _refuse(
        "throttled", f"Too many failed attempts for {user.email}: sign-in waits until {until:%H:%M} UTC."
    )


def _code_refused(user: User, verdict: Verdict) -> LoginOutcome:
    if verdict.reason == "throttled":
        return _throttled(user, verdict.until)
    if verdict.reason == "malformed":
        return _refuse("code_malformed", verdict.message)
    if verdict.reason == "reused":
        return _refuse("code_reused", "That code was used already; wait for the next code.")
    return _refuse("code_wrong", "The code is wrong or expired; use the current code of the authenticator.")


def _check_app_password(
    session: Session, user: User, brand: str, allowed: bool, secret: str, subject: str
) -> LoginOutcome:
    if not allowed:
        return _refuse("app_passwords_not_allowed", f"{brand} does not allow app passwords.")
    ap = find(session, user, secret)
    if ap is not None and ap.revoked_at is None:
        now = utcnow()
        ap.last_used_at = now
        user.last_login_at = now
        throttle.clear_failures(session, subject)
        return LoginOutcome(ok=True, rule="ok", message=f"{user.email} would be let in with '{ap.label}'.")
    throttle.note_failure(session, subject)
    return _refuse("wrong_app_password", "No live app password of this mailbox matches.")
