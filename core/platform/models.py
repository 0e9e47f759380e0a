"""Every table of the console, defined once.

Times are timezone-aware UTC (``utcnow()``; SQLModel stores them as UTC on both engines);
exports write them as ISO 8601 with ``Z``.
A user's *effective brand* is not stored: it is resolved in SQL as the first of the user's,
the domain's and the company's brand (``core.mailboxes.effective_brand``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, text
from sqlmodel import Field, SQLModel

USER_STATUSES = ("active", "suspended")
RESET_REASONS = ("lost phone", "new phone", "reset authenticator", "other")
ROLES = ("analyst", "support", "account_manager", "admin")
# The mail protocols an app password may be used for; a new one is good for all of them.
MAIL_PROTOCOLS = ("imap", "pop3", "smtp", "sieve", "dav")
ALL_MAIL_PROTOCOLS = ",".join(MAIL_PROTOCOLS)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (the form every table stores)."""
    return datetime.now(UTC)


class Brand(SQLModel, table=True):
    __tablename__ = "brands"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True, index=True)
    # The article's three switches, all off by default (PRODUCT.md).
    allow_2fa: bool = False
    allow_user_disable_2fa: bool = False
    allow_app_passwords: bool = False
    custom_login_css: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Optimistic concurrency: every save names the version it was loaded at.
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=80)


class Company(SQLModel, table=True):
    __tablename__ = "companies"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, unique=True)
    brand_id: int = Field(foreign_key="brands.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Domain(SQLModel, table=True):
    __tablename__ = "domains"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=253, unique=True, index=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    brand_id: int | None = Field(default=None, foreign_key="brands.id", index=True)


class User(SQLModel, table=True):
    """One mailbox, ``name@domain``."""

    __tablename__ = "users"
    __table_args__ = (
        # Adoption queries scan users by domain; the covering columns spare a table lookup.
        Index(
            "ix_users_domain_status",
            "domain_id",
            "status",
            "brand_id",
            "totp_enrolled_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    domain_id: int = Field(foreign_key="domains.id")
    brand_id: int | None = Field(default=None, foreign_key="brands.id", index=True)
    display_name: str = Field(default="", max_length=200)
    status: str = Field(default="active", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    last_login_at: datetime | None = None
    password_hash: str | None = Field(default=None, max_length=200)
    # TOTP secret, Fernet-encrypted (core.platform.crypto); NULL when not enrolled.
    totp_secret: str | None = Field(default=None, max_length=400)
    totp_enrolled_at: datetime | None = None
    # RFC 6238 §5.2: the last time step accepted, so a code is accepted once.
    totp_last_step: int | None = None


class AppPassword(SQLModel, table=True):
    __tablename__ = "app_passwords"
    __table_args__ = (
        # A label names one live password of a user (revoke works by label).
        Index(
            "uq_app_passwords_live_label",
            "user_id",
            "label",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
        # "Unused for 90 days", least recently active first: live passwords by last activity.
        Index(
            "ix_app_passwords_live_activity",
            text("coalesce(last_used_at, created_at)"),
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    label: str = Field(max_length=64)
    password_hash: str = Field(max_length=200)
    # Comma list of MAIL_PROTOCOLS the password signs in to.
    protocols: str = Field(
        default=ALL_MAIL_PROTOCOLS,
        sa_column=Column(Text, nullable=False, server_default=ALL_MAIL_PROTOCOLS),
    )
    # HMAC-SHA256 of the password under the console's key, hex: the one indexed lookup of a
    # mail client's sign-in (core.mailboxes.app_passwords). NULL for a row older than it.
    lookup_key: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    last_used_protocol: str | None = Field(default=None, max_length=8)
    last_used_ip: str | None = Field(default=None, max_length=64)
    revoked_at: datetime | None = None


class MailAuthToken(SQLModel, table=True):
    """A mail server's token for ``POST /api/mail-auth``. The server holds it; the table its SHA-256."""

    __tablename__ = "mail_auth_tokens"

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=64, unique=True)
    token_digest: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=120)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """One write, as it happened. Never updated or deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=120, index=True)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_key: str = Field(max_length=320)
    brand_id: int | None = Field(default=None, foreign_key="brands.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = Field(default=None, max_length=500)


class SecurityEvent(SQLModel, table=True):
    """A change of a user's protection, kept so adoption over time can be rebuilt."""

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_brand_at", "brand_id", "at"),
        # Covers "what happened in the last 30 days" without reading the table's rows.
        Index("ix_security_events_at_kind", "at", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # The user's effective brand when it happened: moving a user later does not move the past.
    brand_id: int = Field(foreign_key="brands.id")
    kind: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow)


class UserGroupCount(SQLModel, table=True):
    """Users and app passwords counted per (domain, user-level brand, status).

    Kept by database triggers (``core.reporting.running_counts``); ``user_brand_id`` 0 means no override.
    """

    __tablename__ = "user_group_counts"

    domain_id: int = Field(primary_key=True)
    user_brand_id: int = Field(default=0, primary_key=True)
    status: str = Field(primary_key=True, max_length=16)
    users: int = 0
    enrolled: int = 0
    ap_users: int = 0
    ap_users_enrolled: int = 0
    ap_count: int = 0


class EventMonthCount(SQLModel, table=True):
    """``security_events`` counted per UTC month, brand at the time and kind (triggers)."""

    __tablename__ = "event_month_counts"

    month: str = Field(primary_key=True, max_length=7)
    brand_id: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=32)
    n: int = 0


class Notification(SQLModel, table=True):
    """A message queued for a customer, delivered by ``notify send``."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=32)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # pending -> sending -> sent; a failed send goes back to pending with a later attempt time.
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = None


class Operator(SQLModel, table=True):
    """A member of the reseller's staff who signs in to the console."""

    __tablename__ = "operators"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=32)
    password_hash: str = Field(max_length=200)
    totp_secret: str | None = Field(default=None, max_length=400)
    totp_confirmed: bool = False
    totp_last_step: int | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = None
    # The last password change or authenticator reset: sessions issued before it may not act.
    credentials_changed_at: datetime | None = None


class OperatorSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds the token; the table holds its hash."""

    __tablename__ = "operator_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept in the database so a reload does not reset the count."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_subject_at", "subject", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=400)
    at: datetime = Field(default_factory=utcnow)
