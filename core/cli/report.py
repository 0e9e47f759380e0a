"""``python -m core report``: reports on screen (2FA and app-password adoption)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from core.brands import switches
from core.cli.common import FormatOpt, check_by, check_format, session
from core.cli.output import emit
from core.reporting import adoption, history

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
    with session() as s:
        if brand:
            switches.get_brand(s, brand)
        rows, fields = _adoption_rows(s, by, brand)
    emit(rows, fmt, fields)


def _adoption_rows(s: Session, by: str, brand: str | None) -> tuple[list[dict], tuple[str, ...]]:
    if by == "brand":
        return adoption.adoption_by_brand(s, adoption.AdoptionFilter(brand=brand)), adoption.ADOPTION_FIELDS
    if by == "domain":
        return adoption.adoption_by_domain(
            s, adoption.AdoptionFilter(brand=brand)
        ), adoption.ADOPTION_DOMAIN_FIELDS
    return history.adoption_by_month(s, brand=brand), history.MONTH_FIELDS
