"""``python -m core import``: load data from files, all rows or none."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.cli.common import acting, fail, session
from core.mailboxes import users

app = typer.Typer(no_args_is_help=True, help="Load data from files.")


@app.command("users")
def import_users_cmd(
    file: Path,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
) -> None:
    """Load mailboxes from a CSV (email, display_name, status[, brand]): all rows or none."""
    if not file.is_file():
        fail(f"{file}: no such file.")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 text (byte {exc.start}).")
    with session(write=True) as s:
        result = users.import_users(s, actor=acting(s, actor), source=text, name=str(file))
    typer.echo(f"Imported {result.rows:,} mailboxes into {result.domains:,} domains.")
