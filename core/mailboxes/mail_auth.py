"""A mail client's sign-in (IMAP, POP3, SMTP submission, ManageSieve, DAV), as a mail server asks it.

``check`` answers one login that Dovecot (or any mail server holding a mail-auth token)
posts to ``POST /api/mail-auth``. The rules, in the order they are applied:

1. The protocol is one of ``MAIL_PROTOCOLS``; anything else is ``BadInput`` (a malformed request).
2. A client address with ``ADDRESS_FAILURES`` (50) failures within the window is refused
   before anything is looked up. An address is shared by many mailboxes (a carrier's NAT, an
   office), so its limit is ten times a mailbox's: high enough that the customers behind it
   are not locked out by a few mistyped passwords, low enough to stop a spray of guesses
   over many mailboxes. A success does not clear it: one good account must not buy more
   guesses at the others.
3. A suspended mailbox is refused; so is one whose own throttle is on (5 failures within 15
   minutes, ``core.platform.throttle``, shared with the webmail login: the same window).
4. The app password is found by one indexed lookup of its keyed hash
   (``app_passwords.lookup_key``, why that is sound is in that module). A live row made
   before that key existed is tried with argon2 (at most four a mailbox), and a match gets
   its key, so old rows migrate as they are used. The password found must be live (not
   revoked), of a brand that allows app passwords (else it is suspended), and allow the
   protocol.
5. Otherwise the mailbox password: it signs in while the user's 2FA is not on (off or
   dormant), on every mail protocol; once 2FA is on, only an app password does.

Every success records when, which protocol and which address on the app password (and the
mailbox's last login). A refusal counts towards the mailbox's and the address's throttles
only when no password matched at all, that is when it could be a guess. A password the
console issued but refuses (revoked, suspended, outside its protocols, the mailbox password
while 2FA is on) is not counted: the owner's old phone polling with it would otherwise pause
the owner's webmail sign-in, which shares the mailbox's throttle. Each counted failure of a
known mailbox is also a ``mail_sign_in_failed`` security event, which ``failed_sign_ins``
counts for the user's page. A throttled attempt is not counted again.

Every outcome carries one sentence naming the rule; none holds a password, hash or secret,
and nothing here logs. A revoke or a brand switch holds from the next check on: every check
reads the rows afresh, nothing is cached.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlmodel import Session

from core.mailboxes.app_passwords import find
from core.mailboxes.effective_brand import effective_brand
from core.mailboxes.mailbox_authenticator import throttle_subject
from core.mailboxes.state import twofa_state
from core.platform import audit, throttle
from core.platform.crypto import verify_password
from core.platform.errors import BadInput
from core.platform.models import MAIL_PROTOCOLS, AppPassword, Brand, SecurityEvent, User, utcnow

ADDRESS_FAILURES = 10 * throttle.FAILURES
FAILED_KIND = "mail_sign_in_failed"
PROTOCOL_NAMES = {"imap": "IMAP", "pop3": "POP3", "smtp": "SMTP", "sieve": "ManageSieve", "dav": "DAV"}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    rule: str  # ok, throttled, no_such_user, suspended, wrong_password, revoked, ...
    reason: str  # one sentence
    via: Literal["app_password", "password"] | None = None
    label: str | None = None  # the app password's, when it signed in


def address_subject(remote_ip: str) -> str:
    """The throttle's name for a client address."""
    return f"ip:{remote_ip}"


def clean_address(remote_ip: str | None) -> str:
    """The client address as stored and throttled (canonical form), or "" when the server gave none."""
    text = (remote_ip or "").strip()
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise BadInput(f"remote_ip must be an IPv4 or IPv6 address, not {text[:64]!r}.") from None


