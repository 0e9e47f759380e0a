"""App-specific passwords: at most four a mailbox, shown once, revoked one at a time.

The cap holds under concurrent requests: creation locks the user's row first
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write transaction holds the
database's write lock from BEGIN IMMEDIATE), then counts, then inserts.

Each password is good for the mail protocols chosen when it is made (``MAIL_PROTOCOLS``,
all of them by default).

Two verifiers are stored. ``lookup_key`` is an HMAC-SHA256 of the normalized password under
the console's key (``MAC_SECRET_KEY`` or ``data/secret.key``, never in the database): a
mail client's sign-in finds its password with one indexed equality lookup instead of up to
four argon2 verifications, which matters because phones poll. A fast keyed hash is a sound
verifier here, where it would not be for a chosen password, because the console generates
the password: 16 letters drawn uniformly from 26, log2(26**16) ≈ 75 bits, so there is no
dictionary to try and a search of the space is out of reach even at a billion guesses a
second; and without the key, a copy of the database does not even allow that search. The
argon2 ``password_hash`` is kept: rows made before ``lookup_key`` have only it, and the
first sign-in that matches one sets its key (``core.mailboxes.mail_auth``). The key is the
one that encrypts TOTP secrets, so it is never changed on a running console; a new key
would stop every lookup key from matching as it stops every secret from decrypting.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from core.access.permissions import Actor, require
from core.mailboxes.effective_brand import effective_brand
from core.mailboxes.users import get_user, mailbox_for_change
from core.platform import audit, labels
from core.platform.crypto import hash_password, sign, verify_password
from core.platform.errors import BadInput, NotFound, Refused
from core.platform.events import AppPasswordCreated, AppPasswordRevoked
from core.platform.models import ALL_MAIL_PROTOCOLS, MAIL_PROTOCOLS, AppPassword, User, utcnow

MAX_PER_USER = 4  # the article: "Each email account supports up to four app-specific passwords."
_ALPHABET = string.ascii_lowercase
LETTERS = 16  # an app password: 16 random letters, about 75 bits


@dataclass(frozen=True)
class NewAppPassword:
    email: str
    label: str
    password: str  # shown once; only its hash and keyed hash are stored
    protocols: str = ALL_MAIL_PROTOCOLS


def _looks_like_app_password(given: str) -> bool:
    return len(given) == LETTERS and given.isascii() and given.isalpha()


def find(session: Session, mailbox: User, password: str) -> AppPassword | None:
    """The mailbox's app password (live or revoked) that ``password`` is, or None: one indexed
    lookup by ``lookup_key``; for rows older than the key, argon2 over the live ones, and the
    match gets its key (old hashes migrate as they are used)."""
    given = normalize(password)
    if not _looks_like_app_password(given):
        return None  # every app password is 16 letters: a mailbox password costs no lookup
    ap = session.scalars(
        select(AppPassword).where(
            AppPassword.lookup_key == lookup_key(given), AppPassword.user_id == mailbox.id
        )
    ).first()
    if ap is not None:
        return ap
    old = session.scalars(
        select(AppPassword).where(
            AppPassword.user_id == mailbox.id,
            AppPassword.lookup_key.is_(None),
            AppPassword.revoked_at.is_(None),
        )
    ).all()
    for row in old:
        if verify_password(row.password_hash, given):
            row.lookup_key = lookup_key(given)
            return row
    return None


def generate() -> str:
    """16 random lowercase letters in four groups of four: ``abcd efgh ijkl mnop``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(LETTERS))
    return " ".join(raw[i : i + 4] for i in range(0, LETTERS, 4))


def normalize(password: str) -> str:
    """An app password as typed, with or without its group separators."""
    return "".join(ch for ch in (password or "").lower() if ch not in " -\t")


def lookup_key(password: str) -> str:
    """The keyed hash a mail client's sign-in looks its app password up by (hex HMAC-SHA256)."""
    # A purpose prefix, so an HMAC made for another signed value never passes as this one.
    return sign(f"app-password|{normalize(password)}")


def clean_protocols(protocols: str | None) -> str:
    """A comma list of mail protocols as stored (``imap,smtp``); None or blank means all of them."""
    if protocols is None or not protocols.strip():
        return ALL_MAIL_PROTOCOLS
    wanted = {p.strip().lower() for p in protocols.split(",") if p.strip()}
    unknown = sorted(wanted - set(MAIL_PROTOCOLS))
    if not wanted:
        raise BadInput(f"Name at least one protocol: {', '.join(MAIL_PROTOCOLS)} (a comma list).")
    if unknown:
        raise BadInput(
            f"Unknown protocol {', '.join(map(repr, unknown))}: an app password may allow "
            f"{', '.join(MAIL_PROTOCOLS)} (a comma list)."
        )
    return ",".join(p for p in MAIL_PROTOCOLS if p in wanted)


def clean_label(label: str) -> str:
    return labels.clean_label(
        label,
        missing="An app password needs a label naming the device, e.g. 'iPhone Mail'.",
        what="An app password label",
    )


def create(
    session: Session, *, actor: Actor, email: str, label: str, protocols: str | None = None
) -> NewAppPassword:
    """A new app password for ``protocols`` (a comma list; all by default), shown once."""
    actor = require(session, actor, "app_password.create", mailbox=email)
    name = clean_label(label)
    allowed = clean_protocols(protocols)
    user, brand = mailbox_for_change(
        session,
        email,
        switch="allow_app_passwords",
        refused="{brand} does not allow app passwords; an account manager can turn them on.",
        suspended="{email} is suspended; reactivate it before creating app passwords.",
    )
    live = session.scalars(
        select(AppPassword.label).where(AppPassword.user_id == user.id, AppPassword.revoked_at.is_(None))
    ).all()
    if len(live) >= MAX_PER_USER:
        raise Refused(
            f"{user.email} already has {MAX_PER_USER} app passwords, the most an account may have; "
            "revoke one first."
        )
    if name.lower() in {x.lower() for x in live}:
        raise Refused(f"{user.email} already has an app password labelled {name!r}; choose another label.")
    plain = generate()
    ap = AppPassword(
        user_id=user.id,
        label=name,
        password_hash=hash_password(normalize(plain)),
        lookup_key=lookup_key(plain),
        protocols=allowed,
    )
    session.add(ap)
    session.flush()
    audit.record(
        session,
        AppPasswordCreated(email=user.email, user_id=user.id, brand_id=brand.id, password_label=name),
        actor=actor.name,
    )
    audit.security_event(session, user_id=user.id, brand_id=brand.id, kind="app_password_created")
    return NewAppPassword(email=user.email, label=name, password=plain, protocols=allowed)


def revoke(session: Session, *, actor: Actor, email: str, label: str) -> str:
    """Revoke one app password by its label; the others are untouched. Returns the mailbox's address."""
    actor = require(session, actor, "app_password.revoke", mailbox=email)
    user = get_user(session, email, for_update=True)
    name = clean_label(label)
    ap = session.scalars(
        select(AppPassword).where(
            AppPassword.user_id == user.id,
            AppPassword.revoked_at.is_(None),
            func.lower(AppPassword.label) == name.lower(),
        )
    ).first()
    if ap is None:
        raise NotFound(f"{user.email} has no live app password labelled {name!r}.")
    ap.revoked_at = utcnow()
    brand = effective_brand(session, user)
    audit.record(
        session,
        AppPasswordRevoked(email=user.email, user_id=user.id, brand_id=brand.id, password_label=ap.label),
        actor=actor.name,
    )
    audit.security_event(session, user_id=user.id, brand_id=brand.id, kind="app_password_revoked")
    return user.email
