"""``python -m core app-passwords``: create one for a device (shown once), revoke one."""

from __future__ import annotations

from typing import Annotated

import typer

from core.access.permissions import Actor
from core.cli.common import ActorOpt, acting, session
from core.mailboxes import app_passwords

app = typer.Typer(no_args_is_help=True, help="App-specific passwords.")


@app.command("create")
def ap_create(
    email: str,
    label: Annotated[str, typer.Option("--label")],
    protocols: Annotated[
        str | None,
        typer.Option("--protocols", help="Comma list of imap, pop3, smtp, sieve, dav (default: all)."),
    ] = None,
) -> None:
    """Create an app password for a device and print it once."""
    with session(write=True) as s:
        new = app_passwords.create(
            s, actor=Actor.customer(email), email=email, label=label, protocols=protocols
        )
    typer.echo(new.password)
    typer.echo(f"This is the only time the app password for '{new.label}' is shown.", err=True)


@app.command("revoke")
def ap_revoke(email: str, label: Annotated[str, typer.Option("--label")], actor: ActorOpt) -> None:
    """Revoke one app password; the others keep working."""
    with session(write=True) as s:
        address = app_passwords.revoke(s, actor=acting(s, actor), email=email, label=label)
    typer.echo(f"Revoked the app password '{label}' of {address}.")
