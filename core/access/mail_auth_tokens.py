"""The tokens mail servers present to ``POST /api/mail-auth``: made, listed and revoked by an administrator.

A token is 32 random bytes (URL-safe base64), printed once when it is made; the table holds
its SHA-256 only, so a copy of the database cannot call the endpoint. Whoever holds a live
token may ask whether any mailbox's password is right, so making, listing and revoking
them is ``mail_auth.manage`` (an administrator, or the local command line).

``token_ok`` is the endpoint's check. It compares the presented token's digest with every
live token's in constant time (``hmac.compare_digest``, no early exit: a console has a few
mail servers, not thousands). A revoked token fails from the next request on: nothing is
cached. ``last_used_at`` is kept to the minute: writing it on every login would make every
concurrent check of one mail server wait on that row.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlmodel import Session

from core.access.permissions import Actor, require
from core.platform import audit, labels
from core.platform.crypto import token_digest
from core.platform.errors import NotFound, Refused
from core.platform.events import MailAuthTokenCreated, MailAuthTokenRevoked
from core.platform.models import MailAuthToken, utcnow

TOKEN_BYTES = 32
LAST_USED_STEP = timedelta(minutes=1)
_MAX_TOKEN_CHARS = 200


@dataclass(frozen=True)
class NewToken:
    label: str
    token: str  # shown once; only its SHA-256 is stored


def clean_label(label: str) -> str:
    return labels.clean_label(
        label,
        missing="A mail-server token needs a label naming the server, e.g. 'imap1'.",
        what="A mail-server token label",
    )


def _by_label(session: Session, label: str) -> MailAuthToken | None:
    return session.scalars(select(MailAuthToken).where(MailAuthToken.label == label)).first()


def create(session: Session, *, actor: Actor, label: str) -> NewToken:
    """A new token for the mail server ``label``; the caller shows it once."""
    actor = require(session, actor, "mail_auth.manage")
    name = clean_label(label)
    if _by_label(session, name) is not None:
        raise Refused(f"A mail-server token labelled {name!r} exists already (labels are never reused).")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(MailAuthToken(label=name, token_digest=token_digest(token), created_by=actor.name))
    audit.record(session, MailAuthTokenCreated(token_label=name), actor=actor.name)
    return NewToken(label=name, token=token)


def list_tokens(session: Session, *, actor: Actor) -> list[dict]:
    """Every token, oldest first: label, who made it and when, last use, live or revoked."""
    require(session, actor, "mail_auth.manage")
    rows = session.scalars(select(MailAuthToken).order_by(MailAuthToken.id)).all()
    return [
        {
            "label": t.label,
            "state": "revoked" if t.revoked_at else "live",
            "created_at": t.created_at,
            "created_by": t.created_by,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
        }
        for t in rows
    ]


def revoke(session: Session, *, actor: Actor, label: str) -> None:
    """Revoke the token ``label``: the mail server holding it is refused from its next request."""
    actor = require(session, actor, "mail_auth.manage")
    name = clean_label(label)
    row = _by_label(session, name)
    if row is None or row.revoked_at is not None:
        raise NotFound(f"There is no live mail-server token labelled {name!r}.")
    row.revoked_at = utcnow()
    audit.record(session, MailAuthTokenRevoked(token_label=name), actor=actor.name)


def token_ok(session: Session, bearer: str | None) -> bool:
    """True when ``bearer`` is a live token; notes its use (to the minute). Run in a write session."""
    if not bearer or len(bearer) > _MAX_TOKEN_CHARS:
        return False
    digest = token_digest(bearer)
    live = session.execute(
        select(MailAuthToken.id, MailAuthToken.token_digest).where(MailAuthToken.revoked_at.is_(None))
    ).all()
    found = None
    for token_id, stored in live:
        if hmac.compare_digest(stored, digest):
            found = token_id
    if found is None:
        return False
    now = utcnow()
    session.execute(
        update(MailAuthToken)
        .where(
            MailAuthToken.id == found,
            or_(MailAuthToken.last_used_at.is_(None), MailAuthToken.last_used_at < now - LAST_USED_STEP),
        )
        .values(last_used_at=now)
    )
    return True
