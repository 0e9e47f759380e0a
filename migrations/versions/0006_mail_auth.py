"""mail-auth: tokens of the mail servers, and app passwords' protocols, lookup key and last use

Existing app passwords get every protocol (what they signed in to before) and no lookup key:
the first sign-in that matches one by its argon2 hash sets it (core.mailboxes.mail_auth).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: the protocols an app password had before this revision, all of them.
_ALL_PROTOCOLS = "imap,pop3,smtp,sieve,dav"


def upgrade() -> None:
    op.create_table(
        "mail_auth_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label"),
        sa.UniqueConstraint("token_digest"),
    )
    # Plain ALTER TABLE ... ADD COLUMN on both engines: no table rebuild, so the running
    # counts' triggers on app_passwords stay as they are.
    op.add_column(
        "app_passwords",
        sa.Column("protocols", sa.Text(), server_default=_ALL_PROTOCOLS, nullable=False),
    )
    op.add_column("app_passwords", sa.Column("lookup_key", sa.String(length=64), nullable=True))
    op.add_column("app_passwords", sa.Column("last_used_protocol", sa.String(length=8), nullable=True))
    op.add_column("app_passwords", sa.Column("last_used_ip", sa.String(length=64), nullable=True))
    op.create_index("ix_app_passwords_lookup_key", "app_passwords", ["lookup_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_app_passwords_lookup_key", table_name="app_passwords")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), again without a rebuild.
    for column in ("last_used_ip", "last_used_protocol", "lookup_key", "protocols"):
        op.drop_column("app_passwords", column)
    op.drop_table("mail_auth_tokens")
