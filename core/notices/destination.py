"""Where notices go with the settings in force: an SMTP server, or the outbox folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from core.notices.smtp_url import SmtpTarget, parse_smtp_url
from core.platform.config import Settings, get_settings


@dataclass(frozen=True)
class Destination:
    """Where ``send_pending`` hands messages: an SMTP server, or the outbox directory."""

    transport: Literal["smtp", "outbox"]
    host: str | None = None  # smtp: the server's host and port
    port: int | None = None
    outbox: Path | None = None  # outbox: the directory the .eml files are written to
    smtp: SmtpTarget | None = field(default=None, repr=False)  # smtp: how to connect, with the login


def destination(settings: Settings | None = None) -> Destination:
    """Where notices go with these settings; a malformed ``SMTP_URL`` raises ``BadInput``."""
    settings = settings or get_settings()
    if settings.smtp_url:
        target = parse_smtp_url(settings.smtp_url)
        return Destination("smtp", host=target.host, port=target.port, smtp=target)
    return Destination("outbox", outbox=settings.outbox_dir)
