"""What a notice says: the words of each kind, and one notification as an RFC 5322 message.

The words name the mailbox, its brand and what changed, and never a secret; the message
carries them as plain text with From, To, Subject, Date, Message-ID and ``Auto-Submitted``.
"""

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


def reset_notice(*, email: str, brand: str, reason: str) -> tuple[str, str]:
    """The subject and text sent to the customer after a support reset."""
    subject = f"{brand}: two-factor authentication was turned off for {email}"
    body = (
        f"Hello,\n\n"
        f"At your request, {brand} support turned off two-factor authentication (2FA) for "
        f"your mailbox {email} (reason: {reason}).\n\n"
        "You can sign in to webmail with your password alone until you set 2FA up again. "
        "To protect your account, sign in now and set up 2FA with your authenticator app "
        "and a new token.\n\n"
        "If you did not ask for this, contact support at once.\n"
    )
    return subject, body
