"""Small factories for test data: each test makes just the rows it needs."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.access import sessions
from core.access.permissions import Actor
from core.platform import totp
from core.platform.crypto import encrypt_secret, hash_password
from core.platform.db import session_scope
from core.platform.models import AppPassword, Brand, Company, Domain, Operator, User, utcnow

_n = itertools.count(1)
PASSWORD = "correct horse battery"
_HASH = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


def make_brand(s: Session, name: str | None = None, **switches: bool) -> Brand:
    b = Brand(name=name or f"Brand {next(_n)}", **switches)
    s.add(b)
    s.flush()
    return b


def make_domain(
    s: Session, brand: Brand, name: str | None = None, domain_brand: Brand | None = None
) -> Domain:
    c = Company(name=f"Company {next(_n)}", brand_id=brand.id)
    s.add(c)
    s.flush()
    d = Domain(
        name=name or f"d{next(_n)}.example.com",
        company_id=c.id,
        brand_id=domain_brand.id if domain_brand else None,
    )
    s.add(d)
    s.flush()
    return d


def make_user(
    s: Session,
    domain: Domain,
    local: str | None = None,
    *,
    twofa: bool = False,
    status: str = "active",
    brand: Brand | None = None,
    secret: str | None = None,
    enrolled_at: datetime | None = None,
) -> User:
    u = User(
        email=f"{local or f'user{next(_n)}'}@{domain.name}",
        domain_id=domain.id,
        brand_id=brand.id if brand else None,
        display_name="Test User",
        status=status,
        password_hash=password_hash(),
    )
    if twofa:
        u.totp_secret = encrypt_secret(secret or totp.new_secret())
        u.totp_enrolled_at = enrolled_at or utcnow()
    s.add(u)
    s.flush()
    return u


def make_app_password(s: Session, user: User, label: str, *, revoked: bool = False) -> AppPassword:
    ap = AppPassword(
        user_id=user.id, label=label, password_hash=password_hash(), revoked_at=utcnow() if revoked else None
    )
    s.add(ap)
    s.flush()
    return ap


def make_operator(s: Session, username: str, role: str, *, secret: str | None = None) -> Operator:
    op = Operator(
        username=username,
        display_name=username.title(),
        role=role,
        password_hash=password_hash(),
        totp_secret=encrypt_secret(secret) if secret else None,
        totp_confirmed=bool(secret),
    )
    s.add(op)
    s.flush()
    return op


def operator_actor(s: Session, username: str, role: str) -> Actor:
    """The Actor of a real, active operator (made if missing): core re-reads it in every write."""
    op = s.scalars(select(Operator).where(Operator.username == username)).first()
    if op is None:
        op = make_operator(s, username, role)
    return Actor(name=op.username, role=op.role, operator_id=op.id)


def session_token(s: Session, username: str) -> str:
    """A session token for an existing operator, as a completed sign-in makes it (no code step).

    For the page tests (AppTest has no cookies) and browser tests that start signed in.
    Like any sign-in, it ends the operator's other sessions.
    """
    op = s.scalars(select(Operator).where(Operator.username == username)).one()
    token, _ended = sessions.open_session(s, op)
    return token


def setup_basic(engine: Engine) -> dict:
    """Two brands (one all on, one all off), a domain in each, operators of every role."""
    with session_scope(engine, write=True) as s:
        on = make_brand(
            s, "Alpha Mail", allow_2fa=True, allow_user_disable_2fa=True, allow_app_passwords=True
        )
        off = make_brand(s, "Beta Mail")
        d_on = make_domain(s, on, "alpha.example.com")
        d_off = make_domain(s, off, "beta.example.com")
        for name, role in (
            ("admin", "admin"),
            ("support", "support"),
            ("manager", "account_manager"),
            ("analyst", "analyst"),
        ):
            make_operator(s, name, role, secret=totp.new_secret())
        return {"on": on.name, "off": off.name, "d_on": d_on.name, "d_off": d_off.name}
