"""``python -m core users``: add, search and show mailboxes; enrol and reset their 2FA."""

from __future__ import annotations

from typing import Annotated

import typer

from core.access.permissions import Actor
from core.cli.common import ActorOpt, FormatOpt, acting, check_format, check_twofa, session
from core.cli.output import emit
from core.mailboxes import twofa, users
from core.reporting.search import SEARCH_LIMIT_MAX, search_users
from core.reporting.search_query import UserSearch

app = typer.Typer(no_args_is_help=True, help="Mailboxes, their 2FA and sign-in.")

FIELDS = ("email", "display_name", "brand", "domain", "status", "twofa", "app_passwords")
APP_PASSWORD_FIELDS = (
    "label",
    "protocols",
    "created_at",
    "last_used_at",
    "last_used_protocol",
    "last_used_ip",
    "state",
)


@app.command("add")
def users_add(
    email: str,
    display_name: Annotated[str, typer.Option("--display-name")],
    password: Annotated[str | None, typer.Option("--password")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Brand override for this mailbox.")] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
) -> None:
    """Add a mailbox to an existing domain."""
    with session(write=True) as s:
        user = users.add_user(
            s, actor=acting(s, actor), email=email, display_name=display_name, password=password, brand=brand
        )
    typer.echo(f"Added {user.email}.")


@app.command("search")
def users_search(
    text: Annotated[str, typer.Argument(help="Any fragment of an address.")] = "",
    brand: Annotated[str | None, typer.Option("--brand")] = None,
    domain: Annotated[str | None, typer.Option("--domain")] = None,
    twofa: Annotated[str | None, typer.Option("--twofa", help="on, off or dormant.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=SEARCH_LIMIT_MAX)] = 50,
    fmt: FormatOpt = "table",
) -> None:
    """Find mailboxes by any fragment of the address."""
    check_format(fmt)
    check_twofa(twofa)
    with session() as s:
        rows = search_users(s, UserSearch(text=text, brand=brand, domain=domain, twofa=twofa), limit=limit)
    emit(rows, fmt, FIELDS)


@app.command("show")
def users_show(email: str, fmt: FormatOpt = "table") -> None:
    """One mailbox: brand, 2FA state and app passwords."""
    check_format(fmt)
    with session() as s:
        d = users.user_detail(s, email)
    d["app_passwords"] = [{k: ap[k] for k in APP_PASSWORD_FIELDS} for ap in d["app_passwords"]]
    if fmt == "table":
        emit({k: d[k] for k in FIELDS if k != "app_passwords"}, fmt)
        typer.echo("app passwords:")
        emit(d["app_passwords"], fmt, APP_PASSWORD_FIELDS)
    else:
        emit(d, fmt, FIELDS)


@app.command("enroll-2fa")
def users_enroll(email: str) -> None:
    """Enrol a mailbox in 2FA and print its otpauth:// URI once."""
    with session(write=True) as s:
        enrolment = twofa.enroll(s, actor=Actor.customer(email), email=email)
    typer.echo(enrolment.uri)


@app.command("reset-2fa")
def users_reset(
    email: str,
    actor: ActorOpt,
    reason: Annotated[
        str, typer.Option("--reason", help="lost phone, new phone, reset authenticator, other")
    ],
) -> None:
    """Disable 2FA for a user who lost their device, and queue the customer's notice."""
    with session(write=True) as s:
        result = twofa.reset(s, actor=acting(s, actor), email=email, reason=reason)
    typer.echo(f"2FA is off for {result.email} (reason: {result.reason}). The customer's notice is queued:")
    typer.echo(f"Subject: {result.notification_subject}\n\n{result.notification_body}")
