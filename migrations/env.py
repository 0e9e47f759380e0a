"""Alembic environment: the URL comes from core's settings (or the caller's config)."""

from alembic import context
from sqlmodel import SQLModel

import core.platform.models  # noqa: F401  (registers every table on SQLModel.metadata)
from core.platform.config import get_settings
from core.platform.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or get_settings().database_url
    engine = get_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
