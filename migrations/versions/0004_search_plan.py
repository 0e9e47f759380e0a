"""trigram index over the address with its punctuation folded into letters (PostgreSQL)

pg_trgm ignores punctuation, so a fragment such as "k.r" or "a@f" found a fifth of all
addresses in ix_users_email_trgm; see core.reporting.search_index. SQLite's FTS5 trigram table
already indexes punctuation: nothing changes there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

from core.reporting import search_index

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    search_index.create_folded(op.get_bind())


def downgrade() -> None:
    search_index.drop_folded(op.get_bind())
