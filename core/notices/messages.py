"""One notification as an RFC 5322 message: From, To, Subject, Date, Message-ID and the body."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from core.notices.claims import Claimed


def build_message(item: Claimed, *, sender: str, at: datetime) -> EmailMessage:
    """The RFC 5322 message for one notification."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = item.recipient
    msg["Subject"] = item.subject
    msg["Date"] = format_datetime(at)
    domain = sender.rpartition("@")[2].strip(" >") or None
    msg["Message-ID"] = make_msgid(idstring=f"notification-{item.id}", domain=domain)
    # RFC 3834: an automatic message; auto-responders should not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(item.body)
    return msg
