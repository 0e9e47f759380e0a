"""``python -m core mail-auth token``: the tokens mail servers present to ``POST /api/mail-auth``.

``create`` prints the new token once on stdout (only its SHA-256 is kept); ``list`` shows
every token with its last use; ``revoke`` refuses the server holding it from its next login.
Administrators only (``--actor``), or the local command line itself.
"""

from __future__ import annotations

from typing import Annotated

import typer

from core.access import mail_auth_tokens
from core.cli.common import FormatOpt, acting, check_format, session
from core.cli.output import emit

app = typer.Typer(no_args_is_help=True, help="Mail servers signing mail clients in through the console.")
token_app = typer.Typer(no_args_is_help=True, help="The tokens mail servers present to POST /api/mail-auth.")
app.add_typer(token_app, name="token")

ActorOpt = Annotated[str | None, typer.Option("--actor", help="The acting administrator's username.")]
TOKEN_FIELDS = ("label", "state", "created_at", "created_by", "last_used_at", "revoked_at")


@token_app.command("create")
def token_create(label: Annotated[str, typer.Option("--label")], actor: ActorOpt = None) -> None:
    """Create a token for one mail server and print it once."""
    with session(write=True) as s:
        new = mail_auth_tokens.create(s, actor=acting(s, actor), label=label)
    typer.echo(new.token)
    typer.echo(
        f"This is the only time the token '{new.label}' is shown; keep it in the mail server's token file.",
        err=True,
    )


@token_app.command("list")
def token_list(fmt: FormatOpt = "table", actor: ActorOpt = None) -> None:
    """Every token: its label, live or revoked, who made it, its last use (to the minute)."""
    check_format(fmt)
    with session(write=True) as s:
        rows = mail_auth_tokens.list_tokens(s, actor=acting(s, actor))
    emit(rows, fmt, TOKEN_FIELDS)


@token_app.command("revoke")
def token_revoke(label: str, actor: ActorOpt = None) -> None:
    """Revoke a token: the mail server holding it is refused from its next login on."""
    with session(write=True) as s:
        mail_auth_tokens.revoke(s, actor=acting(s, actor), label=label)
    typer.echo(f"Revoked the mail-server token '{label.strip()}'.")
