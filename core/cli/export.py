"""``python -m core export``: a CSV report written whole or not at all (through ``<out>.part``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from core.cli.common import check_by, check_twofa, fail, session
from core.platform.db import get_engine
from core.reporting.exports.registry import Report, check_brand
from core.reporting.search_query import UserSearch

KINDS = ("users", "adoption", "audit")


def export(
    kind: Annotated[str, typer.Argument(help="users, adoption or audit.")],
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
    by: Annotated[str, typer.Option("--by", help="For adoption: brand, domain or month.")] = "brand",
    text: Annotated[str, typer.Option("--search", help="For users: an address fragment.")] = "",
    brand: Annotated[str | None, typer.Option("--brand")] = None,
    twofa: Annotated[str | None, typer.Option("--twofa")] = None,
    since: Annotated[str | None, typer.Option("--since", help="For audit: YYYY-MM-DD (UTC).")] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="For audit: YYYY-MM-DD (UTC), exclusive.")
    ] = None,
    bom: Annotated[bool, typer.Option("--bom", help="Start with a byte-order mark, for Excel.")] = False,
) -> None:
    """Write a CSV report that opens safely in a spreadsheet."""
    from core.platform.audit import AuditFilter
    from core.reporting.exports import files

    if kind not in KINDS:
        fail(f"The report must be users, adoption or audit, not {kind!r}.")
    check_by(by)
    check_twofa(twofa)
    if not out.parent.is_dir():
        fail(f"{out.parent}: no such folder for --out.")
    if out.is_dir():
        fail(f"{out}: --out names a folder; give a file name.")
    search = UserSearch(text=text, brand=brand, twofa=twofa)
    audit_filter = AuditFilter(brand=brand, since=_date(since, "--since"), until=_date(until, "--until"))
    with session() as s:
        check_brand(s, Report(kind, by=by, brand=brand))
    tmp = out.with_name(out.name + ".part")
    try:
        with tmp.open("wb") as fh:
            rows = files.write_csv(
                fh,
                kind,
                engine=get_engine(),
                search=search,
                audit_filter=audit_filter,
                by=by,
                brand=brand if kind == "adoption" else None,
                bom=bom,
            )
        tmp.replace(out)
    except OSError as exc:
        fail(f"{out}: cannot write the file ({exc.strerror or exc}).", 1)
    finally:
        tmp.unlink(missing_ok=True)
    typer.echo(f"Wrote {rows:,} rows to {out}.")


def _date(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        fail(f"{option} must be a date as YYYY-MM-DD, not {value!r}.")
