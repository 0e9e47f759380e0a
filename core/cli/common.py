"""What every command shares: the options, the exit with a sentence, the session and the actor."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from sqlmodel import Session

from core.access import operators
from core.access.permissions import Actor
from core.cli.output import FORMATS
from core.mailboxes.state import TWOFA_STATES
from core.platform.db import get_engine, session_scope

FormatOpt = Annotated[str, typer.Option("--format", help="table, csv or json.")]
ActorOpt = Annotated[str, typer.Option("--actor", help="The acting operator's username.")]

BY_CHOICES = ("brand", "domain", "month")


class Exit(Exception):
    """Ends a command with an exit code and, on stderr, one sentence (``core.cli.app.main``)."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def fail(message: str, code: int = 2) -> NoReturn:
    raise Exit(code, message)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    return fmt


def check_by(by: str) -> str:
    if by not in BY_CHOICES:
        fail(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}.")
    return by


def check_twofa(twofa: str | None) -> str | None:
    if twofa is not None and twofa not in TWOFA_STATES:
        fail(f"--twofa must be {', '.join(TWOFA_STATES[:-1])} or {TWOFA_STATES[-1]}, not {twofa!r}.")
    return twofa


@contextmanager
def session(write: bool = False) -> Iterator[Session]:
    with session_scope(get_engine(), write=write) as s:
        yield s


def acting(s: Session, username: str | None) -> Actor:
    """The operator named by --actor (existing and active), or the CLI itself."""
    if username is None:
        return Actor.cli()
    return operators.actor_for(s, username)


def read_stdin_secret(what: str) -> str:
    if sys.stdin is None or sys.stdin.closed:
        fail(f"Give the {what} on standard input.")
    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        fail(f"No {what} on standard input: pipe it in, e.g. `echo ... | python -m core ...`.")
    return text
