"""``SMTP_URL``: where and how to hand messages to an SMTP server.

Accepted forms::

    smtp://host:port
    smtp://user:pass@host:port            (AUTH after EHLO; quote special characters)
    smtp://host:port?starttls=true         (STARTTLS, certificate verified)
    smtps://host:port                      (implicit TLS, certificate verified)

The port defaults to 25 for ``smtp`` and 465 for ``smtps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from core.platform.errors import BadInput


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to hand messages to SMTP, parsed from ``SMTP_URL``."""

    host: str
    port: int
    ssl: bool = False  # smtps:// - TLS from the first byte (SMTP_SSL)
    starttls: bool = False  # smtp://...?starttls=true
    username: str | None = None
    password: str | None = field(default=None, repr=False)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_smtp_url(url: str) -> SmtpTarget:
    """Parse ``SMTP_URL``; a malformed value raises ``BadInput`` saying what is wrong.

    The message never repeats the URL itself, which may hold a password.
    """

    def bad(what: str) -> BadInput:
        return BadInput(f"SMTP_URL is malformed: {what}.", [what])

    url = (url or "").strip()
    if not url:
        raise bad("it is empty")
    if "://" not in url:
        raise bad("expected smtp://host:port or smtps://host:port")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad(f"the port is not a number from 1 to 65535 ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise bad(f"the scheme must be smtp or smtps, not {scheme or 'empty'!r}")
    host = parts.hostname
    if not host:
        raise bad("the host is missing")
    if port == 0:
        raise bad("the port is not a number from 1 to 65535")
    if parts.path not in ("", "/"):
        raise bad("it must not have a path")
    if parts.fragment:
        raise bad("it must not have a fragment")
    if parts.password is not None and parts.username is None:
        raise bad("a password is given without a user")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and password is None:
        raise bad("a user is given without a password (use smtp://user:pass@host:port)")

    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise bad("the query string is not of the form ?starttls=true") from None
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise bad(f"unknown option {unknown[0]!r} (only starttls is understood)")
    starttls = False
    if "starttls" in query:
        values = query["starttls"]
        value = values[-1].strip().lower()
        if len(values) > 1 or value not in _TRUE | _FALSE:
            raise bad("starttls must be true or false")
        starttls = value in _TRUE
    if scheme == "smtps" and starttls:
        raise bad("starttls cannot be combined with smtps (smtps is already TLS)")

    return SmtpTarget(
        host=host,
        port=port or (465 if scheme == "smtps" else 25),
        ssl=scheme == "smtps",
        starttls=starttls,
        username=username,
        password=password,
    )
