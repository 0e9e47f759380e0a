"""``python -m core operators``: the console's operators, their roles, passwords and authenticators."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from core.access import operators
from core.access.permissions import Actor
from core.cli.common import ActorOpt, FormatOpt, acting, check_format, fail, read_stdin_secret, session
from core.cli.output import emit

app = typer.Typer(no_args_is_help=True, help="Operators of the console and their roles.")

PasswordStdinOpt = Annotated[bool, typer.Option("--password-stdin")]


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        return read_stdin_secret("password")
    if not sys.stdin.isatty():
        fail("No terminal to ask for the password: use --password-stdin.")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@app.command("add")
def ops_add(
    username: str,
    role: Annotated[str, typer.Option("--role", help="analyst, support, account_manager or admin.")],
    display_name: Annotated[str, typer.Option("--display-name")] = "",
    password_stdin: PasswordStdinOpt = False,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
) -> None:
    """Add an operator (the first one needs no --actor)."""
    # Checked before the password prompt, so a typo costs no typing.
    operators.check_username(username)
    operators.check_role(role)
    password = _new_password(password_stdin)
    with session(write=True) as s:
        op = operators.add_operator(
            s,
            actor=acting(s, actor),
            username=username,
            role=role,
            password=password,
            display_name=display_name,
        )
    typer.echo(f"Added operator {op.username} ({role}); they set up their authenticator at first sign-in.")


@app.command("list")
def ops_list(fmt: FormatOpt = "table") -> None:
    """Every operator with role and state."""
    check_format(fmt)
    with session() as s:
        emit(operators.list_operators(s), fmt)


@app.command("passwd")
def ops_passwd(username: str, password_stdin: PasswordStdinOpt = False) -> None:
    """Set an operator's password."""
    password = _new_password(password_stdin)
    with session(write=True) as s:
        operators.change_password(s, actor=Actor.cli(), username=username, password=password)
    typer.echo(f"Password changed for {username}.")


@app.command("deactivate")
def ops_deactivate(username: str) -> None:
    """Deactivate an operator (never the last active administrator)."""
    with session(write=True) as s:
        operators.deactivate(s, actor=Actor.cli(), username=username)
    typer.echo(f"Deactivated {username}.")


@app.command("reset-totp")
def ops_reset_totp(username: str) -> None:
    """Remove an operator's authenticator; they enrol again at the next sign-in."""
    with session(write=True) as s:
        operators.reset_totp(s, actor=Actor.cli(), username=username)
    typer.echo(f"Authenticator removed for {username}; they set up a new one at the next sign-in.")


@app.command("totp")
def ops_totp(username: str) -> None:
    """Print an operator's current code (demo and tests; needs the database's key)."""
    with session() as s:
        typer.echo(operators.current_totp(s, username))


@app.command("set-role")
def ops_set_role(username: str, role: Annotated[str, typer.Option("--role")], actor: ActorOpt) -> None:
    """Change an operator's role (an administrator's act)."""
    with session(write=True) as s:
        operators.set_role(s, actor=acting(s, actor), username=username, role=role)
    typer.echo(f"{username} is now {role}.")
