"""``python -m core report``: reports on screen (2FA and app-password adoption)."""

from __future__ import annotations

from typing import Annotated

import typer

from core.cli.common import FormatOpt, check_by, check_format, session
from core.cli.output import emit
from core.reporting.exports.registry import Report, adoption_table, check_brand

app = typer.Typer(no_args_is_help=True, help="Reports on screen.")


@app.command("adoption")
def report_adoption(
    by: Annotated[str, typer.Option("--by", help="brand, domain or month.")] = "brand",
    brand: Annotated[str | None, typer.Option("--brand")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """2FA and app-password adoption by brand, domain or month."""
    check_format(fmt)
    check_by(by)
    report = Report("adoption", by=by, brand=brand)
    with session() as s:
        check_brand(s, report)
        rows = adoption_table(s, report, months_combined=True)
    emit(rows, fmt, report.columns)
