"""``python -m core notify``: deliver the queued customer notices, list them."""

from __future__ import annotations

from typing import Annotated

import typer

from core.cli.common import Exit, FormatOpt, check_format, session
from core.cli.output import emit

app = typer.Typer(no_args_is_help=True, help="Customer notifications.")

LIST_FIELDS = ("id", "created_at", "recipient", "kind", "status", "attempts", "sent_at", "last_error")


@app.command("send")
def notify_send() -> None:
    """Deliver the queued customer notifications (SMTP_URL, or .eml files in data/outbox/)."""
    from core.notices import delivery

    report = delivery.send_pending()
    typer.echo(f"Sent {report.sent}, failed {report.failed} (will retry later), skipped {report.skipped}.")
    if report.failed:
        raise Exit(1, "Some notifications could not be sent; they stay queued and are retried later.")


@app.command("list")
def notify_list(
    pending: Annotated[bool, typer.Option("--pending", help="Only those not sent yet.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """The queued and sent customer notifications."""
    from core.notices import listing

    check_format(fmt)
    with session() as s:
        rows = listing.list_notifications(s, pending_only=pending)
    emit(rows, fmt, LIST_FIELDS)
