"""n-gram index for address-fragment search (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)

SQLite: an external-content FTS5 table over ``users.email`` with the trigram tokenizer,
kept in step by three triggers, and filled once from the rows already there. PostgreSQL: a
``pg_trgm`` GIN index on ``users.email``, kept by the database itself.

The statements are this revision's own, frozen as they ran when it was written; today's
copy (for fresh databases and bulk loads) lives in the console's search-index module and
may change without changing what this revision does.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS users_email_fts USING fts5(email, content='users', content_rowid='id', tokenize='trigram')""",
    """
        CREATE TRIGGER IF NOT EXISTS users_fts_ai AFTER INSERT ON users BEGIN
          INSERT INTO users_email_fts(rowid, email) VALUES (new.id, new.email);
        END""",
    """
        CREATE TRIGGER IF NOT EXISTS users_fts_ad AFTER DELETE ON users BEGIN
          INSERT INTO users_email_fts(users_email_fts, rowid, email) VALUES ('delete', old.id, old.email);
        END""",
    """
        CREATE TRIGGER IF NOT EXISTS users_fts_au AFTER UPDATE OF email ON users BEGIN
          INSERT INTO users_email_fts(users_email_fts, rowid, email) VALUES ('delete', old.id, old.email);
          INSERT INTO users_email_fts(rowid, email) VALUES (new.id, new.email);
        END""",
    # Addresses written before this revision: index them once.
    """INSERT INTO users_email_fts(users_email_fts) VALUES ('rebuild')""",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS users_fts_ai",
    "DROP TRIGGER IF EXISTS users_fts_ad",
    "DROP TRIGGER IF EXISTS users_fts_au",
    "DROP TABLE IF EXISTS users_email_fts",
)

POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_users_email_trgm ON users USING gin (email gin_trgm_ops)",
)
POSTGRESQL_DOWNGRADE = ("DROP INDEX IF EXISTS ix_users_email_trgm",)


def _run(sqlite: Sequence[str], postgresql: Sequence[str]) -> None:
    for statement in sqlite if op.get_bind().dialect.name == "sqlite" else postgresql:
        op.execute(statement)


def upgrade() -> None:
    _run(SQLITE_UPGRADE, POSTGRESQL_UPGRADE)


def downgrade() -> None:
    _run(SQLITE_DOWNGRADE, POSTGRESQL_DOWNGRADE)
