"""``python -m core login``: would the platform let this mailbox in? Exit 0 yes, 1 no."""

from __future__ import annotations

from typing import Annotated

import typer

from core.cli.common import fail, read_stdin_secret, session


def login(
    email: str,
    code: Annotated[str | None, typer.Option("--code")] = None,
    app_password: Annotated[
        bool, typer.Option("--app-password", help="Check an app password (IMAP/SMTP).")
    ] = False,
) -> None:
    """Would the platform let this user in? The password (or app password) comes on stdin."""
    from core.mailboxes.mailbox_login import check_login

    secret = read_stdin_secret("app password" if app_password else "password")
    with session(write=True) as s:
        outcome = check_login(s, email=email, secret=secret, code=code, app_password=app_password)
    if not outcome.ok:
        fail(outcome.message, 1)
    typer.echo(outcome.message)
