"""Alembic environment: the runner, the one file here that imports the console's code.

It reads the database URL from core's settings (or the caller's config), opens the engine
the console opens (WAL and foreign keys on SQLite, UTC sessions on PostgreSQL), and gives
autogenerate today's tables to compare against. The revisions under ``versions/`` import
nothing but alembic and sqlalchemy: each holds the statements it ran when it was written,
so a later change to the console never changes what an old revision does. Autogenerate
writes SQLModel's column types as the plain SQLAlchemy types they store, so a new revision
needs no import beyond those two either. The search index's FTS5 tables (0002) and trigram
indexes (0002, 0004) are written in SQL and described by no model: autogenerate leaves them be.
"""

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import core.platform.models  # noqa: F401  (registers every table on SQLModel.metadata)
from core.platform.config import get_settings
from core.platform.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render a type decorator (SQLModel's ``AutoString``, ``UTCDateTime``) as the type it stores."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


# Made by revisions in SQL, described by no model.
SQL_ONLY_TABLE_PREFIX = "users_email_fts"
SQL_ONLY_INDEXES = frozenset({"ix_users_email_trgm", "ix_users_email_trgm_folded"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate compares every object but those the revisions made in SQL alone."""
    if not reflected or compare_to is not None or name is None:
        return True
    if type_ == "table":
        return not name.startswith(SQL_ONLY_TABLE_PREFIX)
    return not (type_ == "index" and name in SQL_ONLY_INDEXES)


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or get_settings().database_url
    engine = get_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
