"""App-specific passwords: at most four a mailbox, shown once, revoked one at a time.

The cap holds under concurrent requests: creation locks the user's row first
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write transaction holds the
database's write lock from BEGIN IMMEDIATE), then counts, then inserts.
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
from core.platform import audit
from core.platform.crypto import hash_password
from core.platform.errors import BadInput, NotFound, Refused
from core.platform.events import AppPasswordCreated, AppPasswordRevoked
from core.platform.models import AppPassword, utcnow

MAX_PER_USER = 4  # the article: "Each email account supports up to four app-specific passwords."
_ALPHABET = string.ascii_lowercase


@dataclass(frozen=True)
class NewAppPassword:
    email: str
    label: str
    password: str  # shown once; only its hash is stored


def generate() -> str:
    """16 random lowercase letters in four groups of four: ``abcd efgh ijkl mnop``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return " ".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize(password: str) -> str:
    """An app password as typed, with or without its group separators."""
    return "".join(ch for ch in (password or "").lower() if ch not in " -\t")


def clean_label(label: str) -> str:
    text = " ".join("".join(ch for ch in (label or "") if ch.isprintable()).split())
    if not text:
        raise BadInput("An app password needs a label naming the device, e.g. 'iPhone Mail'.")
    if len(text) > 64:
        raise BadInput("An app password label has at most 64 characters.")
    return text


def create(session: Session, *, actor: Actor, email: str, label: str) -> NewAppPassword:
    actor = require(session, actor, "app_password.create", mailbox=email)
    name = clean_label(label)
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
    ap = AppPassword(user_id=user.id, label=name, password_hash=hash_password(normalize(plain)))
    session.add(ap)
    session.flush()
    audit.record(
        session,
        AppPasswordCreated(email=user.email, user_id=user.id, brand_id=brand.id, password_label=name),
        actor=actor.name,
    )
    audit.security_event(session, user_id=user.id, brand_id=brand.id, kind="app_password_created")
    return NewAppPassword(email=user.email, label=name, password=plain)


def revoke(session: Session, *, actor: Actor, email: str, label: str) -> None:
    """Revoke one app password by its label; the others are untouched."""
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
