"""``python -m core audit``: the newest audit events, filtered."""

from __future__ import annotations

from typing import Annotated

import typer

from core.cli.common import FormatOpt, check_format, session
from core.cli.output import emit

FIELDS = ("id", "at", "actor", "action", "object_type", "object_key", "brand", "user", "reason")


def audit(
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 50,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this operator's events.")] = None,
    action: Annotated[str | None, typer.Option("--action")] = None,
    brand: Annotated[str | None, typer.Option("--brand")] = None,
    user: Annotated[str | None, typer.Option("--user")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The newest audit events."""
    from core.platform.audit import AuditFilter, list_events

    check_format(fmt)
    with session() as s:
        rows = list_events(
            s, AuditFilter(actor=actor, action=action, brand=brand, user_email=user), limit=limit
        )
    # The before and after images are nested data: in CSV and JSON only, never in the table.
    emit(rows, fmt, (*FIELDS, "before", "after") if fmt != "table" else FIELDS)
