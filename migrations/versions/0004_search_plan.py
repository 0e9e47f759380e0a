"""trigram index over the address with its punctuation folded into letters (PostgreSQL)

pg_trgm ignores punctuation, so a fragment such as "k.r" or "a@f" found a fifth of all
addresses in ix_users_email_trgm. This index holds the address with ``.@-_+`` spelled as
``ªºǂǃǀ`` (letters no address carries), so "k.r" is the single trigram "kªr", as SQLite's
FTS5 trigram table already sees it: nothing changes on SQLite.

The statement is this revision's own, frozen as it ran when it was written; the user
search writes the same ``translate`` expression so that the planner matches it to the index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_UPGRADE = (
    "CREATE INDEX IF NOT EXISTS ix_users_email_trgm_folded ON users USING gin "
    "(translate(email, '.@-_+', 'ªºǂǃǀ') gin_trgm_ops)"
)
POSTGRESQL_DOWNGRADE = "DROP INDEX IF EXISTS ix_users_email_trgm_folded"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_UPGRADE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_DOWNGRADE)
