"""The command line: ``python -m core``. A thin adapter over the same services as the pages.

This module wires the command groups of ``core.cli`` into one typer application and maps
every failure to an exit code: 0 done; 1 refused by a rule (cap reached, conflict, role, not
found); 2 bad input. The reason goes to stderr as one plain sentence, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from typer._click.exceptions import NoArgsIsHelpError
from typer.exceptions import TyperException

from core.cli import (
    app_passwords,
    audit,
    brands,
    export,
    imports,
    login,
    mail_auth,
    notify,
    operators,
    report,
    setup,
    users,
)
from core.cli.common import Exit
from core.platform.config import SettingsError
from core.platform.errors import BadInput, CoreError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="MAC Security Console command line.")
app.add_typer(brands.app, name="brands")
app.add_typer(users.app, name="users")
app.add_typer(imports.app, name="import")
app.add_typer(app_passwords.app, name="app-passwords")
app.add_typer(notify.app, name="notify")
app.add_typer(report.app, name="report")
app.add_typer(operators.app, name="operators")
app.add_typer(mail_auth.app, name="mail-auth")
app.command()(setup.init)
app.command()(setup.keygen)
app.command()(setup.seed)
app.command()(login.login)
app.command()(export.export)
app.command()(audit.audit)


def _explain_db_error(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return "The database has no schema yet: run `python -m core init` first."
    if isinstance(exc, IntegrityError):
        return f"The database refused the change ({text}); nothing was written."
    if isinstance(exc, OperationalError):
        return f"The database cannot be reached or is busy ({text}); nothing was changed. Try again."
    return f"The database refused the request ({text}); nothing was changed."


def _one_line(text: str) -> str:
    """A message as one line: the reason goes to stderr as one plain sentence."""
    return " ".join(str(text).split())


def _usage_message(exc: TyperException) -> str:
    text = _one_line(exc.format_message()) or "The command line is not valid."
    return f"{text} (see `python -m core --help`)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 done, 1 refused, 2 bad input).

    Nothing escapes as a traceback: every failure ends as one sentence on stderr.
    """
    run: Callable[..., Any] = app
    try:
        rv = run(args=argv, prog_name="python -m core", standalone_mode=False)
    except Exit as exc:
        if exc.message:
            typer.echo(exc.message, err=True)
        return exc.code
    except BadInput as exc:
        typer.echo(_one_line(str(exc)), err=True)
        for p in exc.problems[20:]:
            typer.echo(f"  {_one_line(p)}", err=True)
        return 2
    except CoreError as exc:
        typer.echo(_one_line(str(exc)), err=True)
        return exc.exit_code
    except SettingsError as exc:
        typer.echo(_one_line(str(exc)), err=True)
        return 2
    except ArgumentError as exc:  # DATABASE_URL that is not a database URL
        typer.echo(f"DATABASE_URL is not a usable database URL ({_one_line(str(exc))}).", err=True)
        return 2
    except DBAPIError as exc:
        typer.echo(_explain_db_error(exc), err=True)
        return 1
    except NoArgsIsHelpError as exc:  # a group named without a command: show its help
        typer.echo(exc.format_message())
        typer.echo("Name a command (see the list above).", err=True)
        return 2
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except TyperException as exc:  # the vendored click's usage errors (exit_code 2) and others
        typer.echo(_usage_message(exc), err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # anything unforeseen: still one sentence, never a traceback
        typer.echo(f"Unexpected error: {type(exc).__name__}: {_one_line(str(exc))}", err=True)
        return 1
    return rv if isinstance(rv, int) else 0
