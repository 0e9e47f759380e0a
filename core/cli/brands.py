"""``python -m core brands``: list, show, set a brand's switches, save its login CSS."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.access import permissions
from core.brands import switches
from core.cli.common import ActorOpt, FormatOpt, acting, check_format, fail, session
from core.cli.output import emit

if TYPE_CHECKING:
    from core.brands.css.report import CssFinding

app = typer.Typer(no_args_is_help=True, help="Brands and their security switches.")

LIST_FIELDS = (
    "name",
    *switches.SWITCHES,
    "version",
    "users",
    "users_2fa",
    "pct_2fa",
    "pct_app_passwords",
)


@app.command("list")
def brands_list(fmt: FormatOpt = "table") -> None:
    """Every brand with its switches and adoption."""
    check_format(fmt)
    with session() as s:
        emit(switches.list_brands(s), fmt, LIST_FIELDS)


@app.command("show")
def brands_show(brand: str, fmt: FormatOpt = "table") -> None:
    """One brand: switches, login CSS, version and adoption figures."""
    check_format(fmt)
    with session() as s:
        emit(switches.brand_detail(s, brand), fmt)


@app.command("set")
def brands_set(
    brand: str,
    actor: ActorOpt,
    allow_2fa: Annotated[bool | None, typer.Option("--allow-2fa/--no-allow-2fa")] = None,
    allow_user_disable_2fa: Annotated[
        bool | None, typer.Option("--allow-user-disable-2fa/--no-allow-user-disable-2fa")
    ] = None,
    allow_app_passwords: Annotated[
        bool | None, typer.Option("--allow-app-passwords/--no-allow-app-passwords")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the impact, change nothing.")] = False,
    version: Annotated[
        int | None, typer.Option("--version", help="Refuse if the brand is not at this version.")
    ] = None,
) -> None:
    """Set a brand's switches, applied to the whole brand at once."""
    change = switches.SwitchChange(allow_2fa, allow_user_disable_2fa, allow_app_passwords)
    if not change.as_dict():
        fail(
            "Name at least one switch: --allow-2fa, --allow-user-disable-2fa or "
            "--allow-app-passwords (or their --no- forms)."
        )
    with session(write=not dry_run) as s:
        who = acting(s, actor)
        permissions.authorize(who, "brand.update")
        if dry_run:
            impact = switches.preview_impact(s, brand, change)
            typer.echo(f"Dry run for {impact.brand}; nothing was changed.")
        else:
            impact = switches.set_switches(s, actor=who, name=brand, change=change, expected_version=version)
            typer.echo(f"Updated {impact.brand}." if impact.changed else f"{impact.brand} unchanged.")
    for line in impact.sentences:
        typer.echo(f"- {line}")


@app.command("css")
def brands_css(
    brand: str,
    actor: ActorOpt,
    file: Annotated[Path, typer.Option("--file", help="The CSS file; - for standard input.")],
) -> None:
    """Check and save a brand's custom login CSS (styles the 2FA pop-up)."""
    if str(file) == "-":
        css = sys.stdin.read()
    else:
        if not file.is_file():
            fail(f"{file}: no such file.")
        try:
            css = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            fail(f"{file}: not UTF-8 text.")
    from core.brands.css.report import CssRejected

    try:
        with session(write=True) as s:
            who = acting(s, actor)
            saved, warnings = switches.save_css(s, actor=who, name=brand, css=css)
    except CssRejected as exc:
        errors = exc.report.errors
        reasons = "; ".join(_css_reason(f) for f in errors)
        fail(f"The CSS was refused, nothing was saved ({len(errors)} error(s)): {reasons}.")
    typer.echo(f"Saved the login CSS of {saved.name} (version {saved.version}).")
    for w in warnings:
        typer.echo(f"warning: {_css_reason(w)}.", err=True)


def _css_reason(finding: CssFinding) -> str:
    """One finding as "line L, column C: message", on one line, without its full stop."""
    message = " ".join(finding.message.split()).removesuffix(".")
    return f"line {finding.line}, column {finding.column}: {message}"
