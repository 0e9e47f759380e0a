"""The top-level commands that set a console up: ``init``, ``keygen`` and ``seed``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from core.cli.common import session
from core.mailboxes import users
from core.platform.db import get_engine, upgrade_schema


def init() -> None:
    """Create or upgrade the schema to the newest version (SQLite or PostgreSQL)."""
    upgrade_schema()
    typer.echo("Schema is up to date.")


def keygen() -> None:
    """Print a new key for MAC_SECRET_KEY."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


def seed(
    brands_n: Annotated[int, typer.Option("--brands", min=1, max=100_000)] = 40,
    users_n: Annotated[int, typer.Option("--users", min=0, max=20_000_000)] = 20_000,
    seed_n: Annotated[int, typer.Option("--seed")] = 7,
    replace: Annotated[bool, typer.Option("--replace", help="Delete all data first.")] = False,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when users exist.")] = False,
) -> None:
    """Load the deterministic demo data set."""
    from core.demo.seed import seed_demo

    engine = get_engine()
    if if_empty:
        with session() as s:
            if users.count_all_users(s) > 0:
                typer.echo("The database has data already; demo data not loaded.")
                return
    with _progress_bar("Loading demo data") as progress:
        summary = seed_demo(
            engine=engine, brands=brands_n, users=users_n, seed=seed_n, replace=replace, progress=progress
        )
    typer.echo(
        f"Loaded {summary.users:,} users in {summary.brands:,} brands "
        f"({summary.users_2fa_enrolled:,} enrolled in 2FA, {summary.app_passwords:,} app passwords) "
        f"in {summary.seconds:.1f} s."
    )


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[str, float], None] | None]:
    """A progress callback drawing a bar on a terminal's stderr; None for scripts and cron,
    whose stderr keeps to the reason."""
    if not sys.stderr.isatty():
        yield None
        return
    with typer.progressbar(length=100, label=label, file=sys.stderr) as bar:
        done = [0]

        def progress(_stage: str, fraction: float) -> None:
            step = int(fraction * 100) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        yield progress