def check(session: Session, *, user: str, password: str, protocol: str, remote_ip: str) -> Outcome:
    """May ``user`` sign in with ``password`` over ``protocol`` from ``remote_ip``? Run in a write session.

    Never raises for a refusal (its failure must be committed for the throttle); raises
    ``BadInput`` for a protocol or address that is not one.
    """
    if protocol not in MAIL_PROTOCOLS:
        raise BadInput(f"protocol must be one of {', '.join(MAIL_PROTOCOLS)}, not {protocol[:32]!r}.")
    address = clean_address(remote_ip)
    if address:
        until = throttle.throttled_until(session, address_subject(address), failures=ADDRESS_FAILURES)
        if until is not None:
            return _refuse(
                "address_throttled",
                f"Too many failed sign-ins from {address}: it may try again at {until:%H:%M} UTC.",
            )
    email = (user or "").strip().lower()
    mailbox = session.scalars(select(User).where(User.email == email).with_for_update()).first()
    if mailbox is None:
        _count_failure(session, address)
        return _refuse("no_such_user", f"There is no mailbox {email[:320]!r}.")
    if mailbox.status != "active":
        return _refuse("suspended", f"{mailbox.email} is suspended; no one may sign in to it.")
    until = throttle.throttled_until(session, throttle_subject(mailbox.email))
    if until is not None:
        return _refuse(
            "throttled",
            f"Too many failed attempts for {mailbox.email}: sign-in waits until {until:%H:%M} UTC.",
        )
    brand = effective_brand(session, mailbox)
    ap = find(session, mailbox, password or "")
    if ap is not None:
        return _app_password_outcome(session, mailbox, brand, ap, protocol, address)
    if verify_password(mailbox.password_hash, password or ""):
        if twofa_state(mailbox.totp_enrolled_at is not None, brand.allow_2fa) == "on":
            return _refuse(
                "twofa_on",
                f"{mailbox.email} has 2FA on, so its mailbox password no longer signs in mail clients; "
                "use an app password.",
            )
        _signed_in(session, mailbox)
        return Outcome(
            ok=True, rule="ok", reason=f"{mailbox.email} signed in with the mailbox password.", via="password"
        )
    _count_failure(session, address, mailbox, brand)
    return _refuse(
        "wrong_password", f"Neither the mailbox password nor an app password of {mailbox.email} matches."
    )


def _refuse(rule: str, reason: str) -> Outcome:
    return Outcome(ok=False, rule=rule, reason=reason)


def _app_password_outcome(
    session: Session, mailbox: User, brand: Brand, ap: AppPassword, protocol: str, address: str
) -> Outcome:
    if ap.revoked_at is not None:
        return _refuse("revoked", f"The app password '{ap.label}' of {mailbox.email} was revoked.")
    if not brand.allow_app_passwords:
        return _refuse(
            "app_passwords_not_allowed",
            f"{brand.name} does not allow app passwords, so '{ap.label}' is suspended.",
        )
    allowed = ap.protocols.split(",")
    if protocol not in allowed:
        return _refuse(
            "protocol_not_allowed",
            f"The app password '{ap.label}' is not for {PROTOCOL_NAMES[protocol]}; "
            f"it allows {', '.join(PROTOCOL_NAMES[p] for p in allowed if p in PROTOCOL_NAMES)}.",
        )
    now = _signed_in(session, mailbox)
    ap.last_used_at, ap.last_used_protocol, ap.last_used_ip = now, protocol, address or None
    return Outcome(
        ok=True,
        rule="ok",
        reason=f"{mailbox.email} signed in with the app password '{ap.label}'.",
        via="app_password",
        label=ap.label,
    )


def _signed_in(session: Session, mailbox: User) -> datetime:
    now = utcnow()
    mailbox.last_login_at = now
    throttle.clear_failures(session, throttle_subject(mailbox.email))
    return now


def _count_failure(
    session: Session, address: str, mailbox: User | None = None, brand: Brand | None = None
) -> None:
    if address:
        throttle.note_failure(session, address_subject(address))
    if mailbox is not None and brand is not None:
        throttle.note_failure(session, throttle_subject(mailbox.email))
        audit.security_event(session, user_id=mailbox.id, brand_id=brand.id, kind=FAILED_KIND)


@dataclass(frozen=True)
class FailedSignIns:
    count: int
    last_at: datetime | None


def failed_sign_ins(session: Session, *, user_id: int, hours: int = 24) -> FailedSignIns:
    """How many mail-client sign-ins of the mailbox matched no password in the last ``hours``."""
    since = utcnow() - timedelta(hours=hours)
    count, last = session.execute(
        select(func.count(), func.max(SecurityEvent.at)).where(
            SecurityEvent.user_id == user_id, SecurityEvent.kind == FAILED_KIND, SecurityEvent.at >= since
        )
    ).one()
    return FailedSignIns(count=int(count), last_at=last)
