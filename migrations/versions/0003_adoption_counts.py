"""running counts for adoption (users per group, security events per month), kept by triggers;
indexes for the Overview's 30-day changes and at-risk lists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.reporting import running_counts

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_group_counts",
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_brand_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in running_counts.GROUP_SUMS),
        sa.PrimaryKeyConstraint("domain_id", "user_brand_id", "status"),
    )
    op.create_table(
        "event_month_counts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "brand_id", "kind"),
    )
    # "new mailboxes in the last 30 days" reads a range of this, not the whole table.
    op.create_index("ix_users_created_at", "users", ["created_at"])
    # the last 30 days' events by kind, read from the index alone
    op.create_index("ix_security_events_at_kind", "security_events", ["at", "kind"])
    op.drop_index("ix_security_events_at", table_name="security_events")
    # live app passwords, least recently active first ("unused for 90 days")
    op.create_index(
        "ix_app_passwords_live_activity",
        "app_passwords",
        [sa.text("coalesce(last_used_at, created_at)")],
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    conn = op.get_bind()
    running_counts.rebuild(conn)  # an existing database's counts, once
    running_counts.create_triggers(conn)


def downgrade() -> None:
    conn = op.get_bind()
    running_counts.drop_triggers(conn)
    running_counts.drop_functions(conn)
    op.drop_index("ix_app_passwords_live_activity", table_name="app_passwords")
    op.create_index("ix_security_events_at", "security_events", ["at"])
    op.drop_index("ix_security_events_at_kind", table_name="security_events")
    op.drop_index("ix_users_created_at", table_name="users")
    op.drop_table("event_month_counts")
    op.drop_table("user_group_counts")
